"""Out-of-fold page-model probabilities on the train side, by group, to calibrate and compare decisions.

    python -m tools.models.cv_page_model --workdir DIR [--folds 5] [--per-kind 400]

The train side of `corpora.side()` is cut into `--folds` folds by (family, group), as the development set's
test side is cut from its train side; each fold is scored by a model trained (with the bundled model's
hyper-parameters) on the other folds. Writes `DIR/oof.jsonl` (id, family, label, class probabilities, the
fluency and brand signals) and prints, per clean family, the share each junk class's threshold would drop.
No test-side document is read. The texts and page lines are cached in `DIR/lines.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from tools.models import train_page_model as tpm
from tools.models.oof import oof_probabilities


def cached_lines(work: Path, per_kind: int) -> tuple[list[dict], list[str], list[str], list[dict]]:
    """Rows, page lines, labels and per-document signals (ppl_high, brands) of the train side."""
    cache = work / "lines.json"
    if cache.exists():
        d = json.loads(cache.read_text(encoding="utf-8"))
        return d["rows"], d["lines"], d["labels"], d["signals"]
    rows, lines, labels, sig = tpm.training_set(per_kind, work, reuse=True)
    signals = [{"ppl_high": float(s.high_share), "brand_title": int(s.brand_title),
                "brand_body": int(s.brand_body), "seo_title": bool(s.seo_title)} for s in sig]
    cache.write_text(json.dumps({"rows": rows, "lines": lines, "labels": labels, "signals": signals},
                                ensure_ascii=False), encoding="utf-8")
    return rows, lines, labels, signals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--per-kind", type=int, default=400)
    ap.add_argument("--reuse", action="store_true", help="read DIR/oof.jsonl instead of training the folds")
    ap.add_argument("--quota", action="append", default=[], metavar="FAMILY=N",
                    help="documents of a family to use instead of train_page_model.QUOTA's (repeatable)")
    args = ap.parse_args()
    for q in args.quota:
        family, n = q.split("=")
        tpm.QUOTA[family] = int(n)
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows, lines, labels, signals = cached_lines(args.workdir, args.per_kind)
    params = json.loads((tpm.OUT.parent / (tpm.OUT.name + ".json")).read_text())["info"]["params"]
    weights = [tpm.WEB_WEIGHT if r["family"] in tpm.WEB else 1 for r in rows]
    if args.reuse:
        oof = {d["id"]: d for d in map(json.loads, (args.workdir / "oof.jsonl").read_text().splitlines())}
        probs = np.array([[oof[r["id"]][f"p_{c}"] for c in tpm.CLASSES] for r in rows])
    else:
        probs = oof_probabilities(rows, lines, labels, weights, params, args.workdir, tpm.write_train_file,
                                  args.folds, log=lambda m: print(m, file=sys.stderr))
    with open(args.workdir / "oof.jsonl", "w", encoding="utf-8") as f:
        for r, y, s, p in zip(rows, labels, signals, probs):
            probs_of = {f"p_{c}": round(float(v), 4) for c, v in zip(tpm.CLASSES, p)}
            f.write(json.dumps({"id": r["id"], "family": r["family"], "category": r["category"], "label": y,
                                **s, **probs_of}) + "\n")
    clean = np.array([y == "clean" for y in labels])
    fam = np.array([r["family"] for r in rows])
    print(dict(Counter(labels)))
    for c in tpm.CLASSES[1:]:
        j = tpm.CLASSES.index(c)
        for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
            worst = max(((probs[clean & (fam == f), j] >= t).mean(), f) for f in sorted(set(fam[clean])))
            caught = (probs[np.array([y == c for y in labels]), j] >= t).mean()
            print(f"{c:9s} t={t:.2f} pooled clean loss {(probs[clean, j] >= t).mean():.4f}  worst family "
                  f"{worst[1]} {worst[0]:.4f}  own class caught {caught:.3f}")
    brand_rule(args.workdir, rows, labels, signals, probs)


def decision(p: np.ndarray, seo_brand: bool, drop: dict, floor: float) -> bool:
    """The stage's decision before brand_gambling: brand_title, a class threshold, the P(clean) floor."""
    return seo_brand or any(p[tpm.CLASSES.index(c)] >= t for c, t in drop.items()) or p[0] < floor


def brand_rule(work: Path, rows, labels, signals, probs) -> None:
    """What `brands.with_gambling` would add, out of fold: among the documents that coarse and the current
    decision keep, those with a known brand in the title or body and p(gambling) >= t."""
    import pyarrow.dataset as ds

    info = json.loads((tpm.OUT.parent / (tpm.OUT.name + ".json")).read_text())["info"]
    coarse = set(ds.dataset(work / "out/rejects/coarse").to_table(columns=["id"]).column("id").to_pylist())
    live = [i for i, r in enumerate(rows) if r["id"] not in coarse and not decision(
        probs[i], signals[i]["seo_title"] and signals[i]["brand_title"] > 0, info["drop"], info["min_clean"])]
    branded = [i for i in live if signals[i]["brand_title"] + signals[i]["brand_body"] > 0]
    g = tpm.CLASSES.index("gambling")
    print(f"kept by the decision: {len(live)}; with a known brand: {len(branded)} "
          f"({Counter(labels[i] for i in branded)})")
    for t in (0.3, 0.35, 0.4, 0.45, 0.5):
        hit = [i for i in branded if probs[i, g] >= t]
        print(f"brand and p(gambling) >= {t:.2f}: clean lost {sum(labels[i] == 'clean' for i in hit)}, "
              f"gambling caught {sum(labels[i] == 'gambling' for i in hit)} of {labels.count('gambling')}, "
              f"other junk {sum(labels[i] not in ('clean', 'gambling') for i in hit)}")


if __name__ == "__main__":
    main()
