"""Fine filtering: what it catches among junk that fools the quality classifier, what clean text it
wrongly drops, and how fast it runs.

    .venv/bin/python -m tools.bench.fine [--mb 4] [--json out.json]

Spam: the documents written for this evaluation (`tools/bench/fine_spam.jsonl`), the demo corpus's spam,
and the Chinese pages of the shared Common Crawl WARC excerpt. Clean: Chinese Wikipedia paragraphs
(CMRC 2018) and the human-checked main text of the magic-html pages, plus the demo's clean articles.
Every text is normalised as the collection stage does, scored by the bundled quality model, then run
through the fine stage with the parameters of the default recipe (configs/zh_web.yaml).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import yaml

from mdfs.config import DEFAULT_CONFIG
from mdfs.stage import REJECT, StageContext
from mdfs.textnorm import normalize
from tools.pages import html_responses
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_corpora()
WRITTEN = Path(__file__).with_name("fine_spam.jsonl")
DEMO = ROOT / "configs" / "demo"
LENGTH_GATE = "too_short_final"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def recipe_params() -> dict:
    """The fine stage's parameters in the default recipe."""
    stages = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["stages"]
    return next(s.get("with", {}) for s in stages if (s.get("uses") or s["name"]) == "fine")


# -- the evaluation sets ---------------------------------------------------------------------------
def _demo_docs() -> list[dict]:
    import zstandard

    docs = [json.loads(line) for line in (DEMO / "data" / "news.jsonl").open(encoding="utf-8")]
    docs += [json.loads(line) for line in gzip.open(DEMO / "data" / "web.jsonl.gz", "rt", encoding="utf-8")]
    stream = zstandard.ZstdDecompressor().stream_reader((DEMO / "data" / "forum.jsonl.zst").open("rb"))
    docs += [json.loads(line) for line in io.TextIOWrapper(stream, encoding="utf-8")]
    return docs


def _demo_set(kind: str) -> list[dict]:
    """The demo corpus's documents of one kind (spam or clean)."""
    return [{"id": d["id"], "kind": f"demo_{kind}", "text": d["text"], "set": "demo"}
            for d in _demo_docs() if d["kind"] == kind]


def spam_set() -> list[dict]:
    docs = [{**json.loads(line), "set": "written"} for line in WRITTEN.open(encoding="utf-8")]
    docs += _demo_set("spam")
    warc = SHARED / "cc-warc" / "warcfile.warc"
    if warc.exists():
        docs += [
            {"id": page.url, "kind": "cc_warc", "text": page.text, "set": "cc-warc"}
            for page in html_responses(warc)
            if len(_CJK.findall(page.text)) >= 100
        ]
    return docs


def clean_set() -> list[dict]:
    docs = _demo_set("clean")
    wiki = SHARED / "wiki-zh" / "cmrc2018_paragraphs.zh-Hans.jsonl"
    if wiki.exists():
        docs += [
            {"id": d["id"], "kind": "wiki", "text": d["text"], "set": "wiki-zh"}
            for d in map(json.loads, wiki.open(encoding="utf-8"))
        ]
    drcd = SHARED / "wiki-zh" / "drcd_paragraphs.zh-Hant-TW.jsonl"
    if drcd.exists():  # Traditional: the pipeline converts it before fine filtering, so do the same
        import opencc

        t2s = opencc.OpenCC("tw2s")
        docs += [
            {"id": d["id"], "kind": "wiki_tw", "text": t2s.convert(d["text"]), "set": "wiki-zh"}
            for d in map(json.loads, drcd.open(encoding="utf-8"))
        ]
    for kind in ("article", "forum"):
        truth = SHARED / "html-zh" / "magic-html" / kind / "groundtruth.json"
        if truth.exists():
            docs += [
                {"id": stem, "kind": kind, "text": v["content"], "set": "html-zh"}
                for stem, v in json.loads(truth.read_text(encoding="utf-8")).items()
            ]
    return docs


# -- scoring ----------------------------------------------------------------------------------------
def fine_stage(params: dict | None = None):
    from mdfs.stages.fine import FineFilter

    stage = FineFilter(
        "fine", FineFilter.Params.model_validate(recipe_params() if params is None else params)
    )
    stage.setup()
    return stage


def judge(docs: list[dict], stage=None, threshold: float = 0.5) -> list[dict]:
    """Add `quality` (bundled model score), `passes` (≥ threshold) and `reason` (fine's, or None)."""
    from mdfs.stages.quality import QualityFilter

    texts = [normalize(d["text"]) for d in docs]
    quality = QualityFilter("quality")
    quality.setup()
    scores = quality.score(texts)
    stage = stage or fine_stage()
    out = stage.process(
        pa.table({"id": [d["id"] for d in docs], "text": texts}), StageContext("fine", "eval")
    )
    reasons = out.column(REJECT).to_pylist()
    return [
        {**d, "quality": float(s), "passes": bool(s >= threshold), "reason": r}
        for d, s, r in zip(docs, scores, reasons)
    ]


