"""Forum-aware page rules and related-article lists (issue #13): what the coarse stage of the default recipe
does to threads and to the lists under articles, on written examples and on real tuning-side pages of
html-zh/magic-html (read from ../shared/corpora by id; skipped when the corpus is absent)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from mdfs.charmetric import Overlap
from mdfs.config import load_config
from mdfs.registry import build_stage
from mdfs.stage import REJECT, StageContext
from mdfs.stages.coarse import CoarseFilter

from .conftest import shared

REPLIES = ["我觉得这个方案在小团队里很难推行，因为每个人的习惯都不一样，"
           "强行统一只会让大家抵触，最后谁也不愿意用。",
           "去年我们公司也试过类似的做法，前三个月效果不错，后来新人越来越多，规范没人维护，文档也跟不上了。",
           "说到底还是工具的问题，好用的工具自然有人用，不好用的再怎么开会强调也没有用，这点我深有体会。",
           "同意楼上的看法，另外补充一点：评审的时候最好有人专门负责记录，否则讨论完了大家转头就忘记结论了。"]
REPLY = "楼主说得对，我上周也遇到了同样的问题，后来把驱动重新装了一遍就好了，大家可以试试这个办法。"


def coarse(**document) -> CoarseFilter:
    cfg = load_config(None)
    index, spec = next((i, s) for i, s in enumerate(cfg.stages) if s.name == "coarse")
    if document:
        spec.with_["document"] = {**spec.with_.get("document", {}), **document}
    stage = build_stage(spec, index)
    stage.setup()
    return stage


def decide(stage: CoarseFilter, texts: list[str]) -> tuple[list, dict, list]:
    batch = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    ctx = StageContext("coarse", "t")
    out = stage.process(batch, ctx)
    return out.column(REJECT).to_pylist(), ctx.counters, out.column("text").to_pylist()


def thread(n: int) -> str:
    """A thread: user names, counters and one-word replies around n distinct replies of prose."""
    lines = []
    for i in range(n):
        lines += [f"用户{i}", "回复", "顶", f"第{i}楼：{REPLY[i:]}{i}", "+1", "支持"]
    return "\n".join(lines)


def test_a_thread_with_prose_is_not_dropped_for_its_short_lines():
    stage = coarse()
    reasons, _, _ = decide(stage, [thread(8)])
    assert reasons == [None]
    strict = coarse(prose_min_chars=None)  # the rules as they were: short and repeated lines drop a thread
    assert decide(strict, [thread(8)])[0][0] in ("short_lines", "dup_lines")


def test_a_menu_and_a_repeated_sentence_are_still_dropped():
    stage = coarse()
    menu = "\n".join(["首页", "新闻", "体育", "财经", "娱乐", "科技", "汽车", "房产"] * 2 + ["联系我们"])
    repeated = "\n".join([REPLY] * 12)  # one prose line, counted once: not enough prose
    reasons, _, _ = decide(stage, [menu, repeated])
    assert reasons[0] is not None and reasons[1] in ("dup_lines", "dup_line_chars")


def test_long_bullet_lines_are_paragraphs_not_list_items():
    replies = "\n".join(f"- 网友{i} {r}" for i, r in enumerate(REPLIES))  # 50–55 characters
    prose = "".join(REPLIES)
    items = "\n".join(f"- {prose[i:i + 20]}" for i in range(0, len(prose) - 20, 20))  # short list items
    reasons, _, _ = decide(coarse(bullet_max_chars=40), [replies, items])
    assert reasons == [None, "bullet_lines"]
    assert decide(coarse(bullet_max_chars=None), [replies])[0] == ["bullet_lines"]


def test_a_related_list_under_its_heading_is_cut_and_other_lists_stay():
    article = "\n".join([REPLY, REPLY[5:] + "第二段。", "健康资讯推荐", "- 某地召开工作会议",
                         "- 某市发布新规", "- 某县举办文化节", "专家建议", "- 多喝水", "- 早睡早起",
                         "- 适量运动"])
    reasons, counters, texts = decide(coarse(), [article])
    assert reasons == [None] and counters["lines_removed__related_list"] == 4
    assert "某市发布新规" not in texts[0] and "早睡早起" in texts[0] and "专家建议" in texts[0]


def test_the_tail_after_a_teaser_heading_is_cut_unless_it_opens_the_page():
    teasers = ["你可能还想看", "某地召开工作会议，部署下半年重点任务。", "某市发布新规，明年起施行。"]
    article = "\n".join([REPLY, REPLY[5:] + "第二段。", *teasers])
    sidebar_first = "\n".join([*teasers, REPLY, REPLY[5:] + "第二段。"])  # a heading before the text: kept
    reasons, counters, texts = decide(coarse(), [article, sidebar_first])
    assert reasons == [None, None] and counters["lines_removed__related_list"] == 3
    assert "某市发布新规" not in texts[0] and texts[0].startswith(REPLY) and REPLY in texts[1]
    off = coarse()
    off.params.cleaning.related_tail_min_before = None
    off.setup()
    assert "某市发布新规" in decide(off, [article])[2][0]


# -- real pages of the tuning side -------------------------------------------------------------------
def _page(kind: str, prefix: str) -> tuple[str, str]:
    from mdfs.stages.collection.charset import decode_page

    folder = shared("html-zh", "magic-html", kind)
    truth = json.loads((folder / "groundtruth.json").read_text())
    key = next(k for k in truth if k.startswith(prefix))
    return decode_page((folder / f"{key}.html").read_bytes()).text, truth[key]["content"]


def _collected(html: str, **override) -> str:
    from mdfs.stages.collection import Collection

    cfg = load_config(None)
    params = next(s for s in cfg.stages if s.name == "collection").with_ | override
    stage = Collection("collection", Collection.Params(**params))
    stage.setup()
    doc = stage.document(None, html.encode(), "utf-8", "text/html")
    assert doc.reason is None
    return doc.text


def test_real_thread_of_long_bullet_replies_is_kept():
    # paopao.info thread (tuning side, magic-forum-20373e03defc0ad0): every reply is a "- user @user text"
    # item, so the bullet rule dropped the page whole (F1 if kept 0.45); the extractor's own text, as before
    # the recipe's fallback_ratio (which now takes resiliparse's fuller text of this page) and its post run
    # (thread_ratio, which appends the replies trafilatura missed as plain lines)
    html, gold = _page("forum", "20373e03defc0ad0")
    text = _collected(html, fallback_ratio=None, thread_ratio=None)
    reasons, _, texts = decide(coarse(), [text])
    assert reasons == [None] and Overlap.of(texts[0], gold).recall > 0.25
    assert decide(coarse(bullet_max_chars=None), [text])[0] == ["bullet_lines"]


def test_real_related_list_under_an_article_is_cut_without_gold_loss():
    # food.39.net article (tuning side, magic-article-0987b0ff61a8eca7): a "健康资讯推荐" list of 20 clinic
    # headlines under the recipe
    html, gold = _page("article", "0987b0ff61a8eca7")
    text = _collected(html)
    reasons, counters, texts = decide(coarse(), [text])
    after = Overlap.of(texts[0], gold)
    assert reasons == [None] and counters["lines_removed__related_list"] >= 15
    off = coarse()
    off.params.cleaning.related_lists = False
    off.setup()
    without = Overlap.of(decide(off, [text])[2][0], gold)
    assert after.recall == pytest.approx(without.recall) and after.precision > without.precision + 0.2


def test_real_teaser_tail_is_cut_from_a_news_page():
    # hk.news.yahoo.com report (tuning side, magic-article-b5b26f9fb331612d): the extracted text goes on
    # after the report with other stories and ads under 其他人也在看 (P 0.05 before the cut)
    import opencc

    from mdfs.textnorm import normalize

    html, gold = _page("article", "b5b26f9fb331612d")
    text = _collected(html)
    reasons, counters, texts = decide(coarse(), [text])
    off = coarse()
    off.params.cleaning.related_tail_min_before = None
    off.setup()
    gold = opencc.OpenCC("t2s").convert(normalize(gold))  # the gold is Traditional, the kept text Simplified
    after, without = Overlap.of(texts[0], gold), Overlap.of(decide(off, [text])[2][0], gold)
    assert reasons == [None] and counters["lines_removed__related_list"] >= 20
    assert without.precision < 0.2 and after.precision > 0.8 and after.recall == without.recall > 0.9
