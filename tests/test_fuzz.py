"""Fuzzing: random bytes into every reader, random strings into the normaliser. The only acceptable
outcomes are documents, quarantined records with a reason, or mdfs's own typed errors."""

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdfs.config import InputConfig
from mdfs.errors import MdfsError
from mdfs.inputs import plan_shards
from mdfs.readers import PieceReader
from mdfs.textnorm import dedup_key, normalize

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_like = st.lists(st.one_of(st.binary(max_size=200), st.sampled_from(
    [b'{"text": "\xe4\xb8\xad"}', b'{"text": 1}', b"{", b"null", b'{"id": [], "text": "x"}', b"\xff\xfe",
     b'{"text": "\\ud800"}', b"\x00" * 10])), max_size=20).map(b"\n".join)


def read_everything(tmp_path, name: str, payload: bytes):
    path = tmp_path / name
    path.write_bytes(payload)
    cfg = InputConfig(paths=[str(path)], max_doc_mb=0.01)
    try:
        shards, _ = plan_shards(cfg)
    except MdfsError:
        return 0, 0
    reader = PieceReader(cfg, batch_docs=5)
    docs = bad = 0
    for shard in shards:
        for piece in shard.pieces:
            for rb in reader.read(piece):
                docs += rb.table().num_rows
                bad += len(rb.bad)
                assert all(b["reason"] for b in rb.bad)
    return docs, bad


@FUZZ
@given(payload=json_like)
def test_jsonl_reader_never_crashes(tmp_path, payload):
    docs, bad = read_everything(tmp_path, "f.jsonl", payload)
    assert docs + bad <= payload.count(b"\n") + 1


@FUZZ
@given(payload=st.binary(max_size=3000), cut=st.integers(min_value=0, max_value=3000))
def test_compressed_and_text_readers_never_crash(tmp_path, payload, cut):
    read_everything(tmp_path, "g.jsonl.gz", gzip.compress(payload)[:cut])
    read_everything(tmp_path, "z.jsonl.zst", payload)
    read_everything(tmp_path, "t.txt", payload)
    read_everything(tmp_path, "p.parquet", payload)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_normalize_is_idempotent_and_total(text):
    once = normalize(text)
    assert normalize(once) == once
    assert "\r" not in once and "\u200b" not in once
    assert isinstance(dedup_key(once), bytes)
