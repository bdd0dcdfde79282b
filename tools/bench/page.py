"""Throughput of the quality stage with the page model and all its signals, per core, part by part.

    python -m tools.bench.page [--repeat 3] [--json docs/page-bench.json]

What is timed: `QualityFilter.process` on Arrow batches of 1,000 documents (fluency model, brand
matching, page input line, fastText predict, decisions, columns in), in one process pinned to one CPU;
the best of `--repeat` runs counts, in CPU seconds of the process. MB are UTF-8 bytes of the full
text. Next to it, in the same run: the parts alone, and the first round's two-class model
(`quality_zh.ftz`, a 2,000-character prefix) as the baseline.

Documents, as the collection stage leaves them (normalised, Simplified): the wiki-zh paragraphs joined
into documents of 2–20 KB (seeded), and the magic-html main texts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import pyarrow as pa

from mdfs.quality.model import PrepareConfig, prepare_function
from mdfs.stage import StageContext
from mdfs.stages.quality import DEFAULT_MODEL, QualityFilter
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[3]
SHARED = shared_corpora()
BAR_MB_S = 15.0  # the bar for the quality stage, per core


def documents(seed: int = 5) -> dict[str, list[str]]:
    prep = prepare_function(PrepareConfig())
    paras = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(SHARED / "wiki-zh" / name, encoding="utf-8") as f:
            paras += [prep(json.loads(line)["text"]) for line in f]
    rng, docs, cur = random.Random(seed), [], []
    target = rng.randint(2000, 20000)
    for p in paras:
        cur.append(p)
        if sum(map(len, cur)) * 3 >= target:
            docs.append(rng.choice(["", "标题\n"]) + "\n".join(cur))
            cur, target = [], rng.randint(2000, 20000)
    magic = []
    for kind in ("article", "forum"):
        truth = SHARED / "html-zh/magic-html" / kind / "groundtruth.json"
        gold = json.loads(truth.read_text(encoding="utf-8"))
        magic += [prep(g["content"]) for g in gold.values() if g["content"].strip()]
    return {"wiki-docs": docs, "html-zh": magic * 4}


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def measure(texts: list[str], repeat: int) -> dict:
    page = QualityFilter("quality")
    page.setup()
    two = QualityFilter("quality", QualityFilter.Params(model=str(DEFAULT_MODEL.parent / "quality_zh.ftz")))
    two.setup()
    mb = sum(len(t.encode()) for t in texts) / 1e6
    batches = [pa.table({"id": [str(i) for i in range(len(texts[k:k + 1000]))], "text": texts[k:k + 1000],
                         "url": [None] * len(texts[k:k + 1000])}) for k in range(0, len(texts), 1000)]

    def run(stage):
        return lambda: [stage.process(b, StageContext("quality", "b")) for b in batches]

    from mdfs.quality.page import PageText, Signals, page_line

    parts = {
        "whole stage (page model, all signals)": run(page),
        "  fluency model (CharLM.score_docs)": lambda: page.lm.score_docs(texts),
        "  brand matching": lambda: [page.brands.signals(PageText.of(t)) for t in texts],
        "  page input lines": lambda: [page_line(PageText.of(t), None, Signals()) for t in texts],
        "first round: two-class model, 2,000-char prefix": run(two),
    }
    rows = {}
    for name, fn in parts.items():
        sec = timed(fn, repeat)
        rows[name] = {"seconds": round(sec, 3), "mb_per_s_per_core": round(mb / sec, 1)}
    return {"documents": len(texts), "mb": round(mb, 2), "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = {"bar_mb_s_per_core": BAR_MB_S, "sets": {}}
    for name, texts in documents().items():
        res = measure(texts, args.repeat)
        out["sets"][name] = res
        print(f"\n{name}: {res['documents']} documents, {res['mb']} MB")
        for row, r in res["rows"].items():
            print(f"  {row:48} {r['mb_per_s_per_core']:7.1f} MB/s per core  ({r['seconds']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
