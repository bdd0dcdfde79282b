"""Compare main-text extractors on the Chinese pages of html-zh against their ground truth.

    python -m tools.bench.extraction [--shared ../shared/corpora] [--repeat 2] [--json out.json]

Metric: `mdfs.charmetric` (character multisets after mdfs.textnorm, whitespace removed; precision
= |E ∩ G| / |E|, recall = |E ∩ G| / |G|, F1 their harmonic mean; an empty extraction scores 0), the
same one `mdfs eval --gold` uses. The same on character bigrams is a stricter check (order and
adjacency). Scores are averaged over pages (macro). Speed is pages per second of the extractor alone
(HTML already decoded), one core. Paragraph breaks: lines per page of the extraction against the ground
truth's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from mdfs.charmetric import prf
from mdfs.goldtext import html_text, shared_corpora
from mdfs.textnorm import normalize
from mdfs.stages.collection.charset import decode_page
from mdfs.stages.collection.extract import EXTRACTORS, FALLBACK_MIN_CHARS, with_fallback
from mdfs.stages.collection.threads import with_structure

DEFAULT_SHARED = shared_corpora()


def load_pages(shared: Path) -> list[dict]:
    """[{set, name, html, truth}] for magic-html (article, forum) and readability."""
    pages = []
    for subset in ("article", "forum"):
        folder = shared / "html-zh" / "magic-html" / subset
        truth = json.loads((folder / "groundtruth.json").read_text(encoding="utf-8"))
        for stem, entry in sorted(truth.items()):
            raw = (folder / f"{stem}.html").read_bytes()
            pages.append({"set": f"magic-{subset}", "name": stem[:12], "html": decode_page(raw).text,
                          "truth": entry["content"]})
    for folder in sorted((shared / "html-zh" / "readability").iterdir()):
        if not (folder / "source.html").exists():
            continue
        pages.append({"set": "readability", "name": folder.name,
                      "html": decode_page((folder / "source.html").read_bytes()).text,
                      "truth": html_text((folder / "expected.html").read_bytes().decode("utf-8"))})
    return pages


def _lines(text: str) -> int:
    return sum(1 for line in normalize(text).split("\n") if line.strip())


# Each trafilatura mode with the collection stage's fallback: resiliparse where it finds no main text.
COMBINED = {f"{name}+resiliparse": with_fallback(EXTRACTORS[name], EXTRACTORS["resiliparse"],
                                                 FALLBACK_MIN_CHARS)
            for name in ("trafilatura_recall", "trafilatura_precision")}
# The collection stage's post run (stages/collection/threads.py) on top of the default extractor: thread
# replies added (thread_ratio 2, the default), and with the tail after the run cut (trim_tail).
COMBINED["trafilatura_recall+threads"] = with_structure(EXTRACTORS["trafilatura_recall"], 2.0, trim=False)
COMBINED["trafilatura_recall+threads+trim"] = with_structure(EXTRACTORS["trafilatura_recall"], 2.0, trim=True)


def evaluate(pages: list[dict], names: list[str], repeat: int) -> dict:
    results = {}
    for name in names:
        fn = COMBINED.get(name) or EXTRACTORS[name]
        best, outputs = float("inf"), []
        for _ in range(repeat):
            t0 = time.perf_counter()
            outputs = [fn(p["html"]) for p in pages]
            best = min(best, time.perf_counter() - t0)
        per_set: dict[str, list] = {}
        for page, out in zip(pages, outputs):
            scores = prf(out, page["truth"]) + prf(out, page["truth"], 2)[2:]
            per_set.setdefault(page["set"], []).append(scores)
            per_set.setdefault("all", []).append(scores)
        results[name] = {
            "pages_per_s": len(pages) / best,
            "mb_per_s": sum(len(p["html"].encode()) for p in pages) / best / 1e6,
            "empty": sum(1 for o in outputs if not o.strip()),
            "lines_ratio": statistics.median(_lines(o) / max(_lines(p["truth"]), 1)
                                             for o, p in zip(outputs, pages)),
            "sets": {s: {k: statistics.mean(v[i] for v in vals)
                         for i, k in enumerate(("p", "r", "f1", "f1_bigram"))} | {"pages": len(vals)}
                     for s, vals in per_set.items()},
        }
    return results


def markdown(results: dict) -> str:
    sets = ["magic-article", "magic-forum", "readability", "all"]
    head = ("| extractor | " + " | ".join(f"F1 {s}" for s in sets)
            + " | P all | R all | F1 bigram all | pages/s | MB/s | empty | lines vs truth |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in sorted(results.items(), key=lambda kv: -kv[1]["sets"]["all"]["f1"]):
        s = r["sets"]
        rows.append(f"| {name} | " + " | ".join(f"{s[x]['f1']:.3f}" for x in sets)
                    + f" | {s['all']['p']:.3f} | {s['all']['r']:.3f} | {s['all']['f1_bigram']:.3f}"
                    + f" | {r['pages_per_s']:.1f} | {r['mb_per_s']:.2f} | {r['empty']}"
                    + f" | {r['lines_ratio']:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--repeat", type=int, default=2, help="timing runs per extractor; the best counts")
    ap.add_argument("--extractors", nargs="*", default=list(COMBINED) + list(EXTRACTORS))
    ap.add_argument("--json", type=Path, default=Path("bench-extraction.json"))
    args = ap.parse_args(argv)
    pages = load_pages(args.shared)
    results = evaluate(pages, args.extractors, args.repeat)
    print(f"{len(pages)} pages ({Counter(p['set'] for p in pages)}), one core, best of {args.repeat}\n")
    print(markdown(results))
    args.json.write_text(json.dumps({"pages": len(pages), "results": results}, indent=2))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
