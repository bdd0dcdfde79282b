"""Shared fixtures: small corpora written by the tests, the shared real data, a tiny real fastText model."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[1]
SHARED = shared_corpora()
TINY = ROOT / "configs" / "tiny.yaml"

CLEAN = [
    "杭州是浙江省的省会，历史悠久，西湖以秀丽的山水闻名天下。每年春天，湖边的柳树发芽，游人如织。",
    "研究人员发现，适量运动能够改善睡眠质量。他们跟踪了三百名志愿者，记录每天的步数和入睡时间。",
    "这道菜的做法很简单：先把土豆切成细丝，用清水泡去淀粉，再用大火快炒，最后加少许醋和盐。",
    "图书馆在周末举办了一场读书会，参加者分享了自己最近读过的小说，并讨论了书中人物的选择。",
    "新的地铁线路开通以后，从城东到城西只需要四十分钟，沿线的居民出行变得方便了许多。",
]


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not found: {path} (put ../shared beside the repo or set MDFS_SHARED)")
    return path


def read_input(config, batch_docs: int) -> tuple[list, list, list]:
    """Plan the shards and read every piece as a run's read step does: (shards, batch tables, the
    quarantined records)."""
    from mdfs.inputs import plan_shards
    from mdfs.readers import PieceReader

    shards, _ = plan_shards(config)
    reader, tables, bad = PieceReader(config, batch_docs=batch_docs), [], []
    for shard in shards:
        for piece in shard.pieces:
            for rb in reader.read(piece):
                tables.append(rb.table())
                bad += rb.bad
    return shards, tables, bad


def rows(tables) -> list[dict]:
    return [r for t in tables for r in t.to_pylist()]


def crash_when(real, when):
    """`real`, raising RuntimeError("simulated crash") on the calls `when(*args)` picks: a work item whose
    worker dies, for the resume tests."""
    def crash(*args, **kwargs):
        if when(*args, **kwargs):
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)
    return crash


def write_jsonl(path: Path, records: list[dict], compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def make_docs(n: int, prefix: str = "doc") -> list[dict]:
    """n Chinese documents; every 5th one repeats an earlier one exactly (exact duplicates)."""
    docs = []
    for i in range(n):
        base = i - 3 if i % 5 == 4 else i
        text = f"第{base}篇。" + CLEAN[base % len(CLEAN)] + CLEAN[(base * 7
                                                                + 1) % len(CLEAN)] + f"编号{base}。"
        docs.append({"id": f"{prefix}-{i:04d}", "text": text, "url": f"https://example{i % 3}.cn/{i}.html"})
    return docs


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder with plain and gzipped JSONL, a text file and some bad records."""
    folder = tmp_path / "in"
    docs = make_docs(60)
    write_jsonl(folder / "a.jsonl", docs[:30])
    write_jsonl(folder / "b.jsonl.gz", docs[30:], compress=True)
    (folder / "c.txt").write_text("一个纯文本文件里的文档。" + CLEAN[0], encoding="utf-8")
    with open(folder / "a.jsonl", "ab") as f:
        f.write(b"{not json\n")
        f.write(json.dumps({"id": "no-text", "body": "x"}).encode() + b"\n")
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A real fastText model trained in a second on written examples (labels __label__hq/__label__lq)."""
    import random

    import fasttext

    from mdfs.textnorm import char_tokens

    rng = random.Random(0)
    junk = ["加微信领取优惠", "点击购买立即下单", "代理加盟月入过万", "扫码关注免费送", "联系电话客服在线"]
    lines = []
    for _ in range(300):
        lines.append("__label__hq " + char_tokens("".join(rng.sample(CLEAN, 2)), 2000))
        lines.append("__label__lq " + char_tokens("".join(rng.choices(junk, k=4)), 2000))
    folder = tmp_path_factory.mktemp("model")
    (folder / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # bucket and dim far below fastText's defaults (2M x 100: a 764 MB file) keep the file about 1 MB
    model = fasttext.train_supervised(str(folder / "train.txt"), epoch=10, wordNgrams=2, thread=1, verbose=0,
                                      seed=1, dim=16, bucket=20_000)
    model.save_model(str(folder / "tiny.bin"))
    return folder / "tiny.bin"


def read_dir(path: Path):
    """All Parquet rows under `path`, sorted by id, as a list of dicts (for output equality)."""
    import pyarrow.dataset as ds

    if not path.exists():
        return []
    table = ds.dataset(str(path), format="parquet").to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["id"], r.get("stage") or ""))


@dataclass
class S3Server:
    """A moto server and its request log, to count what a run asks of the object store."""
    endpoint: str
    log: Path

    def mark(self) -> int:
        return self.log.stat().st_size

    def requests(self, since: int = 0) -> list[tuple[str, str]]:
        """(method, path) of every request logged after `since`, oldest first."""
        with self.log.open("rb") as f:
            f.seek(since)
            text = re.sub(r"\x1b\[[0-9;]*m", "", f.read().decode("utf-8", "replace"))
        return re.findall(r'"([A-Z]+) (\S+) HTTP', text)

    def count(self, since: int = 0) -> Counter:
        return Counter(method for method, _ in self.requests(since))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (moto) on a free port, with the AWS_* variables of this process set."""
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("moto") / "requests.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=sink, stderr=sink)
    endpoint = f"http://127.0.0.1:{port}"
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "mdfs-test-key-id",
           "AWS_SECRET_ACCESS_KEY": "mdfs-test-secret-never-in-manifests",
           "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="corpus")
        yield S3Server(endpoint, log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
