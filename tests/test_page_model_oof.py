"""Out-of-fold threshold choice (tools/models/oof.py) and the generated pages the page model trains on."""

from __future__ import annotations

import random

import numpy as np

from mdfs.quality.page import PageText, sources, title_overlap, topic_tokens
from tools.models import junkgen, oof


def _probs(rows: list[tuple[str, float]]) -> np.ndarray:
    """One row per document: p(farm) as given, the rest of the mass on clean."""
    out = np.zeros((len(rows), len(oof.CLASSES)))
    for i, (_, p) in enumerate(rows):
        out[i, oof.CLASSES.index("farm")] = p
        out[i, 0] = 1 - p
    return out


def test_choose_keeps_every_clean_category_within_its_budget():
    rng = random.Random(0)
    docs = [("clean", "academic", rng.uniform(0, 0.6)) for _ in range(300)]
    docs += [("clean", "news", rng.uniform(0, 0.3)) for _ in range(20)] + [("clean", "news", 0.9)]
    docs += [("farm", "content_farm", rng.uniform(0.4, 1.0)) for _ in range(200)]
    labels, cats = [d[0] for d in docs], [d[1] for d in docs]
    probs = _probs([(d[0], d[2]) for d in docs])
    got = oof.choose(probs, labels, cats, max_loss=0.02, small_loss=0.1, orders=5)
    dropped = oof.dropped(probs, got["drop"], got["min_clean"])
    academic = np.array([c == "academic" for c in cats])
    news = np.array([c == "news" for c in cats])
    assert dropped[academic].sum() <= 6  # 2% of 300
    assert dropped[news].sum() <= 2  # the small categories pooled: 10% of 21
    assert got["drop"]["farm"] == 0.6 and got["junk_caught"] > 0.6  # as low as academic text allows
    strict = oof.choose(probs, labels, cats, max_loss=0.0, small_loss=0.0, orders=5)
    assert strict["drop"]["farm"] > got["drop"]["farm"] and strict["junk_caught"] < got["junk_caught"]


def test_folds_keep_a_group_together():
    rows = [{"family": "wiki", "group": g} for g in ("a", "b", "a", "c", "b")]
    f = oof.folds(rows, 5)
    assert f[0] == f[2] and f[1] == f[4] and all(0 <= x < 5 for x in f)


def test_marks_count_what_makes_a_generated_page_farm():
    assert junkgen.marks("keyword_inserted", "减肥茶_标题\n第一句。减肥茶第二句。减肥茶，第三句。") == 2
    assert junkgen.marks("spun", "我们今朝透露表现，经由过程钻研可以解决成绩。") == 4
    assert junkgen.marks("spliced", "任何文本") is None


def test_title_overlap_and_topic_tokens():
    news = PageText.of("警方破获网络诈骗案\n本报讯 昨日，市警方破获一起网络诈骗案，抓获嫌疑人五名。")
    seo = PageText.of("华体会app下载_注册送彩金\n据金沙娱乐报道，今年夏粮再获丰收，各地抢收抢种。")
    assert title_overlap(news.title, news.sample) == 1.0
    assert title_overlap(seo.title, seo.sample) < 0.25
    assert title_overlap("", "正文") == -1.0 == title_overlap("标题很长", "")
    assert topic_tokens(news) == ["f:tov4", "s:本", "s:报"]
    tokens = topic_tokens(seo)
    assert tokens[:2] == ["f:tov0", "f:gregt"] and {"s:金", "s:沙", "s:娱", "s:乐"} <= set(tokens)


def test_sources_are_the_bylines_in_text_order():
    text = "本报讯 昨日，全市。据新华社报道，今天。记者获悉，明天。华体会（官网）表示，好。手机通讯录很好。"
    assert sources(text, 5) == ["本报", "新华社", "记者", "华体会", "手机通"]
    assert sources(text) == ["本报", "新华社", "记者"]
    assert sources("据人民网获悉，今天") == ["人民网"]  # counted once, without 据
    assert sources("他说，一个，很长的句子里没有来源") == []
