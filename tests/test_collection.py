"""The collection stage: charsets, main text, language, Simplified conversion, uniform schema; and the
pipeline on the real Common Crawl excerpt."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mdfs
from mdfs.config import load_config
from mdfs.readers import DOC_SCHEMA
from mdfs.stage import REJECT, REJECT_DETAIL, StageContext
from mdfs.textnorm import char_tokens
from mdfs.stages.collection import OUTPUT_FIELDS, Collection
from mdfs.stages.collection.charset import canonical, decode_page
from mdfs.stages.collection.language import LanguageId

from .conftest import CLEAN, read_dir, shared, write_jsonl
from .test_warc import response, warc_bytes

GBK_PAGE = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=gb2312"><title>新闻</title>'
            '</head><body><div id="nav"><a href="/">首页</a> | <a href="/news">新闻</a></div>'
            '<div class="article"><h1>杭州西湖</h1>'
            '<p>杭州是浙江省的省会，历史悠久，西湖以秀丽的山水闻名天下。</p>'
            '<p>每年春天，湖边的柳树发芽，游人如织。研究人员发现，适量运动能够改善睡眠质量。</p>'
            '<p>这道菜的做法很简单：先把土豆切成细丝，用清水泡去淀粉，再用大火快炒。</p></div>'
            '<div id="footer">版权所有 2020</div></body></html>')
# The 3,755 most common Hanzi (GB2312 level 1, lead bytes 0xB0-0xD7): real Chinese text is mostly made
# of them; GBK decoded as UTF-8 or UTF-8 decoded as GBK (mojibake) is mostly not.
LEVEL1 = {bytes([hi, lo]).decode("gb2312") for hi in range(0xB0, 0xD8) for lo in range(0xA1, 0xFF)
          if (hi, lo) != (0xD7, 0xFA) and not (hi == 0xD7 and lo > 0xF9)}


def common_hanzi_share(text: str) -> float:
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return sum(c in LEVEL1 for c in han) / max(len(han), 1)


def ctx():
    return StageContext("collection", "part-00000")


def web_rows(payloads: list[tuple[bytes, str | None, str]]) -> pa.Table:
    """A reader-shaped batch of web payloads: (raw, http_charset, content_type)."""
    n = len(payloads)
    cols = {f.name: pa.nulls(n, f.type) for f in DOC_SCHEMA}
    cols["id"] = pa.array([f"w{i}" for i in range(n)])
    cols["url"] = pa.array([f"http://Www.Example.cn/{i}" for i in range(n)])
    cols["raw"] = pa.array([p[0] for p in payloads], pa.large_binary())
    cols["http_charset"] = pa.array([p[1] for p in payloads], pa.string())
    cols["content_type"] = pa.array([p[2] for p in payloads], pa.string())
    return pa.table(cols, schema=DOC_SCHEMA)


@pytest.fixture(scope="module")
def stage():
    s = Collection("collection", Collection.Params())
    s.setup()
    return s


# -- charsets --------------------------------------------------------------------------------------
def test_charset_labels_map_to_the_supersets_browsers_use():
    assert canonical("GB2312") == canonical("gbk") == canonical("x-gbk") == "gb18030"
    assert canonical("big5") == "big5hkscs" and canonical("ISO-8859-1") == "cp1252"
    assert canonical("utf8") == "utf_8" and canonical("no-such-charset") is None


def test_charset_order_header_meta_detection():
    text = "杭州是浙江省的省会，历史悠久，西湖以秀丽的山水闻名天下。" * 3
    gbk = f"<html><body><p>{text}</p></body></html>".encode("gbk")
    assert decode_page(gbk, "gbk").how == "http"
    meta = f'<html><head><meta charset="gb2312"></head><body><p>{text}</p></body></html>'.encode("gbk")
    d = decode_page(meta, None)
    assert (d.charset, d.how) == ("gb18030", "meta") and text in d.text
    # a Latin-1 HTTP default must not turn a GBK page (declared in its meta tag) into mojibake
    d = decode_page(meta, "iso-8859-1")
    assert d.how == "meta" and text in d.text
    # a GBK-only character (not in GB2312) under a GB2312 label still decodes: GB18030 is used
    assert "堃" in decode_page("<p>王堃</p>".encode("gbk") + meta, "gb2312").text
    # undeclared: detected
    d = decode_page(f"<p>{text}</p>".encode("gbk"), None)
    assert d.how == "detected" and text in d.text
    # Big5 (Traditional) and UTF-8 with a BOM
    hant = "臺灣位於東亞，首都是臺北市。憂鬱的烏龜在溫暖的海灣裡游泳。" * 3
    d = decode_page(f'<meta charset="big5"><p>{hant}</p>'.encode("big5"), None)
    assert d.charset == "big5hkscs" and hant in d.text
    d = decode_page(b"\xef\xbb\xbf" + f"<p>{text}</p>".encode(), "gbk")
    assert d.how == "bom" and d.text.startswith("<p>杭州")
    # UTF-8 bytes labelled GBK are UTF-8
    d = decode_page(f"<p>{text}</p>".encode(), "gbk")
    assert d.charset == "utf-8" and text in d.text


def test_charset_refuses_what_it_cannot_decode_confidently():
    import random

    rng = random.Random(0)
    noise = bytes(rng.randrange(128, 256) for _ in range(3000))
    assert decode_page(noise, None).text is None
    assert decode_page(noise, "utf-8").text is None
    # one stray byte in a long page is tolerated; half the page broken is not
    good = ("杭州是浙江省的省会，西湖闻名天下。" * 200).encode("utf-8")
    assert decode_page(good + b"\xff", "utf-8").text is not None
    assert decode_page(good[:3000] + noise, "utf-8").how in ("detected", "undecodable")


# -- the stage -------------------------------------------------------------------------------------
def test_web_payloads_are_decoded_extracted_and_identified(stage):
    english = b"<html><body><article><p>" + b"The quick brown fox jumps over the lazy dog. " * 20 + \
        b"</p></article></body></html>"
    batch = web_rows([(GBK_PAGE.encode("gbk"), None, "text/html"),
                      (bytes(range(128, 256)) * 30, None, "text/html"),
                      (english, "utf-8", "text/html"),
                      (b"<html><body><script>var a = 1;</script></body></html>", "utf-8", "text/html"),
                      ("第一段。\n\n第二段：憂鬱的臺灣烏龜。".encode(), None, "text/plain")])
    c = ctx()
    out = stage.process(batch, c)
    rows = out.to_pylist()
    assert [r[REJECT] for r in rows] == [None, "undecodable", "lang", "no_text", None]
    page = rows[0]
    assert page["charset"] == "gb18030" and page["lang"] == "zh" and page["lang_score"] > 0.5
    assert "杭州是浙江省的省会" in page["text"] and "版权所有" not in page["text"]
    assert "\n" in page["text"]  # paragraph breaks kept
    assert page["domain"] == "www.example.cn"
    assert rows[2]["lang"] == "en" and rows[2][REJECT_DETAIL].startswith("en ")
    assert rows[4]["text"] == "第一段。\n\n第二段：忧郁的台湾乌龟。" and rows[4]["collection__converted"]
    assert "raw" not in out.column_names
    assert c.counters["decoded_undecodable"] == 1 and c.counters["lang_zh"] == 2


def test_opencc_only_on_chinese_and_kana_check():
    stage = Collection("collection", Collection.Params(languages=[]))
    stage.setup()
    japanese = "東京都は日本の首都です。昔の東京は江戸と呼ばれていました。電車で學校へ行きます。"
    out = stage.process(pa.table({"id": ["j", "t"], "text": [japanese, "這是臺灣的學校。"]}),
                        ctx()).to_pylist()
    assert out[0]["lang"] == "ja" and out[0]["text"] == japanese and not out[0]["collection__converted"]
    assert out[1]["lang"] == "zh" and out[1]["text"] == "这是台湾的学校。"
    lid = LanguageId()
    # lid.176 calls these short Traditional Chinese texts (from DRCD) Japanese; no kana, so Chinese
    for hant in ("荷蘭軍隊由由皇家陸軍、皇家海軍、皇家空軍", "新北市公共自行車租賃"):
        assert lid.model.predict(char_tokens(hant, 100))[0][0] == "__label__ja"
        assert lid.predict(hant)[0] == "zh"
    stray = "荷蘭軍隊由由皇家陸軍、皇家海軍、皇家空軍和皇家憲兵隊四個軍種組成の"  # one kana: still Chinese
    assert lid.model.predict(char_tokens(stray, 100))[0][0] == "__label__ja" and lid.predict(stray)[0] == "zh"


def test_a_thread_opening_with_code_is_chinese_by_its_han_lines():
    lid = LanguageId(max_chars=500)
    trace = "\n".join(["Traceback (most recent call last): File \"main.py\", line 12, in <module>",
                       "    import numpy as np", "ModuleNotFoundError: No module named 'numpy'"] * 4)
    question = "\n".join(["运行上面的程序时报了这个错误，已经重新安装过环境了，请问应该怎么解决？",
                          "回复：先确认命令行里用的解释器和安装依赖时是不是同一个，虚拟环境没有激活也会这样。",
                          "楼主：确实是虚拟环境的问题，激活以后就可以正常导入了，谢谢。"] * 2)
    thread = trace + "\n" + question
    assert LanguageId(max_chars=500, han_lines=False).predict(thread)[0] == "en"  # the prefix is all code
    assert lid.predict(thread)[0] == "zh"
    english = "\n".join(["The museum in Hangzhou opens a new hall on ancient ceramics this spring."] * 8
                         + ["西湖博物馆"])
    assert lid.predict(english)[0] == "en"  # a Han caption does not make an English page Chinese


def test_output_schema_is_the_same_for_every_input_kind(stage):
    text_rows = pa.table({"id": ["a"], "text": ["杭州是浙江省的省会，历史悠久。"]})
    outs = [stage.process(text_rows, ctx()),
            stage.process(web_rows([(GBK_PAGE.encode("gbk"), None, "text/html")]),
                                                           ctx()),
                                                           stage.process(DOC_SCHEMA.empty_table(), ctx())]
    schemas = {o.drop_columns([c for c in (REJECT, REJECT_DETAIL) if c in o.column_names]).schema
               for o in outs}
    assert len(schemas) == 1
    assert schemas.pop().names == OUTPUT_FIELDS.names + ["collection__converted"]


def test_drcd_traditional_paragraphs_come_out_simplified(stage):
    import opencc

    rows = [json.loads(line) for line in shared("wiki-zh", "drcd_paragraphs.zh-Hant-TW.jsonl").open()]
    out = stage.process(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}), ctx())
    assert out.column(REJECT).null_count == len(rows) if REJECT in out.column_names else True
    text = "".join(out.column("text").to_pylist())
    t2s = opencc.OpenCC("t2s")
    chars = set(text)
    traditional = {c for c in chars if t2s.convert(c) != c}
    left = sum(text.count(c) for c in traditional)  # by occurrence
    assert len(text) > 800_000 and left / len(text) < 0.005


def test_chosen_extractor_on_html_zh(stage):
    from tools.bench.extraction import load_pages, prf

    pages = load_pages(shared())
    f1 = [prf(stage.extract(p["html"]), p["truth"])[2] for p in pages]
    assert len(pages) >= 80 and sum(f1) / len(f1) > 0.78
    kept_lines = [stage.extract(p["html"]).count("\n") for p in pages[:10]]
    assert min(kept_lines) > 0


# -- fastText: one process trains our quality model and runs lid.176 -------------------------------
def test_fasttext_trains_and_lid176_predicts_in_one_process(tiny_model):
    import fasttext

    from mdfs.fasttext_check import require_trainable_fasttext

    assert require_trainable_fasttext().endswith("fasttext/__init__.py")
    quality = fasttext.load_model(str(tiny_model))  # trained by the fixture in this process
    assert tiny_model.stat().st_size < 5_000_000  # the fixture stays small (fastText defaults: 764 MB)
    assert quality.predict(" ".join(CLEAN[0]))[0][0] == "__label__hq"
    assert LanguageId().predict(CLEAN[1]) [0] == "zh"
    # the files on disk are fasttext-community's, not fasttext-predict's (same names, see fasttext_check)
    dist = importlib.metadata.distribution("fasttext-community")
    for f in dist.files:
        if str(f) in ("fasttext/FastText.py", "fasttext/__init__.py") or str(f).startswith("fasttext_pybind"):
            digest = base64.urlsafe_b64encode(hashlib.sha256(f.locate().read_bytes()).digest()).rstrip(b"=")
            assert digest.decode() == f.hash.value, f"{f} is not fasttext-community's"


# -- the pipeline on the real Common Crawl excerpt -------------------------------------------------
def run_collection(inputs: list[Path], out: Path, **kw):
    cfg = load_config(None,
                      ["engine.kind=serial", "stages.coarse.enabled=false", "stages.quality.enabled=false",
                       "stages.dedup.enabled=false", "stages.fine.enabled=false"],
                      {"input": {"paths": [str(p) for p in inputs], **kw}, "output": {"path": str(out)}})
    return mdfs.run(cfg, progress=False)


def test_common_crawl_chinese_pages_decode_without_mojibake(tmp_path):
    s = run_collection([shared("cc-warc", "warcfile.warc.gz")], tmp_path / "out")
    rows = read_dir(tmp_path / "out" / "data")
    assert s.stages["read"].docs_in == 16
    assert {r["lang"] for r in rows} == {"zh"} and len(rows) >= 10
    rejected = read_dir(tmp_path / "out" / "rejects" / "collection")
    assert {r["reason"] for r in rejected} == {"lang"} and len(rows) + len(rejected) == 16
    assert all(r["url"].startswith("http://") and r["domain"] and r["domain"] in r["url"] for r in rows)
    gbk = [r for r in rows if r["charset"] == "gb18030"]
    # the pages declared gbk/gb2312 (in the HTTP header or the meta tag)
    assert {r["domain"] for r in gbk} >= {"041696.com", "0755krk.com", "0760.jxtdw.com", "077678u.info",
                                          "096355.com"}
    for r in gbk:
        assert "\ufffd" not in r["text"] and common_hanzi_share(r["text"]) > 0.9, r["domain"]
        wrong = r["text"].encode("gb18030").decode("utf-8", errors="replace")  # what UTF-8 would have made
        assert wrong.count("\ufffd") > 10
    for r in rows:
        if r["domain"] != "003338.cn":  # that hijacked page carries injected mojibake in its own bytes
            assert common_hanzi_share(r["text"]) > 0.85, r["domain"]
        assert r["fetch_date"].year == 2020 and r["warc_record_id"].startswith("<urn:uuid:")


def test_jsonl_and_warc_shards_share_one_schema(tmp_path):
    folder = tmp_path / "in"
    write_jsonl(folder / "a.jsonl.gz", [{"id": f"j{i}", "text": CLEAN[i % 5] * 3} for i in range(20)],
                compress=True)
    (folder / "b.warc.gz").write_bytes(warc_bytes([response(f"http://x.cn/{i}", GBK_PAGE.encode("gbk"))
                                                   for i in range(5)]))
    (folder / "c.jsonl").write_text("")  # a shard with no documents at all
    run_collection([folder], tmp_path / "out", shard_size_mb=0.001)
    parts = sorted((tmp_path / "out" / "data").iterdir())
    assert len(parts) == 3
    schemas = [pq.read_schema(p).remove_metadata() for p in parts]
    assert all(s == schemas[0] for s in schemas)
    assert pq.read_table(parts[1]).num_rows == 5 and pq.read_table(parts[0]).column("domain").null_count == 20


def test_large_pages_go_to_the_fast_extractor():
    stage = Collection("collection", Collection.Params(large_page_mb=0.005))
    stage.setup()
    small = stage.document(None, GBK_PAGE.encode("gbk"), None, "text/html")
    big_html = GBK_PAGE.replace("<p>", "<p>" + "西湖的春天。" * 400, 1).encode("gbk")
    big = stage.document(None, big_html, None, "text/html")
    assert not small.large and big.large and "西湖的春天" in big.text and big.reason is None
