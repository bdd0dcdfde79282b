"""CharLM (mdfs.quality.charlm) on a tiny model trained here from generated text: no shared corpora."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mdfs.quality.charlm import CharLM

WORDS = ["今天", "天气", "很好", "我们", "一起", "去", "公园", "散步", "看到", "许多", "孩子", "在", "草地",
         "上", "玩耍", "老师", "带领", "学生", "参观", "博物馆", "了解", "历史", "文化", "城市", "发展",
         "迅速", "居民", "生活", "更加", "方便", "图书馆", "周末", "举办", "读书会", "大家", "分享", "自己",
         "喜欢", "的", "小说"]


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))) + rng.choice("。！？")


def document(rng: random.Random) -> str:
    return "\n".join("".join(sentence(rng) for _ in range(3)) for _ in range(rng.randint(1, 3)))


@pytest.fixture(scope="module")
def model() -> CharLM:
    rng = random.Random(1)
    return CharLM.train([document(rng) for _ in range(600)], order=3, bits=14)


@pytest.fixture(scope="module")
def docs() -> list[str]:
    rng = random.Random(2)
    return [document(rng) for _ in range(30)]


def shuffled(text: str, rng: random.Random) -> str:
    chars = list(text.replace("\n", ""))
    rng.shuffle(chars)
    return "".join(chars)


def test_save_load_round_trip_scores_identically(model, docs, tmp_path):
    path = tmp_path / "lm.npz"
    model.save(path)
    again = CharLM.load(path)
    for a, b in zip(model.score_docs(docs), again.score_docs(docs)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.paragraph_ppl(docs)[0], again.paragraph_ppl(docs)[0])
    assert again.threshold == model.threshold and again.order == model.order


def test_shuffled_characters_score_higher(model, docs):
    rng = random.Random(3)
    clean_ppl, clean_high = model.score_docs(docs)
    junk_ppl, junk_high = model.score_docs([shuffled(d, rng) for d in docs])
    assert (junk_ppl > clean_ppl).all()
    assert np.median(junk_ppl) > 3 * np.median(clean_ppl)
    assert junk_high.mean() > clean_high.mean()
    assert 1 < model.threshold < np.median(junk_ppl)  # calibrated on held-out generated text


def test_empty_and_short_documents_get_finite_defaults(model):
    assert all(len(x) == 0 for x in model.score_docs([]))
    ppl, high = model.score_docs(["", "   ", "\n\n", "天气", "今天\n天气很好"])
    assert np.isfinite(ppl).all() and np.isfinite(high).all()
    # nothing to score (empty, blank, only newlines): doc_ppl 0.0 and high_share 0.0
    assert ppl[:3].tolist() == [0.0, 0.0, 0.0] and high[:3].tolist() == [0.0, 0.0, 0.0]
    # only short paragraphs: scored over all of them instead of being dropped
    assert (ppl[3:] > 1).all() and ((high[3:] >= 0) & (high[3:] <= 1)).all()
    p, n = model.paragraph_ppl(["", "天气"])
    assert p[0] == 0.0 and n[0] == 0 and p[1] > 1 and n[1] == 2
    assert len(model.paragraph_ppl([])[0]) == 0


def test_scores_are_deterministic_and_independent_of_the_batch(model, docs):
    a = model.score_docs(docs)
    b = model.score_docs(docs)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    alone = [model.score_docs([d]) for d in docs[:5]]
    for i, (p, h) in enumerate(alone):
        assert p[0] == a[0][i] and h[0] == a[1][i]
    assert a[0].dtype == np.float32 and a[1].dtype == np.float32


def test_long_documents_are_bounded(model):
    rng = random.Random(4)
    long_doc = "\n".join(document(rng) for _ in range(400))
    ppl, _ = model.score_docs([long_doc], max_chars=3000)
    assert np.isfinite(ppl[0]) and ppl[0] > 1
    # a junk middle beyond the budget still shows up: the middle third is scored too
    mid = len(long_doc) // 2
    junk_mid = long_doc[:mid - 2000] + shuffled(long_doc[:4000], rng) + long_doc[mid + 2000:]
    assert model.score_docs([junk_mid])[0][0] > ppl[0]
