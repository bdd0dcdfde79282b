"""Fine filtering: each rule on written examples, its switches, the line clean-up and the length gate; and
the measured catch and false-drop figures of docs/fine.md on the shared data."""

from __future__ import annotations

import pyarrow as pa
import pytest

from mdfs.errors import ConfigError
from mdfs.stage import REJECT, StageContext
from mdfs.stages.fine import FineFilter
from tests.conftest import CLEAN, shared

ARTICLE = "".join(CLEAN)  # ~230 characters of clean prose
STUFFED = (
    "苏州搬家公司_苏州搬家公司哪家好\n" + "选择苏州搬家公司就是选择放心，我们的苏州搬家公司师傅经验丰富，"
    "很多客户都推荐苏州搬家公司。" * 4
)
CTA = (
    "这款面霜补水效果很好，现在活动价只要九十九元。\n加微信：mei888kf\n联系电话：13812345678\n"
    "点击购买，扫码领取优惠券"
)
TEMPLATED = "近期开奖号码汇总\n" + "".join(
    f"第2024{i:03d}期 开奖号码：{i:02d} {i + 7:02d} {i + 13:02d}\n" for i in range(1, 10)
)
TITLE = "上海装修公司哪家好_上海装修公司电话\n" + ARTICLE
KEYWORDS = "香港六合彩开奖结果出来了，高手论坛说本期特码是单数，管家婆心水论坛推荐一肖中特。" + ARTICLE


def run_fine(texts: list[str], params: dict | None = None, ctx: StageContext | None = None) -> pa.Table:
    stage = FineFilter("fine", FineFilter.Params.model_validate(params or {}))
    stage.setup()
    return stage.process(
        pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}), ctx or StageContext("fine", "t")
    )


def test_each_rule_names_its_reason_and_clean_text_is_kept():
    out = run_fine([STUFFED, KEYWORDS, TITLE, CTA, TEMPLATED, "太短了。", ARTICLE])
    assert out.column(REJECT).to_pylist() == [
        "keyword_stuffing",
        "spam_keywords",
        "spam_title",
        "call_to_action",
        "templated",
        "too_short_final",
        None,
    ]
    scores = out.to_pylist()
    assert scores[0]["fine__stuffing"] >= 0.45 or scores[0]["fine__phrase_repeat"] >= 0.33
    assert scores[6]["fine__stuffing"] < 0.3 and scores[6]["fine__phrase_repeat"] < 0.2
    assert scores[1]["fine__keyword_hits"] >= 3 and scores[2]["fine__title_hits"] >= 2
    assert scores[3]["fine__cta_hits"] >= 3 and scores[3]["fine__cta_per_1000"] > 3
    assert scores[4]["fine__template_lines"] == 9 and scores[4]["fine__template_share"] == pytest.approx(0.9)


def test_null_switches_a_rule_off():
    off = {
        "stuffing": {"threshold": None, "phrase_threshold": None},
        "keywords": {"min_hits": None},
        "title": {"min_hits": None},
        "cta": {"min_hits": None, "strip_lines": False},
        "template": {"min_lines": None},
        "min_chars": 0,
    }
    out = run_fine([STUFFED, KEYWORDS, TITLE, CTA, TEMPLATED], off)
    assert out.column(REJECT).to_pylist() == [None] * 5
    assert "fine__stuffing" not in out.column_names  # jieba is not even loaded


def test_short_call_to_action_lines_are_removed_from_kept_documents():
    ctx = StageContext("fine", "t")
    text = ARTICLE + "\n扫码关注公众号"
    out = run_fine([text], ctx=ctx)
    assert out.column(REJECT).to_pylist() == [None]
    assert out.column("text").to_pylist() == [ARTICLE]
    assert out.column("fine__chars").to_pylist() == [len(ARTICLE)]
    assert ctx.counters["cta_lines_removed"] == 1
    # ...and the length gate sees the cleaned text
    assert run_fine([CLEAN[0] + "\n扫码关注公众号"], {"min_chars": len(CLEAN[0]) + 1}).column(
        REJECT
    ).to_pylist() == ["too_short_final"]


