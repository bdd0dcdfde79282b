"""WARC/WET and HTML readers: provenance, skipped responses and every kind of damaged file.

Fixtures are written with FastWARC's own writer (`WarcRecord.write`), one gzip member per record
as Common Crawl does; damage is then applied to the bytes.
"""

from __future__ import annotations

import gzip
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from fastwarc.warc import WarcRecord, WarcRecordType

from mdfs.config import InputConfig
from mdfs.inputs import detect_kind
from mdfs.readers import DOC_SCHEMA

from .conftest import read_input, rows, shared

PAGE = "<html><head><title>杭州</title></head><body><p>杭州是浙江省的省会，西湖闻名天下。</p></body></html>"


def response(url: str, body: bytes, status: str = "200 OK", ctype: str = "text/html; charset=gbk",
             extra_headers: str = "") -> WarcRecord:
    http = (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{extra_headers}\r\n").encode() + body
    rec = WarcRecord()
    rec.init_headers(WarcRecordType.response, content_length=len(http))
    rec.headers.append("WARC-Target-URI", url)
    rec.headers.append("Content-Type", "application/http; msgtype=response")
    rec.set_bytes_content(http)
    return rec


def conversion(url: str, text: str) -> WarcRecord:
    rec = WarcRecord()
    body = text.encode()
    rec.init_headers(WarcRecordType.conversion, content_length=len(body))
    rec.headers.append("WARC-Target-URI", url)
    rec.headers.append("Content-Type", "text/plain")
    rec.set_bytes_content(body)
    return rec


def warc_bytes(records: list[WarcRecord], gz: bool = True) -> bytes:
    out = []
    for rec in records:
        buf = io.BytesIO()
        rec.write(buf)
        out.append(gzip.compress(buf.getvalue(), compresslevel=1, mtime=0) if gz else buf.getvalue())
    return b"".join(out)


def pages(n: int) -> list[WarcRecord]:
    return [response(f"http://www.example{i}.cn/a/{i}.html", (PAGE + f"<p>第{i}页</p>").encode("gbk"))
            for i in range(n)]


def read(path: Path, **cfg):
    _, tables, bad = read_input(InputConfig(paths=[str(path)], **cfg), batch_docs=3)
    assert all(t.schema == DOC_SCHEMA for t in tables)
    return rows(tables), bad


def test_kinds_by_extension():
    for name in ("a.warc", "a.warc.gz", "CC-x.warc.zst", "a.wet", "a.wet.gz"):
        assert detect_kind(name) == "warc"
    for name in ("p.html", "p.HTM", "p.html.gz"):
        assert detect_kind(name) == "html"


def test_common_crawl_excerpt_gz_and_plain_agree():
    folder = shared("cc-warc")
    gz_docs, gz_bad = read(folder / "warcfile.warc.gz")
    plain_docs, plain_bad = read(folder / "warcfile.warc")
    assert not gz_bad and not plain_bad
    assert len(gz_docs) == 16
    drop = ("source",)
    assert [{k: v for k, v in d.items() if k not in drop} for d in gz_docs] == \
        [{k: v for k, v in d.items() if k not in drop} for d in plain_docs]
    first = gz_docs[0]
    assert first["url"] == "http://003338.cn/l41/481397.html" and first["domain"] == "003338.cn"
    assert first["id"] == "urn:uuid:c4c112a5-3503-4483-abf8-51a0dd86dd53"
    assert first["warc_record_id"] == "<urn:uuid:c4c112a5-3503-4483-abf8-51a0dd86dd53>"
    assert first["fetch_date"].isoformat().startswith("2020-08-08T17:27:41")
    assert first["text"] is None and first["raw"].startswith(b"<html>")
    assert Counter(d["http_charset"] for d in gz_docs)["gb2312"] == 2
    assert all(d["content_type"] in ("text/html", "application/xhtml+xml") for d in gz_docs)


def test_skipped_responses_and_bad_payloads_have_reasons(tmp_path):
    big = b"<html><body>" + "很大的页面。".encode("gbk") * (50 * 1024 * 1024 // 12) + b"</body></html>"
    records = [
        response("http://a.cn/ok", PAGE.encode("gbk")),
        response("http://a.cn/gone", b"<html>missing</html>", status="404 Not Found"),
        response("http://a.cn/moved", b"", status="301 Moved Permanently"),
        response("http://a.cn/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), ctype="image/png"),
        response("http://a.cn/liar.html", b"\x89PNG\r\n\x1a\n" + bytes(200), ctype="text/html"),
        response("http://a.cn/empty", b"", ctype="text/html"),
        response("http://a.cn/blank", b"  \r\n\t ", ctype="text/html"),
        response("http://a.cn/huge", big),  # a 50 MB page
    ]
    path = tmp_path / "mixed.warc.gz"
    path.write_bytes(warc_bytes(records))
    docs, bad = read(path)
    assert [d["url"] for d in docs] == ["http://a.cn/ok"]
    reasons = [b["reason"] for b in bad]
    assert reasons == ["http_status", "http_status", "not_html", "binary_payload", "empty_text", "empty_text",
                       "too_large"]
    assert "404 Not Found" in bad[0]["detail"] and "image/png" in bad[2]["detail"]
    huge = bad[-1]
    assert "http://a.cn/huge" in huge["detail"] and "mixed.warc.gz" in huge["detail"]
    assert len(huge["text"]) <= 2000  # a preview, not 50 MB in the rejects


def test_truncated_warc_gz_keeps_complete_records_and_names_the_damage(tmp_path):
    data = warc_bytes(pages(4))
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: len(data) - 150])
    docs, bad = read(path)
    assert [d["url"] for d in docs] == [f"http://www.example{i}.cn/a/{i}.html" for i in range(3)]
    assert [b["reason"] for b in bad] == ["truncated_record", "corrupt_file"]  # the cut record, the damage
    assert "cut.warc.gz: record <urn:uuid:" in bad[0]["detail"]
    assert str(path) in bad[1]["detail"] and "rest of the file is lost" in bad[1]["detail"]


def test_truncated_plain_warc_reports_the_short_record(tmp_path):
    data = warc_bytes(pages(3), gz=False)
    path = tmp_path / "cut.warc"
    path.write_bytes(data[:-40])
    docs, bad = read(path)
    assert len(docs) == 2 and [b["reason"] for b in bad] == ["truncated_record"]
    assert "http://www.example2.cn/a/2.html" in bad[0]["detail"]


@pytest.mark.parametrize("delta", [+700, -150])
@pytest.mark.parametrize("gz", [False, True])
def test_a_lying_content_length_costs_one_record_not_the_file(tmp_path, delta, gz):
    plain = warc_bytes(pages(4), gz=False)
    lengths = list(re.finditer(rb"\r\nContent-Length: (\d+)\r\n", plain))
    lie = lengths[1]  # the WARC header of record 1 (the HTTP messages here have no Content-Length)
    s, e = lie.span(1)
    assert b"example1" in plain[s: s + 400]
    data = plain[:s] + str(int(lie.group(1)) + delta).encode() + plain[e:]
    path = tmp_path / ("lie.warc.gz" if gz else "lie.warc")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    docs, bad = read(path)
    assert [d["url"] for d in docs] == [f"http://www.example{i}.cn/a/{i}.html" for i in (0, 2, 3)]
    assert [b["reason"] for b in bad] == ["bad_content_length"]
    assert str(path) in bad[0]["detail"] and bad[0]["id"].startswith("urn:uuid:")
    assert f"at byte {data.index(b'WARC/1.', 1)}" in bad[0]["detail"]  # offset in the decompressed file


def test_garbage_between_records_is_skipped_with_a_reason(tmp_path):
    data = warc_bytes(pages(2), gz=False)
    path = tmp_path / "junk.warc"
    path.write_bytes(b"this is not a WARC file\r\n" * 3 + data)
    docs, bad = read(path)
    assert len(docs) == 2 and [b["reason"] for b in bad] == ["bad_record"]
    assert bad[0]["id"] == "junk.warc@0"
    path.write_bytes(bytes(range(256)) * 20)
    docs, bad = read(path)
    assert docs == [] and [b["reason"] for b in bad] == ["bad_record"]


def test_http_transfer_and_content_encodings_are_undone(tmp_path):
    body = gzip.compress(PAGE.encode("utf-8"), mtime=0)
    chunked = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in (body[:30], body[30:])) + b"0\r\n\r\n"
    records = [response("http://b.cn/gz", chunked, ctype="text/html; charset=utf-8",
                        extra_headers="Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n"),
               response("http://b.cn/badgz", b"not gzip", ctype="text/html",
                        extra_headers="Content-Encoding: gzip\r\n")]
    path = tmp_path / "enc.warc.gz"
    path.write_bytes(warc_bytes(records))
    docs, bad = read(path)
    assert [d["raw"] for d in docs] == [PAGE.encode("utf-8")]
    assert [b["reason"] for b in bad] == ["bad_http_encoding"]


def test_wet_conversion_records_are_plain_text(tmp_path):
    path = tmp_path / "x.warc.wet.gz"
    path.write_bytes(warc_bytes([conversion("http://c.cn/1", "第一段。\n第二段。")]))
    docs, bad = read(path)
    assert not bad and docs[0]["content_type"] == "text/plain" \
        and docs[0]["raw"].decode() == "第一段。\n第二段。"
    assert docs[0]["domain"] == "c.cn"


def test_html_files_one_page_each(tmp_path):
    (tmp_path / "a.html").write_bytes(PAGE.encode("big5", errors="ignore"))
    (tmp_path / "b.htm").write_bytes(b"")
    (tmp_path / "c.html").write_bytes(b"\x00\x01\x02" * 100)
    docs, bad = read(tmp_path)
    assert [(d["id"], d["content_type"], d["text"]) for d in docs] == [("a.html", "text/html", None)]
    assert sorted((b["id"], b["reason"]) for b in bad) == [("b.htm", "empty_text"),
                                                           ("c.html", "binary_payload")]
