"""Fuzzing: random bytes into every reader, random strings into the normaliser. The only acceptable
outcomes are documents, quarantined records with a reason, or mdfs's own typed errors."""

import gzip
import json

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdfs.config import InputConfig
from mdfs.errors import MdfsError
from mdfs.inputs import plan_shards
from mdfs.readers import PieceReader
from mdfs.textnorm import dedup_key, normalize

from .test_reading import gzip_prefix, zstd_prefix
from .test_warc import PAGE, response, warc_bytes

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


# -- compressed JSONL and WARC: damage costs what follows it, never what precedes it, and invents nothing --

DAMAGE = settings(max_examples=150, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
texts = st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda t: "字" + t),
                 min_size=1, max_size=40)
flips = st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)), max_size=3)
cuts = st.one_of(st.none(), st.integers(min_value=0))


def damage(data: bytes, flips, cut) -> tuple[bytes, int]:
    """The data with bytes flipped and maybe cut short, and the offset of the first damaged byte."""
    out = bytearray(data)
    for pos, xor in flips:
        out[pos % len(out)] ^= xor
    if cut is not None:
        out = out[: cut % (len(out) + 1)]
    first = next((i for i, (a, b) in enumerate(zip(out, data)) if a != b), len(out))
    return bytes(out), first


def read_pieces(path, **cfg):
    config = InputConfig(paths=[str(path)], **cfg)
    shards, _ = plan_shards(config)
    docs, bad = [], []
    for shard in shards:
        for piece in shard.pieces:
            for rb in PieceReader(config, batch_docs=7).read(piece):
                docs += rb.table().to_pylist()
                bad += rb.bad
    assert all(b["reason"] and b["detail"] for b in bad if b["reason"] != "empty_text")
    return docs, bad


@DAMAGE
@given(texts=texts, codec=st.sampled_from(["gzip", "gzip-members", "zstd"]), flips=flips, cut=cuts)
def test_damaged_compressed_jsonl_keeps_what_precedes_the_damage(tmp_path, texts, codec, flips, cut):
    recs = [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]
    lines = [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in recs]
    if codec == "zstd":
        members = [zstandard.ZstdCompressor(write_checksum=True).compress(b"".join(lines))]
    elif codec == "gzip":
        members = [gzip.compress(b"".join(lines), mtime=0)]
    else:
        members = [gzip.compress(b"".join(lines[i: i + 5]), mtime=0) for i in range(0, len(lines), 5)]
    data = b"".join(members)
    damaged, first = damage(data, flips, cut)
    path = tmp_path / ("f.jsonl.zst" if codec == "zstd" else "f.jsonl.gz")
    path.write_bytes(damaged)
    docs, bad = read_pieces(path)
    prefix = zstd_prefix(damaged, first) if codec == "zstd" else gzip_prefix(damaged, first)
    intact = prefix.count(b"\n")  # records wholly decoded from bytes before the damage
    ids = [d["id"] for d in docs]
    assert len(docs) + len(bad) >= intact
    assert ids[:intact] == [r["id"] for r in recs[:intact]]
    assert [d["text"] for d in docs[:intact]] == texts[:intact]
    # nothing beyond the damaged member; inside it, a flipped literal that keeps the JSON well formed
    # cannot be told apart (a gzip member's CRC, a zstd frame's checksum, is checked at its end only)
    corrupt = [b for b in bad if b["reason"] == "corrupt_file"]
    assert len(corrupt) <= 1
    if corrupt and codec == "gzip-members":  # (a flip in a header's mtime or OS byte does no harm)
        last = max([i for i, (a, b) in enumerate(zip(damaged, data)) if a != b] + [len(damaged)])
        last_member = sum(len(b"".join(members[: i + 1])) <= last for i in range(len(members)))
        assert len(docs) <= (last_member + 1) * 5
    if not any(b["reason"] == "corrupt_file" for b in bad):  # every checksum passed; a cut may fall between
        expected = [(r["id"], r["text"]) for r in recs[: len(docs)]]  # members
        assert [(d["id"], d["text"]) for d in docs] == expected
    if damaged == data:
        assert not bad


BODIES = {f"http://f.cn/{i}": (PAGE + f"<p>{i}</p>" * (i * 40)).encode() for i in range(5)}


def fixed_response(i: int, url: str, body: bytes):
    rec = response(url, body)  # FastWARC stamps a fresh record id and date: fix them, for reproducible bytes
    rec.headers["WARC-Record-ID"] = f"<urn:uuid:00000000-0000-0000-0000-{i:012d}>"
    rec.headers["WARC-Date"] = "2024-01-01T00:00:00Z"
    return rec


WARC_MEMBERS = {gz: [warc_bytes([fixed_response(i, url, body)], gz=gz)
                     for i, (url, body) in enumerate(BODIES.items())]
                for gz in (False, True)}


@DAMAGE
@given(n=st.integers(min_value=1, max_value=5), gz=st.booleans(), flips=flips, cut=cuts)
def test_damaged_warc_never_raises_and_accounts_for_records_before_the_damage(tmp_path, n, gz, flips, cut):
    members = WARC_MEMBERS[gz][:n]
    data = b"".join(members)
    damaged, first = damage(data, flips, cut)
    path = tmp_path / ("f.warc.gz" if gz else "f.warc")
    path.write_bytes(damaged)
    docs, bad = read_pieces(path, max_doc_mb=0.05)
    intact = sum(len(b"".join(members[: i + 1])) <= first for i in range(n))  # records before the damage
    assert len(docs) <= n and len(docs) + len(bad) >= intact
    if gz:  # a damaged member is cut where it starts: every page is one of the input's, whole
        urls = [d["url"] for d in docs]
        assert urls[:intact] == list(BODIES)[:intact] and len(set(urls)) == len(urls)
        assert all(BODIES.get(d["url"]) == d["raw"] for d in docs)


@FUZZ
@given(payload=st.binary(max_size=4000), gz=st.booleans())
def test_warc_reader_never_crashes_on_random_bytes(tmp_path, payload, gz):
    data = gzip.compress(payload, mtime=0) if gz else payload
    read_everything(tmp_path, "w.warc.gz" if gz else "w.warc", data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=30),
       shard=st.integers(min_value=200, max_value=4000), utf16=st.booleans())
def test_plain_jsonl_cut_into_byte_ranges_reads_every_line_once(tmp_path, sizes, shard, utf16):
    recs = [{"id": f"r{i}", "text": "字" + "文" * n} for i, n in enumerate(sizes)]
    lines = [(json.dumps(r, ensure_ascii=False) + "\n").encode("utf-16-le" if utf16 else "utf-8")
             for r in recs]
    if utf16:
        lines[0] = b"\xff\xfe" + lines[0]
    path = tmp_path / "split.jsonl"
    path.write_bytes(b"".join(lines))
    docs, bad = read_pieces(path, shard_size_mb=shard / 2**20, max_doc_mb=4000 / 2**20)
    assert [d["id"] for d in docs] == [r["id"] for r, line in zip(recs, lines) if len(line) <= 4000]
    assert [b["id"] for b in bad] == [f"split.jsonl@{sum(map(len, lines[:i]))}"
                                      for i, line in enumerate(lines) if len(line) > 4000]
    assert {b["reason"] for b in bad} <= {"too_large"}
