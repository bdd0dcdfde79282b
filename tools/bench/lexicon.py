"""The default Chinese lexicon against public lists (recall) and against clean prose (false rejections).

    .venv/bin/python -m tools.bench.lexicon [--json out/bench/lexicon.json]

Recall: a reference term counts as found when the default lexicon matches inside it, normalised the same
way as documents (so a reference term 六合彩开奖 is found by our 六合彩). Per reference list, against the
category it corresponds to and against all categories. The lists are read from ../shared/corpora/lexicons
(LDNOOBW's zh list and the konsheng lists); they are measured, never copied.

False rejections: the share of Chinese Wikipedia paragraphs (CMRC 2018, DRCD; converted to Simplified
as the collection stage does) that the coarse stage's lexicon rules alone would reject with the default
thresholds, and the share that contain any hit at all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from mdfs.stages.rules.chars import CharView
from mdfs.stages.rules.lexicon import DEFAULTS, Lexicon, LexiconRules, read_terms
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_corpora()
# reference list → the default category it corresponds to
REFERENCES = {
    "ldnoobw/zh": "porn",
    "konsheng/色情类型.txt": "porn",
    "konsheng/色情词库.txt": "porn",
    "konsheng/广告类型.txt": "ads_spam",
    "konsheng/涉枪涉爆.txt": "illegal_trade",
    "konsheng/暴恐词库.txt": "violence",
    "konsheng/政治类型.txt": "political",
    "konsheng/反动词库.txt": "political",
    "konsheng/贪腐词库.txt": "political",
}


def all_categories() -> Lexicon:
    return Lexicon(LexiconRules.model_validate({"categories": {name: {"enabled": True}
                                                               for name in DEFAULTS}}))


def recall(lexicon: Lexicon, shared: Path) -> dict[str, dict]:
    index = {name: i for i, name in enumerate(lexicon.names)}
    out = {}
    for ref, category in REFERENCES.items():
        path = shared / "lexicons" / ref
        if not path.exists():
            continue
        terms = sorted({t for t, exception in read_terms(path) if not exception})
        found_any = found_cat = 0
        for term in terms:
            view = CharView.of(pa.array([term]))
            hits = lexicon.hits(view)[0]
            found_any += bool(hits.sum())
            found_cat += bool(hits[index[category]])
        out[ref] = {"terms": len(terms), "category": category, "recall_category": found_cat / len(terms),
                    "recall_any": found_any / len(terms)}
    return out


def wiki_rejections(shared: Path) -> dict:
    import opencc

    from mdfs.textnorm import normalize
    from mdfs.stages.rules.chars import SPACE

    t2s = opencc.OpenCC("t2s")
    texts = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(shared / "wiki-zh" / name, encoding="utf-8") as f:
            texts += [t2s.convert(normalize(json.loads(line)["text"])) for line in f]
    lexicon = Lexicon(LexiconRules())  # the default: political off
    view = CharView.of(pa.array(texts))
    hits = lexicon.hits(view)
    counts = view.counts("doc")
    visible = counts.sum(axis=1) - counts[:, SPACE]
    rejected = np.zeros(len(texts), bool)
    for i, name in enumerate(lexicon.names):
        cat = lexicon.rules[name]
        rejected |= (hits[:, i] >= cat.min_hits) & (hits[:, i] * 1000.0 / np.maximum(visible,
                                                                                     1) >= cat.min_density)
    return {"paragraphs": len(texts), "any_hit": int((hits.sum(axis=1) > 0).sum()),
            "rejected": int(rejected.sum()),
            "rejected_share": float(rejected.mean()), "hits_per_category": dict(zip(lexicon.names,
                                                                                   hits.sum(axis=0).tolist()))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--json", type=Path, default=ROOT / "out" / "bench" / "lexicon.json")
    args = ap.parse_args(argv)
    lexicon = all_categories()
    rec = recall(lexicon, args.shared)
    print("| reference list | terms | category | recall (that category) | recall (any category) |")
    print("|---|---:|---|---:|---:|")
    for ref, r in rec.items():
        print(f"| {ref} | {r['terms']} | {r['category']} | {r['recall_category']:.1%} | "
              f"{r['recall_any']:.1%} |")
    wiki = wiki_rejections(args.shared)
    print(f"\nDefault lexicon terms: {lexicon.sizes}")
    print(f"wiki-zh paragraphs: {wiki['paragraphs']}; with any hit {wiki['any_hit']}; rejected by the "
          f"lexicon rules {wiki['rejected']} ({wiki['rejected_share']:.2%}); hits per category "
          f"{wiki['hits_per_category']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"terms": lexicon.sizes, "recall": rec, "wiki": wiki}, indent=2,
                                    ensure_ascii=False))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
