"""The labelled development set of real (and generated) Chinese pages, and the input files to run it.

    python -m tools.models.devset labels            # rewrite configs/eval/zh_dev.jsonl (ids, labels, refs)
    python -m tools.models.devset build DIR         # write DIR/pages.warc.gz and DIR/texts.jsonl.gz
    mdfs run --input DIR --output RUN && mdfs eval RUN --labels configs/eval/zh_dev.jsonl --split test

The labels file holds no text: each row names its source file and locator in `../shared/corpora`, or,
for a generated page, the generator and seed (`junkgen.py`). Labelling rules: docs/eval.md. Real pages of
magic-html, gne, gerapy, casia and the Common Crawl excerpt were labelled one by one
(`devset_annotations.jsonl`); corpora that are clean or junk as a whole are labelled by source.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

from tools.models import corpora
from tools.models import junkgen

HERE = Path(__file__).resolve().parent
LABELS = corpora.REPO / "configs" / "eval" / "zh_dev.jsonl"
ANNOTATIONS = HERE / "devset_annotations.jsonl"
# How many documents of the large families enter the set (chosen by a hash of the id).
QUOTA = {"wiki-cmrc": 60, "wiki-drcd": 60, "ruanyf": 100, "abstracts": 120, "spider-pool": 100, "poetry": 60}
SYNTHETIC_PER_KIND = {"train": 30, "test": 30}
VICE_WORDS = ("赌", "博彩", "彩票", "色情", "卖淫", "性病", "艾滋", "娼")


def _pick(source_id: str) -> float:
    return int(hashlib.sha1(source_id.encode()).hexdigest()[:8], 16) / 2**32


def _default_label(s: corpora.Source) -> tuple[str, str]:
    if s.family == "spider-pool":
        return "drop", "content_farm"
    if s.family.startswith("wiki") and any(w in (s.text or "") for w in VICE_WORDS):
        return "keep", "vice_topic"  # encyclopedic text about gambling, prostitution, disease
    kinds = {"ruanyf": "technical", "abstracts": s.kind, "poetry": s.kind}  # poetry: verse
    return "keep", kinds.get(s.family, "encyclopedic")


def _group_key(group: str) -> str:
    """A short hash: groups can be Wikipedia titles, which are corpus text and stay out of the repo."""
    return hashlib.sha1(group.encode()).hexdigest()[:12]


def real_rows() -> list[dict]:
    notes = {}
    if ANNOTATIONS.exists():
        notes = {r["id"]: r for r in map(json.loads, ANNOTATIONS.read_text(encoding="utf-8").splitlines())}
    by_family: dict[str, list[corpora.Source]] = {}
    for s in corpora.sources():
        if s.family in QUOTA or s.id in notes:
            by_family.setdefault(s.family, []).append(s)
    rows = []
    for family, items in by_family.items():
        if family in QUOTA:
            vice = [s for s in items if _default_label(s)[1] == "vice_topic"]
            items = sorted(items, key=lambda s: _pick(s.id))[:QUOTA[family]]
            items += [s for s in vice if s not in items]
        for s in items:
            note = notes.get(s.id)
            label, category = (note["label"], note["category"]) if note else _default_label(s)
            rows.append({"id": s.id, "family": s.family, "group": _group_key(s.group), "split": s.split,
                         "label": label, "category": category, "ref": s.ref})
    return rows


def synthetic_rows() -> list[dict]:
    rows = []
    for split, n in SYNTHETIC_PER_KIND.items():
        for kind, (category, _) in junkgen.GENERATORS.items():
            for seed in range(n):
                rows.append({"id": f"gen-{kind}-{split}-{seed}", "family": f"generated-{kind}",
                             "group": f"{split}-{seed}", "split": split, "label": "drop",
                             "category": category, "ref": f"generated:{kind}:{split}:{seed}"})
    return rows


def generation_pools(split: str) -> junkgen.Pools:
    """Clean documents of one split side that generated pages are made of, prepared as the pipeline
    would (normalised, Simplified), so that spinning and keyword rules see the words spammers see."""
    from mdfs.quality.model import PrepareConfig, prepare_function

    prep = prepare_function(PrepareConfig())
    docs = [(prep(s.title or s.text.split("\n", 1)[0][:30]), prep(s.text))
            for s in corpora.sources("wiki", "abstracts", "magic-html", "ruanyf")
            if s.split == split and s.text and len(s.text) >= 80]
    return junkgen.load_pools(docs, split)


def write_labels(path: Path = LABELS) -> list[dict]:
    rows = sorted(real_rows(), key=lambda r: (r["family"], r["id"])) + synthetic_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def _warc_record(record_id: str, url: str, http: bytes) -> bytes:
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <{record_id}>\r\n"
            f"WARC-Target-URI: {url}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n")
    return gzip.compress(head.encode() + http + b"\r\n\r\n", mtime=0)


def _http(html: str) -> bytes:
    body = html.encode("utf-8")
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def farm_domains(split: str) -> list[str]:
    """Content-farm domains of one split side (half of the shared blocklists each)."""
    path = corpora.corpora_dir() / "spam/content-farm-domains/domains.jsonl"
    hosts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        host = json.loads(line)["domain"].split("://")[-1].split("/")[0].lstrip("*.")
        if "." in host and "*" not in host and corpora.side("farm-domain", host, 50) == split:
            hosts.append(host)
    return sorted(set(hosts))


def _farm_url(doc_id: str, domains: list[str]) -> str | None:
    """Half of the generated pages come with a URL on a listed content-farm domain, half with none."""
    h = int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16)
    return f"http://{domains[h % len(domains)]}/{h % 10000}.html" if h % 2 and domains else None


def build(out: Path, labels: Path = LABELS) -> dict[str, int]:
    return materialize(out, [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()])


def materialize(out: Path, rows: list[dict]) -> dict[str, int]:
    """Write every labelled document: web pages into one WARC (their record id is the label id),
    text documents into one JSONL with `id`, `text` and `url`."""
    wanted = {r["id"]: r for r in rows}
    out.mkdir(parents=True, exist_ok=True)
    pages, texts = [], []
    for s in corpora.sources():
        if s.id not in wanted:
            continue
        url = s.url or f"http://{s.group}.invalid/{s.id}"
        if s.http is not None:
            pages.append(_warc_record(s.id, url, s.http))
        elif s.html is not None:
            pages.append(_warc_record(s.id, url, _http(s.html)))
        else:
            texts.append({"id": s.id, "text": s.text, "url": s.url})
    pools, domains = {}, {}
    for r in rows:
        if r["ref"].startswith("generated:"):
            _, kind, split, seed = r["ref"].split(":")
            if split not in pools:
                pools[split] = generation_pools(split)
                domains[split] = farm_domains(split)
            texts.append({"id": r["id"], "text": junkgen.generate(kind, int(seed), pools[split]),
                          "url": _farm_url(r["id"], domains[split])})
    (out / "pages.warc.gz").write_bytes(b"".join(pages))
    with gzip.open(out / "texts.jsonl.gz", "wt", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    return {"pages": len(pages), "texts": len(texts), "labels": len(rows)}


if __name__ == "__main__":
    if sys.argv[1:2] == ["labels"]:
        rows = write_labels()
        print(f"{len(rows)} labels -> {LABELS}")
    elif sys.argv[1:2] == ["build"] and len(sys.argv) == 3:
        print(build(Path(sys.argv[2])))
    else:
        sys.exit(__doc__)