def summarize(spam: list[dict], clean: list[dict]) -> dict:
    """Catch rate on spam (all, and the part the classifier passes) and false drops on clean text.

    A spam rule's catch excludes the length gate, which is not aimed at spam; the length gate's drops of
    clean text are reported on their own (they are by design, not mistakes of the spam rules)."""

    def caught(rows):
        return [r for r in rows if r["reason"] and r["reason"] != LENGTH_GATE]

    passing = [r for r in spam if r["passes"]]
    return {
        "spam": len(spam),
        "spam_passing_classifier": len(passing),
        "caught_all": len(caught(spam)),
        "caught_passing": len(caught(passing)),
        "catch_rate_passing": len(caught(passing)) / max(1, len(passing)),
        "catch_rate_all": len(caught(spam)) / max(1, len(spam)),
        "caught_passing_by_set": dict(Counter(r["set"] for r in caught(passing))),
        "passing_by_set": dict(Counter(r["set"] for r in passing)),
        "missed_passing": [
            {"id": r["id"], "set": r["set"], "kind": r["kind"], "text": r["text"][:80]}
            for r in passing
            if not (r["reason"] and r["reason"] != LENGTH_GATE)
        ],
        "reasons_passing": dict(Counter(r["reason"] for r in caught(passing))),
        "clean": len(clean),
        "clean_by_set": dict(Counter(r["set"] for r in clean)),
        "false_drops": len(caught(clean)),
        "false_drop_rate": len(caught(clean)) / max(1, len(clean)),
        "false_drops_by_reason": dict(Counter(r["reason"] for r in caught(clean))),
        "false_drop_examples": [
            {"id": r["id"], "set": r["set"], "reason": r["reason"], "text": r["text"][:80]}
            for r in caught(clean)
        ],
        "length_gate_clean": sum(r["reason"] == LENGTH_GATE for r in clean),
    }


# -- throughput -------------------------------------------------------------------------------------
def throughput(texts: list[str], mb: float) -> list[dict]:
    """MB/s on one core of the fine stage as shipped, of its parts, and of the obvious alternative:
    jieba (default, with HMM) over whole documents instead of a bounded prefix without HMM."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    corpus, size = [], 0
    while size < mb * 1e6:
        for t in texts:
            corpus.append(t)
            size += len(t.encode())
    table = pa.table({"id": [str(i) for i in range(len(corpus))], "text": corpus})
    shipped = fine_stage()
    no_jieba = fine_stage({**recipe_params(), "stuffing": {"threshold": None, "phrase_threshold": None}})
    tok = jieba.Tokenizer()
    tok.initialize()

    def timed(fn) -> float:
        t0 = time.perf_counter()
        for start in range(0, table.num_rows, 2000):
            fn(table.slice(start, 2000))
        return time.perf_counter() - t0

    rows = [
        ("fine stage (default recipe)", timed(lambda b: shipped.process(b, StageContext("fine", "b")))),
        (
            "  without keyword stuffing (Arrow rules only)",
            timed(lambda b: no_jieba.process(b, StageContext("fine", "b"))),
        ),
        (
            "  keyword stuffing alone (jieba, 1,000-char prefix, no HMM)",
            timed(lambda b: shipped.stuffing.scores(b.column("text").to_pylist())),
        ),
        (
            "alternative: jieba.lcut on whole documents (HMM on)",
            timed(lambda b: [tok.lcut(t) for t in b.column("text").to_pylist()]),
        ),
    ]
    return [{"what": what, "seconds": round(s, 3), "mb_per_s": round(size / 1e6 / s, 2)} for what, s in rows]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=4.0, help="MB of clean text for the throughput runs")
    ap.add_argument("--json", default="fine_bench.json")
    args = ap.parse_args(argv)
    spam, clean = judge(spam_set()), judge(clean_set())
    summary = summarize(spam, clean)
    print("| set | documents | passing the classifier | caught by fine rules |\n|---|---|---|---|")
    for name in ("written", "demo", "cc-warc"):
        rows = [r for r in spam if r["set"] == name]
        passing = [r for r in rows if r["passes"]]
        hit = [r for r in passing if r["reason"] and r["reason"] != LENGTH_GATE]
        print(f"| spam: {name} | {len(rows)} | {len(passing)} | {len(hit)} |")
    print(
        f"\ncatch rate on spam passing the classifier: {summary['caught_passing']}/"
        f"{summary['spam_passing_classifier']} = {summary['catch_rate_passing']:.1%}; on all spam: "
        f"{summary['caught_all']}/{summary['spam']} = {summary['catch_rate_all']:.1%}"
    )
    print(
        f"false drops on clean text: {summary['false_drops']}/{summary['clean']} = "
        f"{summary['false_drop_rate']:.2%} {summary['false_drops_by_reason']}; "
        f"length gate: {summary['length_gate_clean']}"
    )
    speed = throughput([normalize(d["text"]) for d in clean if d["set"] != "demo"], args.mb)
    print("\n| what | MB/s (one core) |\n|---|---|")
    for row in speed:
        print(f"| {row['what']} | {row['mb_per_s']} |")
    base = speed[0]["mb_per_s"]
    print(f"\nshipped / alternative jieba alone: {base / speed[-1]['mb_per_s']:.1f}×")
    Path(args.json).write_text(
        json.dumps({"quality": summary, "throughput": speed}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
