"""Bounded, honest reading (#14, item 4): decompression bombs, pathological JSON, damaged streams, BOMs,
UTF-16/GBK JSONL and binary Parquet text columns. Every bad input is built here, in tmp_path."""

from __future__ import annotations

import codecs
import gzip
import json
import random
import re
import time
import tracemalloc
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from mdfs.config import InputConfig

from .conftest import read_input, rows
from .test_warc import PAGE, response, warc_bytes

MB = 1 << 20
WORDS = ["杭州", "西湖", "省会", "闻名", "天下", "的", "是", "在", "中国", "文化", "历史", "春天", "，", "。"]


def records(n: int, seed: int = 0) -> list[dict]:
    rnd = random.Random(seed)
    return [{"id": f"r{i}", "text": "".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 60)))}
            for i in range(n)]


def jsonl(recs: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()


def read(path, **cfg):
    _, tables, bad = read_input(InputConfig(paths=[str(path)], **cfg), batch_docs=50)
    return rows(tables), bad


def measured(fn, warm_up):
    """fn's result, its wall time and the peak of Python allocations while it ran. `warm_up` runs first,
    untraced, so one-time costs (lazy imports, caches) are not counted."""
    warm_up()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = fn()
        return out, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def streamed(compressor, parts) -> bytes:
    """Compress a long byte sequence given as parts, never holding it whole."""
    out = [compressor.compress(p) for p in parts]
    return b"".join(out) + compressor.flush()


def compressor_for(ext: str):
    return zlib.compressobj(9, zlib.DEFLATED, 31) if ext == "gz" else zstandard.ZstdCompressor().compressobj()


# -- 1. decompression stops at max_doc_mb, in bounded memory ------------------------------------------------

@pytest.mark.parametrize("ext", ["gz", "zst"])
def test_one_huge_compressed_line_is_too_large_and_its_neighbours_are_read(tmp_path, ext):
    before, after = records(3), records(3, seed=1)
    for r in after:
        r["id"] += "-after"
    huge = [b'{"id": "huge", "text": "', *[b"a" * MB] * 128, b'"}\n']  # 128 MB inflated
    data = streamed(compressor_for(ext), [jsonl(before), *huge, jsonl(after)])
    assert len(data) < 600_000
    path = tmp_path / f"bomb.jsonl.{ext}"
    path.write_bytes(data)
    small = tmp_path / f"small.jsonl.{ext}"
    small.write_bytes(streamed(compressor_for(ext), [jsonl(before)]))
    (docs, bad), seconds, peak = measured(lambda: read(path, max_doc_mb=2), lambda: read(small))
    assert [d["id"] for d in docs] == [r["id"] for r in before + after]
    assert [(b["reason"], b["id"]) for b in bad] == [("too_large", f"bomb.jsonl.{ext}@{len(jsonl(before))}")]
    assert f"record of {128 * MB + 27} bytes" in bad[0]["detail"] and len(bad[0]["text"]) <= 2000
    assert peak < 6 * 2 * MB, f"peak {peak / MB:.1f} MB"  # never the 128 MB line
    assert seconds < 10


def test_a_huge_line_in_a_plain_jsonl_split_into_pieces_is_read_once(tmp_path):
    recs = records(20)
    path = tmp_path / "long.jsonl"
    with open(path, "wb") as f:
        f.write(jsonl(recs[:10]))
        f.write(b'{"id": "long", "text": "' + b"b" * (8 * MB) + b'"}\n')
        f.write(jsonl(recs[10:]))
    (docs, bad), _, peak = measured(lambda: read(path, max_doc_mb=1, shard_size_mb=0.5), lambda: read(path))
    assert [d["id"] for d in docs] == [r["id"] for r in recs]
    assert [b["reason"] for b in bad] == ["too_large"]
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MB"


def test_a_gzip_http_body_bomb_in_a_warc_is_too_large_quickly(tmp_path):
    bomb = streamed(zlib.compressobj(9, zlib.DEFLATED, 31), [b"<html><body>", *[b"a" * MB] * 200])
    assert len(bomb) < 300_000  # 0.2 MB that inflates to 200 MB
    recs = [response("http://a.cn/ok", PAGE.encode("gbk")),
            response("http://a.cn/bomb", bomb, extra_headers="Content-Encoding: gzip\r\n"),
            response("http://a.cn/after", PAGE.encode("gbk"))]
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(warc_bytes(recs))
    small = tmp_path / "small.warc.gz"
    small.write_bytes(warc_bytes(recs[:1]))
    (docs, bad), seconds, peak = measured(lambda: read(path, max_doc_mb=1), lambda: read(small))
    assert [d["url"] for d in docs] == ["http://a.cn/ok", "http://a.cn/after"]
    assert [b["reason"] for b in bad] == ["too_large"]
    assert "http://a.cn/bomb" in bad[0]["detail"] and "decoding stopped" in bad[0]["detail"]
    assert seconds < 5, f"{seconds:.1f} s"
    assert peak < 5 * MB, f"peak {peak / MB:.1f} MB"


# -- 2. pathological JSON is one record's problem --------------------------------------------------------

def test_pathological_json_is_quarantined_alone(tmp_path):
    lines = [b'{"id": "first", "text": "\xe7\xac\xac\xe4\xb8\x80"}',
             b'{"id": "big-int", "text": "x", "n": ' + b"7" * 5000 + b"}",
             b"[" * 100_000 + b"]" * 100_000,
             b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
             b"[1, 2, 3]",
             b'"just a string"',
             b'{"id": "last", "text": "\xe6\x9c\x80\xe5\x90\x8e"}']
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    docs, bad = read(path)
    assert [d["id"] for d in docs] == ["first", "last"]
    assert [b["reason"] for b in bad] == ["malformed_json"] * 5
    details = [b["detail"] for b in bad]
    assert "integer string conversion" in details[0]
    assert "nested deeper" in details[1] and "nested deeper" in details[2]
    assert "a JSON list, not an object" in details[3] and "a JSON str, not an object" in details[4]
    offsets = [sum(len(x) + 1 for x in lines[:i]) for i in range(1, 6)]
    assert [b["id"] for b in bad] == [f"odd.jsonl@{o}" for o in offsets]


# -- 3. damaged and truncated streams: keep what is certain, invent nothing -------------------------------

def flip_a_bit_near_the_middle(data: bytes, seed: int, spread: int) -> tuple[bytes, int]:
    """`data` with one bit flipped within `spread` bytes of its middle, and where."""
    rnd = random.Random(seed)
    damaged = bytearray(data)
    at = len(damaged) // 2 + rnd.randint(-spread, spread)
    damaged[at] ^= 1 << rnd.randint(0, 7)
    return bytes(damaged), at


def complete_lines(prefix: bytes) -> int:
    return prefix.count(b"\n")


def gzip_prefix(data: bytes, upto: int) -> bytes:
    """What a damaged gzip file decodes to from the bytes before its damage (all of them are right)."""
    out, d, data = [], None, data[:upto]
    while data:
        d = d or zlib.decompressobj(wbits=31)
        out.append(d.decompress(data))
        data, d = (d.unused_data, None) if d.eof else (b"", d)
    return b"".join(out)


def zstd_prefix(data: bytes, upto: int) -> bytes:
    d = zstandard.ZstdDecompressor().decompressobj()
    try:
        return d.decompress(data[:upto])
    except zstandard.ZstdError:
        return b""


def check_no_invention(docs, recs):
    by_id = {r["id"]: r["text"] for r in recs}
    assert [d["id"] for d in docs] == [r["id"] for r in recs[: len(docs)]]  # in order, nothing new
    assert all(d["text"] == by_id[d["id"]] for d in docs)


@pytest.mark.parametrize("seed", range(6))
def test_gzip_damaged_in_the_middle_keeps_the_records_before_and_invents_none(tmp_path, seed):
    recs = records(300, seed)
    data, at = flip_a_bit_near_the_middle(gzip.compress(jsonl(recs), mtime=0), seed, 200)
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(data)
    docs, bad = read(path)
    check_no_invention(docs, recs)
    assert len(docs) >= complete_lines(gzip_prefix(data, at))
    assert len(docs) < len(recs)
    assert [b["reason"] for b in bad] == ["corrupt_file"]
    end_of_kept = len(jsonl(recs[: len(docs)]))
    assert f"unreadable from byte {end_of_kept} of the decompressed stream" in bad[0]["detail"]
    assert bad[0]["id"] == f"damaged.jsonl.gz@{end_of_kept}" and str(path) in bad[0]["detail"]


def test_multi_member_gzip_keeps_every_member_before_the_damaged_one(tmp_path):
    recs = records(300, 7)
    members = [gzip.compress(jsonl(recs[i: i + 100]), mtime=0) for i in (0, 100, 200)]
    data = bytearray(b"".join(members))
    data[len(members[0]) + len(members[1]) // 2] ^= 0x10
    path = tmp_path / "members.jsonl.gz"
    path.write_bytes(bytes(data))
    docs, bad = read(path)
    check_no_invention(docs, recs)
    assert 100 <= len(docs) < 200 and [b["reason"] for b in bad] == ["corrupt_file"]
    assert f"member or zstd frame starts at byte {len(jsonl(recs[:100]))}" in bad[0]["detail"]


@pytest.mark.parametrize("ext", ["gz", "zst"])
def test_truncated_stream_keeps_every_complete_record(tmp_path, ext):
    recs = records(400, 3)
    raw = jsonl(recs)
    data = gzip.compress(raw, mtime=0) if ext == "gz" else zstandard.ZstdCompressor().compress(raw)
    cut = data[: len(data) * 2 // 3]
    path = tmp_path / f"cut.jsonl.{ext}"
    path.write_bytes(cut)
    docs, bad = read(path)
    prefix = gzip_prefix(cut, len(cut)) if ext == "gz" else zstd_prefix(cut, len(cut))
    check_no_invention(docs, recs)
    assert len(docs) == complete_lines(prefix)
    assert [b["reason"] for b in bad] == ["corrupt_file"] and "truncated" in bad[0]["detail"]
    assert f"from byte {len(jsonl(recs[: len(docs)]))}" in bad[0]["detail"]


@pytest.mark.parametrize("seed", range(6))
def test_damaged_zstd_keeps_the_records_before_and_invents_none(tmp_path, seed):
    recs = records(2000, seed)
    data, at = flip_a_bit_near_the_middle(zstandard.ZstdCompressor(write_checksum=True).compress(jsonl(recs)),
                                          seed, 300)
    path = tmp_path / "damaged.jsonl.zst"
    path.write_bytes(data)
    docs, bad = read(path)
    check_no_invention(docs, recs)
    assert len(docs) >= complete_lines(zstd_prefix(data, at))
    assert len(docs) < len(recs) and [b["reason"] for b in bad] == ["corrupt_file"]
    assert "damaged.jsonl.zst: unreadable from byte" in bad[0]["detail"]


def test_damaged_gzip_warc_member_is_cut_where_it_starts(tmp_path):
    pages = [response(f"http://a.cn/{i}", (PAGE + f"<p>第{i}页</p>" * 50).encode("gbk")) for i in range(5)]
    members = [warc_bytes([p]) for p in pages]
    data = bytearray(b"".join(members))
    start = sum(len(m) for m in members[:3])
    data[start + len(members[3]) // 2] ^= 0x04  # inside the payload of record 3
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(bytes(data))
    docs, bad = read(path)
    assert [d["url"] for d in docs] == [f"http://a.cn/{i}" for i in range(3)]
    assert [b["reason"] for b in bad] == ["corrupt_file"]
    assert "damaged member starts at byte" in bad[0]["detail"]


# -- 4. and 5. BOMs and whole-file encodings ---------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_utf8_bom_is_tolerated(tmp_path, compress):
    recs = records(5)
    raw = codecs.BOM_UTF8 + jsonl(recs)
    path = tmp_path / ("bom.jsonl.gz" if compress else "bom.jsonl")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    docs, bad = read(path)
    assert not bad and [(d["id"], d["text"]) for d in docs] == [(r["id"], r["text"]) for r in recs]
    docs, _ = read(path, id_field=None)
    assert docs[0]["id"] == f"{path.name}@0"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("compress", [False, True])
def test_utf16_jsonl_with_bom_is_decoded(tmp_path, encoding, compress):
    recs = records(300)
    recs[7]["text"] += "𠀀𪚥"  # outside the BMP: surrogate pairs in UTF-16
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF16_BE
    raw = bom + jsonl(recs).decode().encode(encoding)
    path = tmp_path / ("u16.jsonl.gz" if compress else "u16.jsonl")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    config = {} if compress else {"shard_size_mb": 0.005}  # the plain file is cut into byte ranges
    docs, bad = read(path, **config)
    assert not bad and [(d["id"], d["text"]) for d in docs] == [(r["id"], r["text"]) for r in recs]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
@pytest.mark.parametrize("compress", [False, True])
def test_gbk_jsonl_is_decoded_as_a_whole_file(tmp_path, encoding, compress):
    recs = records(200)
    recs[3]["text"] = "ASCII only line"
    raw = jsonl(recs).decode().encode(encoding)
    path = tmp_path / ("gbk.jsonl.gz" if compress else "gbk.jsonl")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    docs, bad = read(path, **({} if compress else {"shard_size_mb": 0.005}))
    assert not bad and [(d["id"], d["text"]) for d in docs] == [(r["id"], r["text"]) for r in recs]


def test_a_file_in_no_known_encoding_is_one_reject(tmp_path):
    big5 = "".join(json.dumps({"id": i, "text": "臺灣的歷史與文化，繁體中文書寫。"},
                              ensure_ascii=False) + "\n"
                   for i in range(105)).encode("big5")
    (tmp_path / "big5.jsonl").write_bytes(big5)
    utf32 = codecs.BOM_UTF32_LE + jsonl(records(20)).decode().encode("utf-32-le")
    (tmp_path / "u32.jsonl").write_bytes(utf32)
    latin = "".join(json.dumps({"id": i, "text": "Café crème, brûlée à la façon"}, ensure_ascii=False) + "\n"
                    for i in range(50))
    (tmp_path / "latin.jsonl").write_bytes(latin.encode("cp1252"))
    docs, bad = read(tmp_path, shard_size_mb=0.002)
    assert docs == []
    assert sorted((b["id"], b["reason"]) for b in bad) == [
        ("big5.jsonl", "undecodable_file"), ("latin.jsonl", "undecodable_file"),
        ("u32.jsonl", "undecodable_file")]
    assert all("the whole file is skipped" in b["detail"] for b in bad)


def test_a_utf8_file_with_a_few_gbk_lines_stays_utf8(tmp_path):
    recs = records(20)
    lines = jsonl(recs).splitlines(keepends=True)
    lines[5] = '{"id": "gbk", "text": "中文"}\n'.encode("gbk")
    (tmp_path / "mixed.jsonl").write_bytes(b"".join(lines))
    docs, bad = read(tmp_path)
    assert len(docs) == 19 and [b["reason"] for b in bad] == ["invalid_utf8"]


# -- 6. binary Parquet text columns ------------------------------------------------------------------------

def test_binary_parquet_text_column_is_decoded_or_quarantined(tmp_path):
    texts = ["第一篇".encode(), b"\xff\xfe not utf-8", None, "第四篇".encode()]
    table = pa.table({"id": pa.array([b"a", b"b", b"c", b"d"], pa.binary()),
                      "text": pa.array(texts, pa.binary())})
    pq.write_table(table, tmp_path / "bin.parquet")
    pq.write_table(table.cast(pa.schema([("id", pa.large_binary()), ("text", pa.large_binary())])),
                   tmp_path / "large.parquet")
    docs, bad = read(tmp_path)
    assert [(d["id"], d["text"]) for d in docs] == [("a", "第一篇"), ("d", "第四篇")] * 2
    assert [(b["id"], b["reason"]) for b in bad] == [("b", "invalid_utf8"), ("c", "missing_text")] * 2
    assert re.search(r"bin.parquet: row 1: binary column 'text' is not UTF-8: 'utf-8' codec can't decode "
                     r"byte 0xff in position 0", bad[0]["detail"])
    assert "'text' is null" in bad[1]["detail"]


# -- end to end: a run over all of it conserves every record and names every reason -----------------------

def test_a_run_over_odd_inputs_conserves_every_record(tmp_path, tiny_model):
    import mdfs

    from .conftest import TINY, make_docs

    folder = tmp_path / "in"
    folder.mkdir()
    docs = make_docs(40)
    (folder / "bom.jsonl").write_bytes(codecs.BOM_UTF8 + jsonl(docs[:10]))
    (folder / "u16.jsonl").write_bytes(codecs.BOM_UTF16_LE + jsonl(docs[10:20]).decode().encode("utf-16-le"))
    (folder / "gbk.jsonl.gz").write_bytes(gzip.compress(jsonl(docs[20:30]).decode().encode("gbk")))
    (folder / "odd.jsonl").write_bytes(b'{"text": 1' + b"0" * 5000 + b"}\n" + b"[" * 100_000 + b"\n")
    (folder / "big5.jsonl").write_bytes("".join(json.dumps({"text": "臺灣的歷史與文化。"},
                                                           ensure_ascii=False) + "\n"
                                                for _ in range(105)).encode("big5"))
    cut = gzip.compress(jsonl(docs[30:40]), mtime=0)
    (folder / "cut.jsonl.gz").write_bytes(cut[: len(cut) * 2 // 3])
    s = mdfs.run(str(TINY), str(folder), str(tmp_path / "out"), engine="serial", progress=False,
                 overrides=[f"stages.quality.model={tiny_model}"])
    reasons = s.stages["read"].reasons
    assert reasons == {"malformed_json": 2, "undecodable_file": 1, "corrupt_file": 1}
    kept_from_cut = s.docs_in - 30 - 4  # 30 documents read whole, 4 rejects
    assert 0 < kept_from_cut < 10 and s.docs_in == s.docs_out + s.rejected


def test_a_cut_single_member_warc_gz_keeps_its_complete_records(tmp_path):
    pages = [response(f"http://a.cn/{i}", (PAGE + f"<p>第{i}页</p>" * 50).encode("gbk")) for i in range(10)]
    plain = warc_bytes(pages, gz=False)
    data = gzip.compress(plain, mtime=0)  # `gzip file.warc`: one member for the whole file
    cut = data[: len(data) * 3 // 4]
    path = tmp_path / "one-member.warc.gz"
    path.write_bytes(cut)
    decoded = len(zlib.decompressobj(wbits=31).decompress(cut))
    starts = [m.start() for m in re.finditer(rb"WARC/1\.1\r\n", plain)] + [len(plain)]
    whole = sum(end <= decoded for end in starts[1:])
    docs, bad = read(path)
    assert 3 <= whole < 10
    assert [d["url"] for d in docs] == [f"http://a.cn/{i}" for i in range(whole)]
    assert [b["reason"] for b in bad] == ["truncated_record", "corrupt_file"]
    assert f"after byte {decoded} of the decompressed stream" in bad[1]["detail"]