def test_keyword_files_and_own_lists(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("西湖\n柳树\n", encoding="utf-8")
    out = run_fine([CLEAN[0] * 2], {"keywords": {"words": [], "files": [str(words)], "min_hits": 3}})
    assert out.column(REJECT).to_pylist() == ["spam_keywords"]
    with pytest.raises(ConfigError, match="keywords.files"):
        run_fine([ARTICLE], {"keywords": {"files": [str(tmp_path / "missing.txt")]}})


def test_parameters_are_validated_with_their_key_path(tmp_path):
    from mdfs.config import load_config
    from mdfs.registry import build_stage

    cfg = load_config(None, ["stages.fine.cta.min_hits=0"])
    index = [s.name for s in cfg.stages].index("fine")
    with pytest.raises(ConfigError, match=rf"stages\[{index}\]\.with\.cta\.min_hits"):
        build_stage(cfg.stages[index], index)


@pytest.mark.slow
def test_measured_catch_and_false_drop_rates():
    """The figures of docs/fine.md: spam that passes the classifier is caught, clean text is kept."""
    shared("wiki-zh", "cmrc2018_paragraphs.zh-Hans.jsonl")
    shared("html-zh", "magic-html")
    shared("cc-warc", "warcfile.warc")
    from tools.bench.fine import clean_set, judge, spam_set, summarize

    s = summarize(judge(spam_set()), judge(clean_set()))
    # the page model now drops every Common Crawl spam page itself, so what passes it is the other sets
    assert s["spam_passing_classifier"] >= 20
    # 0.89 since keywords.min_hits went from 3 to 5 (at 3 it dropped tech and phone news: docs/eval.md)
    assert s["catch_rate_passing"] >= 0.85, s["missed_passing"]
    assert s["clean"] >= 3000
    assert s["false_drop_rate"] <= 0.002, s["false_drop_examples"]


def test_one_repeated_call_to_action_is_a_listing_not_an_ad():
    # a notice listing visitor hotlines repeats one phrase (咨询电话) and one kind of number
    hotlines = ARTICLE + "\n" + "\n".join(f"第{i}景区\n游客咨询电话：4006{i:03d}888" for i in range(1, 20))
    # the written listing repeats itself: the stuffing and template rules are off to see the CTA rule alone
    no_stuffing = {"stuffing": {"threshold": None, "phrase_threshold": None}, "template": {"min_lines": None}}
    out = run_fine([hotlines, CTA], no_stuffing)
    assert out.column(REJECT).to_pylist() == [None, "call_to_action"]
    assert out.column("fine__cta_distinct").to_pylist()[0] == 2
    assert run_fine([hotlines], no_stuffing | {"cta": {"min_distinct": 1}}).column(REJECT).to_pylist() == [
        "call_to_action"]


def test_overlapping_phrases_of_one_call_to_action_count_once():
    # 诚招代理 holds 招代理, 加qq群 holds 加qq and qq群: two asks, as many as the hits counted them;
    # full-width digits are not a number to RE2 (which counts the hits), nor here
    ask = "本店诚招代理，欢迎加qq群了解详情。"
    out = run_fine([ARTICLE + "\n" + ask * 3, ARTICLE + "\n" + ask + "电话：１３８００１３８０００"])
    assert out.column("fine__cta_distinct").to_pylist() == [2, 2]


def test_real_tourism_notice_with_hotlines_is_kept():
    # magic-html article 9af148c8013298ff (tuning side): 62 scenic spots, each with its 咨询电话,
    # some 400 numbers
    import json

    from mdfs.textnorm import normalize
    from mdfs.stages.collection.charset import decode_page
    from mdfs.stages.collection.extract import get_extractor

    folder = shared("html-zh", "magic-html", "article")
    keys = json.loads((folder / "groundtruth.json").read_text())
    key = next(k for k in keys if k.startswith("9af148c8013298ff"))
    page = decode_page((folder / f"{key}.html").read_bytes()).text
    text = normalize(get_extractor("trafilatura_recall")(page))
    out = run_fine([text], {"min_chars": 30})
    assert out.column(REJECT).to_pylist() == [None] and out.column("fine__cta_hits").to_pylist()[0] >= 30
    assert run_fine([text], {"cta": {"min_distinct": 1}}).column(REJECT).to_pylist() == ["call_to_action"]
