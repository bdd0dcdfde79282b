"""Coarse filtering speed, MB/s per core, on real text; side by side with datatrove's Gopher/C4 filters.

    .venv/bin/python -m tools.bench.coarse [--repeat 2] [--json out/bench/coarse.json]

Documents: Chinese Wikipedia paragraphs (CMRC 2018 + DRCD) concatenated eight to a document, the
human-checked main texts of the magic-html pages, and junk (the Chinese pages of the shared Common Crawl
WARC excerpt, as whole-page text). Every text is normalised as the collection stage does (NFKC, OpenCC t2s)
before timing. mdfs's coarse stage runs with the parameters of the default recipe (configs/zh_web.yaml)
on batches of 1,000 documents with Arrow limited to one thread, so the figure is per core.

If a Python with datatrove is found (`--datatrove-python`, default /tmp/venv-dt/bin/python; install it
in its own venv: `pip install datatrove[processing] spacy jieba`), the same documents go through
datatrove's GopherRepetitionFilter, GopherQualityFilter and C4QualityFilter (language zh, which segments
with spaCy + jieba) in a subprocess, and the table shows the speed ratio. datatrove is never imported here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import yaml

from mdfs.config import DEFAULT_CONFIG
from mdfs.stage import REJECT, StageContext
from mdfs.textnorm import normalize
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_corpora()
BAR_MB_S = 15.0
BATCH = 1000
PARAGRAPHS_PER_DOC = 8

DATATROVE = r'''
import json, sys, time
from datatrove.data import Document
from datatrove.pipeline.filters import C4QualityFilter, GopherQualityFilter, GopherRepetitionFilter
docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
filters = [GopherRepetitionFilter(language="zh"), GopherQualityFilter(language="zh"),
           C4QualityFilter(language="zh")]
for f in filters:  # warm up: loads jieba's dictionary and spaCy once
    f.filter(Document(text="预热：加载分词词典。" * 20, id="warmup"))
out = {}
for name in sorted({d["set"] for d in docs}):
    part = [d for d in docs if d["set"] == name]
    kept, reasons, t0, c0 = 0, {}, time.perf_counter(), time.process_time()
    for d in part:
        doc = Document(text=d["text"], id=d["id"])
        ok = True
        for f in filters:
            r = f.filter(doc)
            if not (r[0] if isinstance(r, tuple) else r):
                why = r[1] if isinstance(r, tuple) else type(f).__name__
                reasons[why] = reasons.get(why, 0) + 1
                ok = False
                break
        kept += ok
    out[name] = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "kept": kept,
                 "reasons": reasons}
print(json.dumps(out))
'''


def recipe_params() -> dict:
    stages = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["stages"]
    return next(s.get("with", {}) for s in stages if (s.get("uses") or s["name"]) == "coarse")


def load_sets(shared: Path) -> dict[str, list[str]]:
    import opencc

    t2s = opencc.OpenCC("t2s")
    paragraphs = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(shared / "wiki-zh" / name, encoding="utf-8") as f:
            paragraphs += [json.loads(line)["text"] for line in f]
    wiki = ["\n\n".join(paragraphs[i:i + PARAGRAPHS_PER_DOC])
            for i in range(0, len(paragraphs), PARAGRAPHS_PER_DOC)]
    html = []
    for kind in ("article", "forum"):
        truth = json.loads((shared / "html-zh" / "magic-html" / kind / "groundtruth.json").read_text("utf-8"))
        html += [v["content"] for v in truth.values()]
    from tools.pages import chinese_pages

    junk = [p.text for p in chinese_pages(shared / "cc-warc" / "warcfile.warc")]
    return {name: [t2s.convert(normalize(t)) for t in texts]
            for name, texts in (("wiki-zh", wiki), ("html-zh", html), ("junk", junk))}


def run_mdfs(sets: dict[str, list[str]], repeat: int) -> dict:
    from mdfs.stages.coarse import CoarseFilter

    pa.set_cpu_count(1)
    stage = CoarseFilter("coarse", CoarseFilter.Params.model_validate(recipe_params()))
    stage.setup()
    out = {}
    for name, texts in sets.items():
        batches = [pa.table({"id": [f"{name}-{i}" for i in range(s, min(s + BATCH, len(texts)))],
                             "text": texts[s:s + BATCH], "url": [None] * len(texts[s:s + BATCH])})
                   for s in range(0, len(texts), BATCH)]
        runs = []
        for _ in range(repeat):
            ctx = StageContext("coarse", "bench")
            reasons: Counter = Counter()
            t0, c0 = time.perf_counter(), time.process_time()
            for b in batches:
                result = stage.process(b, ctx)
                reasons.update(r for r in result.column(REJECT).to_pylist() if r)
            runs.append({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0})
        best = min(runs, key=lambda r: r["cpu_seconds"])
        out[name] = {**best, "runs": runs, "kept": len(texts) - sum(reasons.values()),
                     "reasons": dict(reasons)}
    return out


def run_datatrove(python: str, sets: dict[str, list[str]]) -> dict | None:
    if not Path(python).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        docs, script = Path(tmp) / "docs.jsonl", Path(tmp) / "dt.py"
        with open(docs, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"set": name, "id": f"{name}-{i}", "text": t}, ensure_ascii=False) + "\n"
                         for name, texts in sets.items() for i, t in enumerate(texts))
        script.write_text(DATATROVE, encoding="utf-8")
        proc = subprocess.run([python, str(script), str(docs)], capture_output=True, text=True, check=False,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        if proc.returncode:
            print(f"datatrove run failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return None
        return json.loads(proc.stdout.strip().splitlines()[-1])


def table(sets: dict[str, list[str]], ours: dict, theirs: dict | None) -> tuple[str, dict]:
    rows = ["| set | docs | MB | mdfs kept | mdfs MB/s per core | datatrove kept | datatrove MB/s | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    summary = {}
    totals = {"mb": 0.0, "ours": 0.0, "theirs": 0.0}
    for name, texts in sets.items():
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        o = ours[name]
        speed = mb / o["cpu_seconds"]
        row = {"docs": len(texts), "mb": mb, "mdfs_kept": o["kept"], "mdfs_mb_s": speed,
               "mdfs_reasons": o["reasons"]}
        totals["mb"] += mb
        totals["ours"] += o["cpu_seconds"]
        dt = "–"
        if theirs:
            t = theirs[name]
            row |= {"datatrove_kept": t["kept"], "datatrove_reasons": t.get("reasons", {}),
                    "datatrove_mb_s": mb / t["cpu_seconds"],
                    "ratio": t["cpu_seconds"] / o["cpu_seconds"]}
            totals["theirs"] += t["cpu_seconds"]
            dt = f"{t['kept']} | {row['datatrove_mb_s']:.2f} | {row['ratio']:.0f}×"
        else:
            dt = "– | – | –"
        rows.append(f"| {name} | {len(texts)} | {mb:.2f} | {o['kept']} | {speed:.1f} | {dt} |")
        summary[name] = row
    total = totals["mb"] / totals["ours"]
    ratio = f"{totals['theirs'] / totals['ours']:.0f}×" if theirs else "–"
    theirs_speed = f"{totals['mb'] / totals['theirs']:.2f}" if theirs else "–"
    rows.append(f"| **all** | {sum(len(t) for t in sets.values())} | {totals['mb']:.2f} | | "
                f"**{total:.1f}** | | {theirs_speed} | {ratio} |")
    summary["all"] = {"mb": totals["mb"], "mdfs_mb_s": total,
                      **({"datatrove_mb_s": totals["mb"] / totals["theirs"],
                          "ratio": totals["theirs"] / totals["ours"]} if theirs else {})}
    return "\n".join(rows), summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--repeat", type=int, default=2, help="timed passes over every set; the best counts")
    ap.add_argument("--datatrove-python", default="/tmp/venv-dt/bin/python")
    ap.add_argument("--json", type=Path, default=ROOT / "out" / "bench" / "coarse.json")
    args = ap.parse_args(argv)
    sets = load_sets(args.shared)
    ours = run_mdfs(sets, args.repeat)
    theirs = run_datatrove(args.datatrove_python, sets)
    text, summary = table(sets, ours, theirs)
    print(text)
    for name, row in summary.items():
        if "mdfs_reasons" in row:
            print(f"\n{name}: mdfs rejects {row['mdfs_reasons']}" +
                  (f"; datatrove rejects {row['datatrove_reasons']}" if "datatrove_reasons" in row else ""))
    verdict = "meets" if summary["all"]["mdfs_mb_s"] >= BAR_MB_S else "MISSES"
    print(f"\nmdfs coarse (default recipe): {summary['all']['mdfs_mb_s']:.1f} MB/s per core (CPU time), "
          f"{verdict} the {BAR_MB_S:.0f} MB/s bar. Load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores.")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"bar_mb_per_s": BAR_MB_S, "repeat": args.repeat, "sets": summary,
                                     "mdfs_runs": {k: v["runs"] for k, v in ours.items()},
                                     "datatrove": theirs is not None,
                                     "cpu": platform.processor() or platform.machine(),
                                     "load_average": os.getloadavg()[0]}, indent=2, ensure_ascii=False))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
