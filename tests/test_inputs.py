"""Input discovery, shard planning and the readers, including every kind of bad input."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from mdfs.config import InputConfig
from mdfs.errors import InputError
from mdfs.inputs import plan_shards
from mdfs.readers import decode_text

from .conftest import make_docs, read_input, rows, write_jsonl


def read_all(cfg: InputConfig):
    shards, tables, bad = read_input(cfg, batch_docs=7)
    return shards, rows(tables), bad


def test_large_jsonl_is_split_by_size_without_losing_or_repeating_lines(tmp_path):
    docs = make_docs(500)
    write_jsonl(tmp_path / "big.jsonl", docs)
    cfg = InputConfig(paths=[str(tmp_path)], shard_size_mb=0.01)
    shards, got, bad = read_all(cfg)
    assert len(shards) > 5 and not bad
    assert [d["id"] for d in got] == [d["id"] for d in docs]
    assert plan_shards(cfg)[0] == shards  # deterministic


def test_one_file_below_the_shard_size_is_cut_for_min_shards_and_never_below_min_shard_mb(tmp_path):
    docs = make_docs(2000)
    write_jsonl(tmp_path / "one.jsonl", docs)
    size = (tmp_path / "one.jsonl").stat().st_size
    fine = InputConfig(paths=[str(tmp_path)], min_shards=8, min_shard_mb=size / 2**20 / 100)
    shards, got, bad = read_all(fine)
    assert len(shards) in (8, 9) and not bad  # the last piece may end at a line a little past the cut
    assert [d["id"] for d in got] == [d["id"] for d in docs]
    floor = InputConfig(paths=[str(tmp_path)], min_shards=8, min_shard_mb=size / 2**20 / 3)
    assert len(plan_shards(floor)[0]) in (3, 4)
    assert len(plan_shards(InputConfig(paths=[str(tmp_path)], min_shards=1))[0]) == 1


def test_formats_folders_and_globs(tmp_path):
    docs = make_docs(9)
    write_jsonl(tmp_path / "d/a.jsonl", docs[:3])
    write_jsonl(tmp_path / "d/sub/b.jsonl.gz", docs[3:6], compress=True)
    (tmp_path / "d/c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs[6:]).encode()))
    (tmp_path / "d/page.txt").write_text("一页文本", encoding="utf-8")
    (tmp_path / "d/readme.md").write_text("not an input")
    pq.write_table(pa.table({"text": ["表格里的文本"], "id": ["p1"]}), tmp_path / "d/t.parquet")
    _, got, _ = read_all(InputConfig(paths=[str(tmp_path / "d")]))
    ids = {d["id"] for d in got}
    assert ids == {d["id"] for d in docs} | {"page.txt", "p1"}
    assert {d["source"] for d in got} >= {"a.jsonl", "sub/b.jsonl.gz", "c.jsonl.zst", "page.txt", "t.parquet"}
    _, got, _ = read_all(InputConfig(paths=[str(tmp_path / "d" / "*.jsonl*")]))
    assert len(got) == 6
    with pytest.raises(InputError, match="unknown input format"):
        plan_shards(InputConfig(paths=[str(tmp_path / "d/readme.md")]))
    with pytest.raises(InputError, match="input not found"):
        plan_shards(InputConfig(paths=[str(tmp_path / "nope")]))


def test_default_ids_are_stable_positions(tmp_path):
    write_jsonl(tmp_path / "x.jsonl", [{"text": "甲"}, {"text": "乙"}])
    _, got, _ = read_all(InputConfig(paths=[str(tmp_path)], id_field=None))
    assert [d["id"] for d in got] == ["x.jsonl@0", "x.jsonl@16"]


def test_bad_records_are_quarantined_with_reasons(tmp_path):
    lines = [json.dumps({"id": "ok", "text": "好的文本"}, ensure_ascii=False).encode(),
             b"{broken", b"[1, 2]", json.dumps({"id": "nt", "title": "x"}).encode(),
             json.dumps({"id": "e", "text": "  "}).encode(),
             '{"id": "gbk", "text": "中文"}'.encode("gbk"),
             json.dumps({"id": "huge", "text": "大" * 2_000_000}, ensure_ascii=False).encode()]
    (tmp_path / "bad.jsonl").write_bytes(b"\n".join(lines) + b"\n\n")
    _, got, bad = read_all(InputConfig(paths=[str(tmp_path)], max_doc_mb=1))
    assert [d["id"] for d in got] == ["ok"]
    reasons = {b["reason"] for b in bad}
    assert reasons == {"malformed_json", "missing_text", "empty_text", "invalid_utf8", "too_large"}
    assert all(str(tmp_path / "bad.jsonl") in b["detail"] for b in bad if b["reason"] != "empty_text")
    assert max(len(b["text"]) for b in bad) <= 2000


def test_corrupt_gzip_keeps_what_was_readable_and_quarantines_the_rest(tmp_path):
    data = gzip.compress("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in make_docs(200)).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 100)
    _, got, bad = read_all(InputConfig(paths=[str(tmp_path)]))
    assert 0 < len(got) < 200
    assert sorted(b["reason"] for b in bad) == ["corrupt_file", "corrupt_file"]
    assert any("cut.jsonl.gz" in b["detail"] for b in bad) and any("garbage" in b["detail"] for b in bad)


def test_text_files_utf8_bom_gbk_binary_empty_and_huge(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeff带BOM的文本".encode("utf-8"))
    (tmp_path / "gbk.txt").write_bytes("这是一段用国标编码保存的中文。".encode("gbk"))
    (tmp_path / "big5.txt").write_bytes(bytes(range(128, 256)) * 4)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "huge.txt").write_bytes("长" .encode() * (50 * 1024 * 1024 // 3 + 1))
    _, got, bad = read_all(InputConfig(paths=[str(tmp_path)], max_doc_mb=16))
    assert {d["id"]: d["text"] for d in got} == {"bom.txt": "带BOM的文本",
                                                 "gbk.txt": "这是一段用国标编码保存的中文。"}
    assert {b["id"]: b["reason"] for b in bad} == {"big5.txt": "undecodable", "empty.txt": "empty_text",
                                                   "huge.txt": "too_large"}


def test_parquet_without_text_column_is_a_clear_error(tmp_path):
    pq.write_table(pa.table({"content": ["x"]}), tmp_path / "t.parquet")
    with pytest.raises(InputError, match=r"t.parquet: no text column 'text' \(columns: \['content'\]\)"):
        plan_shards(InputConfig(paths=[str(tmp_path)]))
    (tmp_path / "t.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="t.parquet: not a readable Parquet file"):
        plan_shards(InputConfig(paths=[str(tmp_path)]))


def test_empty_files_are_fine(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"")
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(b""))
    shards, got, bad = read_all(InputConfig(paths=[str(tmp_path)]))
    assert len(shards) == 1 and got == [] and bad == []


def test_decode_text_refuses_binary():
    assert decode_text("中文".encode("gb18030")) == "中文"
    assert decode_text(b"\x00\x01\x02\xff\xfe") is None


def test_truncated_zstd_is_not_silently_short(tmp_path):
    raw = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in make_docs(2000)).encode()
    data = zstandard.ZstdCompressor().compress(raw)
    (tmp_path / "cut.jsonl.zst").write_bytes(data[: len(data) // 2])
    (tmp_path / "two-frames.jsonl.zst").write_bytes(data + data)
    _, got, bad = read_all(InputConfig(paths=[str(tmp_path)]))
    assert len(got) >= 2 * 2000 + 100
    assert [b["reason"] for b in bad] == ["corrupt_file"] and "truncated" in bad[0]["detail"]


def test_compressed_content_without_its_extension_is_sniffed(tmp_path):
    write_jsonl(tmp_path / "mislabelled.jsonl", make_docs(5), compress=True)
    _, got, bad = read_all(InputConfig(paths=[str(tmp_path)]))
    assert len(got) == 5 and not bad
