"""Spam blocks cut out of good pages (stages/rules/spamblocks.py), on written text and on real pages."""

from __future__ import annotations

import html
import json
import re

import pyarrow.dataset as ds
import yaml

from mdfs.cli import main
from mdfs.stages.rules.spamblocks import SpamBlockCutter, SpamBlocks

from .conftest import ROOT, shared

ARTICLE = "科学家发现，适量运动能改善睡眠。研究团队跟踪了三百名志愿者。\n" \
          "结果表明，每天步行一小时的人入睡更快。\n" * 5
SPAM = "色情小说：老师的秘密\n成人影片在线观看\n\n激情小说 第一章\n六合彩开奖记录"


def test_a_run_of_spam_lines_is_cut_and_kept_for_audit():
    cut = SpamBlockCutter(SpamBlocks()).cut([ARTICLE + "同类推荐\n" + SPAM, ARTICLE, None])
    assert cut.texts[0] == ARTICLE + "同类推荐"
    assert cut.cut[0] == SPAM and cut.lines == 5 and cut.chars == len(SPAM.replace("\n", ""))
    assert cut.texts[1] == ARTICLE and cut.cut[1:] == [None, None]


def test_what_is_not_a_block_stays():
    cutter = SpamBlockCutter(SpamBlocks())
    two = "色情小说：老师的秘密\n成人影片在线观看\n"  # below min_run
    # long lines are prose
    prose = "记者调查发现，" + "某些网站以成人影片在线观看为噱头，" * 6 + "警方已介入调查。"
    only_spam = "简介\n" + SPAM  # a page that is mostly spam lines stays whole: the document rules decide
    on_topic = ARTICLE + "她说这是一部色情小说，" + ARTICLE + SPAM  # the page's prose uses the block's words
    cut = cutter.cut([ARTICLE + two, "\n".join([prose] * 3) + "\n" + ARTICLE, only_spam, on_topic])
    assert cut.lines == 0 and cut.cut == [None, None, None, None]
    off = SpamBlockCutter(SpamBlocks(keep_cut=False)).cut([ARTICLE + SPAM])
    assert off.lines == 5 and off.cut == [None]


def test_real_article_with_a_real_porn_link_list_keeps_the_article(tmp_path):
    """A magic-html article's human-checked main text with the porn link titles of a Common Crawl page
    (096355.com) appended as a 同类推荐 list, as an HTML page through the default recipe's collection and
    coarse stages (what the page model then makes of the article is measured in docs/eval.md)."""
    warc = shared("cc-warc", "warcfile.warc").read_bytes()
    page = warc[warc.index(b"http://096355.com/"):]
    body = page[page.index(b"\r\n\r\n", page.index(b"HTTP/1.1")):][:200_000].decode("gb18030", "replace")
    titles = [html.unescape(t).strip() for t in re.findall(r"<a[^>]*>([^<]{4,40})</a>", body)]
    cutter = SpamBlockCutter(SpamBlocks())
    porn = list(dict.fromkeys(t for t in titles if cutter._ac.find_matches_as_indexes(t.lower())))[:8]
    assert len(porn) >= 5
    gold = json.loads(shared("html-zh", "magic-html", "article",
                             "groundtruth.json").read_text(encoding="utf-8"))
    content = next(g["content"] for g in gold.values() if 1500 < len(g["content"]) < 4000
                   and "kepu" in g["url"])
    paras = [p.strip() for p in content.split("\n") if p.strip()]
    doc = ("<html><head><meta charset='utf-8'><title>%s</title></head><body><article>%s"
           "<p>同类推荐</p>%s</article></body></html>") % (
        html.escape(paras[0]), "".join(f"<p>{html.escape(p)}</p>" for p in paras),
        "".join(f"<p>{html.escape(t)}</p>" for t in porn))  # as text: trafilatura drops bare link lists
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_text(doc, encoding="utf-8")
    recipe = yaml.safe_load((ROOT / "configs" / "zh_web.yaml").read_text(encoding="utf-8"))
    recipe["stages"] = [s for s in recipe["stages"] if s["name"] in ("collection", "coarse")]
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    assert main(["run", str(tmp_path / "recipe.yaml"), "-i", str(tmp_path / "in"), "-o",
                 str(tmp_path / "out"), "--engine", "serial", "--no-report", "--no-progress"]) == 0
    rows = ds.dataset(tmp_path / "out" / "data").to_table().to_pylist()
    assert len(rows) == 1, "the page was dropped"
    text, cut = rows[0]["text"], rows[0]["coarse__cut_spam"] or ""
    assert paras[1][:20] in text and not any(t in text for t in porn)
    assert sum(t in cut for t in porn) >= 5
