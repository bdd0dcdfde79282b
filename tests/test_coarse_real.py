"""The default recipe's coarse stage on real data (../shared/corpora), the figures of docs/coarse.md:
at least 98% of Wikipedia paragraphs kept, at least 95% of the Chinese html-zh ground-truth main texts
kept, at least 90% of the Chinese spam pages of the Common Crawl excerpt rejected.

Texts are normalised as the collection stage does (NFKC, OpenCC t2s) and then run through the coarse
stage built from configs/zh_web.yaml. The WARC pages are whole-page text (tools/pages.py); the last test
reads the same WARC through mdfs's own reader and collection stage.
"""

import json
import re

import opencc
import pyarrow as pa
import pyarrow.parquet
import pytest

from mdfs.config import load_config
from mdfs.registry import build_stage
from mdfs.stage import REJECT, StageContext
from mdfs.textnorm import normalize
from tools.pages import chinese_pages

from .conftest import shared

KANA = re.compile(r"[\u3040-\u30ff]")


@pytest.fixture(scope="module")
def coarse():
    cfg = load_config(None)
    index, spec = next((i, s) for i, s in enumerate(cfg.stages) if s.name == "coarse")
    stage = build_stage(spec, index)
    stage.setup()
    return stage


@pytest.fixture(scope="module")
def t2s():
    return opencc.OpenCC("t2s")


def decide(stage, texts, t2s, urls=None):
    """(reasons, stage counters) for texts normalised as the collection stage does."""
    texts = [t2s.convert(normalize(t)) for t in texts]
    batch = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts,
                      "url": pa.array(urls or [None] * len(texts), pa.string())})
    ctx = StageContext("coarse", "real")
    return stage.process(batch, ctx).column(REJECT).to_pylist(), ctx.counters


def test_wiki_paragraphs_are_kept(coarse, t2s):
    texts = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(shared("wiki-zh", name), encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
    reasons, counters = decide(coarse, texts, t2s)
    kept = sum(r is None for r in reasons) / len(texts)
    assert len(texts) == 3104 and kept >= 0.98, [r for r in reasons if r]
    lexicon = sum(1 for r in reasons if r and r.startswith("lexicon_"))
    assert lexicon / len(texts) <= 0.002  # the lexicons do not fail clean prose
    assert counters["lines_removed__boilerplate"] <= 5  # and line cleaning leaves encyclopedic text alone


def test_html_ground_truth_main_texts_are_kept(coarse, t2s):
    texts = []
    for kind in ("article", "forum"):
        truth = json.loads(shared("html-zh", "magic-html", kind, "groundtruth.json").read_text("utf-8"))
        texts += [(v["content"], v["url"]) for v in truth.values()]
    chinese = [(t, u) for t, u in texts if not KANA.search(t)]  # a few pages are Japanese (kanji > 20%)
    reasons, counters = decide(coarse, [t for t, _ in chinese], t2s, [u for _, u in chinese])
    kept = sum(r is None for r in reasons) / len(chinese)
    assert len(texts) == 81 and len(chinese) >= 75 and kept >= 0.95, [r for r in reasons if r]
    removed = sum(v for k, v in counters.items() if k.startswith("chars_removed__"))
    total = sum(len(t) for t, _ in chinese)
    assert removed / total < 0.05  # line cleaning takes little of a real main text


def test_chinese_spam_pages_are_rejected(coarse, t2s):
    pages = chinese_pages(shared("cc-warc", "warcfile.warc"))
    assert len(pages) == 12  # the 12 Chinese pages of the excerpt: porn, gambling, hijacked and stuffed pages
    reasons, counters = decide(coarse, [p.text for p in pages], t2s, [p.url for p in pages])
    rejected = sum(r is not None for r in reasons) / len(pages)
    assert rejected >= 0.90, dict(zip([p.url for p in pages], reasons))
    assert counters["docs_flagged__lexicon_porn"] >= 3 \
        and counters["docs_flagged__lexicon_gambling_lottery"] >= 5


def test_lexicon_recall_on_public_lists():
    """A floor under the measured recall (docs/coarse.md), so an edit cannot silently gut the lexicons."""
    from tools.bench.lexicon import all_categories, recall

    shared("lexicons", "ldnoobw", "zh")
    rec = recall(all_categories(), shared())
    assert rec["ldnoobw/zh"]["recall_any"] >= 0.06
    assert rec["konsheng/色情类型.txt"]["recall_category"] >= 0.15
    assert rec["konsheng/涉枪涉爆.txt"]["recall_category"] >= 0.12


def test_chinese_spam_pages_through_the_reader_and_collection(tmp_path):
    """The same pages read by mdfs's own WARC reader and the default recipe's collection stage (main-text
    extraction, language ID) before coarse: the path a real crawl takes. Skips until the reader exists."""
    import mdfs
    from mdfs.config import InputConfig, validate

    if "warc" not in InputConfig.model_fields["format"].annotation.__args__:
        pytest.skip("mdfs has no WARC reader yet")
    warc = shared("cc-warc", "warcfile.warc.gz")
    chinese = {p.url for p in chinese_pages(shared("cc-warc", "warcfile.warc"))}
    data = load_config(None).model_dump(by_alias=True)
    data["stages"] = [s for s in data["stages"] if s["name"] in ("collection", "coarse")]
    data["input"]["paths"], data["output"]["path"] = [str(warc)], str(tmp_path / "o")
    data["engine"]["kind"] = "serial"
    cfg = validate(data)
    mdfs.run(cfg, progress=False)
    rejected = pa.concat_tables([pa.parquet.read_table(p, columns=["url", "stage"])  # stages differ in scores
                                 for p in (tmp_path / "o" / "rejects").glob("*/*.parquet")])
    by_url = dict(zip(rejected.column("url").to_pylist(), rejected.column("stage").to_pylist()))
    gone = [u for u in chinese if by_url.get(u) in ("collection", "coarse")]
    reached = [u for u in chinese if by_url.get(u) != "collection"]
    by_coarse = [u for u in reached if by_url.get(u) == "coarse"]
    assert len(gone) / len(chinese) >= 0.90, {u: by_url.get(u) for u in chinese}
    assert len(by_coarse) / len(reached) >= 0.90
