"""The page's main run of sibling blocks (stages/collection/threads.py): thread replies the extractor missed
are added, non-prose lines after an article are cut. Real pages of html-zh/magic-html, tuning side only
(read from ../shared/corpora by id; skipped when the corpus is absent)."""

from __future__ import annotations

import json

import pytest

from mdfs.charmetric import Overlap
from mdfs.stages.collection import Collection
from mdfs.stages.collection.charset import decode_page
from mdfs.stages.collection.extract import EXTRACTORS
from mdfs.stages.collection.threads import add_thread, thread_posts, trim_tail, with_structure

from .conftest import shared

FLARUM = ("forum", "3a43c342657cab39")  # a flarum thread: trafilatura keeps the first post of eleven
FOOD = ("article", "0987b0ff61a8eca7")  # a health article followed by news, video and hospital lists
TIEBA = ("forum", "6db2e2d672d8b4fe")  # a tieba thread followed by the "hot topics" list and an app banner
ZHIDAO = ("forum", "660f1afdd0b5d2c4")  # a Q&A page whose last answers come after the run: prose, kept


def page(kind: str, stem: str) -> tuple[str, str]:
    folder = shared("html-zh", "magic-html", kind)
    truth = json.loads((folder / "groundtruth.json").read_text(encoding="utf-8"))
    key = next(k for k in truth if k.startswith(stem))
    return decode_page((folder / f"{key}.html").read_bytes()).text, truth[key]["content"]


EXTRACT = EXTRACTORS["trafilatura_recall"]
STRUCTURE = with_structure(EXTRACT, ratio=2.0, trim=True)


def test_thread_replies_the_extractor_missed_are_added():
    html, gold = page(*FLARUM)
    before, after = Overlap.of(EXTRACT(html), gold), Overlap.of(STRUCTURE(html), gold)
    assert before.recall < 0.4 and after.recall > 0.75  # the replies are back
    assert after.precision > 0.95  # and only them
    assert len(thread_posts(html)) >= 10


@pytest.mark.parametrize("which", [FOOD, TIEBA])
def test_lists_after_the_main_run_are_cut(which):
    html, gold = page(*which)
    before, after = Overlap.of(EXTRACT(html), gold), Overlap.of(STRUCTURE(html), gold)
    assert after.precision > before.precision + 0.1 and after.precision > 0.9
    assert after.recall > before.recall - 0.02  # nothing of the gold lost with them


def test_prose_after_the_run_is_kept():
    html, gold = page(*ZHIDAO)
    text = STRUCTURE(html)
    assert text == EXTRACT(html)
    assert Overlap.of(text, gold).f1 > 0.95


def test_collection_stage_uses_the_run_and_can_turn_it_off():
    html, gold = page(*FLARUM)
    on = Collection("collection", Collection.Params(lang_id=False))  # the default: replies added, no trim
    off = Collection("collection", Collection.Params(lang_id=False, thread_ratio=None))
    for stage in (on, off):
        stage.setup()
    recall_on, recall_off = (Overlap.of(s.main_text(html)[0], gold).recall for s in (on, off))
    assert recall_on > recall_off + 0.4
    assert off.main_text(html)[0] == EXTRACT(html)
    food = page(*FOOD)[0]
    assert on.main_text(food)[0] == EXTRACT(food)  # trim_tail is off by default
    trim = Collection("collection", Collection.Params(lang_id=False, trim_tail=True))
    trim.setup()
    assert trim.main_text(food)[0] == STRUCTURE(food) != EXTRACT(food)


POSTS = ["楼主：这台相机的对焦总是很慢，有什么办法吗？", "二楼：先把固件升级到最新版本再试试。",
         "三楼：镜头触点脏了也会这样，用橡皮擦一擦。", "四楼：换了镜头以后就正常了，谢谢各位。"]


def test_add_thread_only_when_the_posts_hold_ratio_times_the_text():
    short = POSTS[0]
    added = add_thread(short, POSTS, ratio=2.0)
    assert added.split("\n") == POSTS  # the first post is not repeated
    long = "\n".join(POSTS[:3])
    assert add_thread(long, POSTS, ratio=2.0) == long  # the extractor kept most of the thread
    assert add_thread("", [], ratio=2.0) == ""
    article = "这是一篇讲相机保养的文章，正文里没有任何一条帖子的内容。"
    assert add_thread(article, POSTS, ratio=2.0) == article  # the run is not anchored in the text


def test_trim_tail_cuts_a_title_list_and_keeps_sentences():
    body = "\n".join(POSTS)
    titles = "\n".join(["相关阅读", "- 相机对焦慢怎么办", "- 2024-01-02 镜头清洁小技巧", "- 固件升级教程"])
    assert trim_tail(body + "\n" + titles, POSTS) == body
    reply = "五楼：我也遇到过，后来发现是设置里开了省电模式，关掉就好了。"
    assert trim_tail(body + "\n" + reply, POSTS) == body + "\n" + reply
    assert trim_tail(titles, POSTS) == titles  # no line of the run: nothing to anchor on


def test_thread_posts_on_odd_pages():
    paragraph = "<p>这是一段足够长的中文段落，说明页面的正文在这些段落里。</p>"
    xhtml = f'<?xml version="1.0" encoding="utf-8"?><html><body><div>{paragraph * 3}</div></body></html>'
    assert len(thread_posts(xhtml)) == 3  # a decoded page keeping its XML declaration is still parsed
    links = "<ul>" + "<li><a href='/a'>一条很长的链接标题，指向站内的另一篇文章</a></li>" * 5 + "</ul>"
    assert thread_posts(f"<html><body>{links}</body></html>") == []  # a link list is not a thread
    assert thread_posts("") == [] and thread_posts("<html></html>") == []


def test_deeply_nested_pages_do_not_crash_the_run_finder():
    reply = "这是一条嵌套得很深的回复，内容足够长。"
    post = "<div class='post'>" + "<div>" * 3000 + reply + "</div>" * 3000 + "</div>"
    assert isinstance(thread_posts(f"<html><body>{post * 3}</body></html>"), list)
