"""Out-of-fold page-model probabilities and the per-class thresholds chosen on them.

The page model's own training documents (train side only) are cut into folds by (family, group), as the
development set's test side is cut off; every fold is scored by a model trained on the others. The stage's
thresholds are then chosen on those probabilities so that no clean category loses more than its budget
(`choose`): a validation slice of one fold holds too few abstracts, forum or government pages to see
what a threshold costs each of them, which is how the bundled model's farm threshold came to drop them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import fasttext
import numpy as np

CLASSES = ("clean", "gambling", "porn", "ads", "farm", "list")
GRID = tuple(round(float(t), 2) for t in np.arange(0.3, 0.96, 0.05)) + (0.99,)
FLOORS = tuple(round(float(t), 2) for t in np.arange(0.0, 0.41, 0.05))
SMALL = 100  # clean categories with fewer documents (the real web pages: news, forum, government, ...)
# share one budget ("small"); out of fold a few of their pages read as junk at any threshold, and a 2%
# budget on 14 forum pages is no page at all, which pins every threshold to the strictest value


def folds(rows: list[dict], k: int) -> list[int]:
    """A stable fold per (family, group): no site, title or issue on both sides of a cut."""
    return [int(hashlib.sha1(f"mdfs-cv-v1:{r['family']}:{r['group']}".encode()).hexdigest()[:8], 16) % k
            for r in rows]


def probabilities(model, lines: list[str]) -> np.ndarray:
    out = np.zeros((len(lines), len(CLASSES)))
    for i, (labels, ps) in enumerate(zip(*model.predict(lines, k=-1))):
        for label, p in zip(labels, ps):
            out[i, CLASSES.index(label.removeprefix("__label__"))] = p
    return out


def oof_probabilities(rows, lines, labels, weights, params: dict, work: Path, write_train_file,
                      k: int = 5, log=print) -> np.ndarray:
    """Every document scored by the model of the k-1 folds it is not in."""
    fold = folds(rows, k)
    probs = np.zeros((len(rows), len(CLASSES)))
    for f in range(k):
        fit = [i for i, x in enumerate(fold) if x != f]
        hold = [i for i, x in enumerate(fold) if x == f]
        write_train_file(work / "fit.txt", [lines[i] for i in fit], [labels[i] for i in fit],
                         [weights[i] for i in fit])
        model = fasttext.train_supervised(str(work / "fit.txt"), **params)
        probs[hold] = probabilities(model, [lines[i] for i in hold])
        log(f"fold {f}: {len(hold)} scored")
    return probs


def dropped(probs: np.ndarray, drop: dict, floor: float) -> np.ndarray:
    """The stage's model decision: a class at its threshold, or P(clean) under the floor."""
    out = probs[:, 0] < floor
    for c, t in drop.items():
        out |= probs[:, CLASSES.index(c)] >= t
    return out


def budgets(categories: list[str], clean: np.ndarray, max_loss: float,
            small_loss: float) -> dict[str, tuple[np.ndarray, float]]:
    """Per clean category (small ones pooled): its documents and how many of them may be lost."""
    sizes = Counter(c for c, k in zip(categories, clean) if k)
    group = np.array([c if sizes[c] >= SMALL else "small" for c in categories])
    share = {g: small_loss if g == "small" else max_loss for g in set(group)}
    return {g: (clean & (group == g), share[g] * int((clean & (group == g)).sum()))
            for g in sorted(set(group[clean]))}


def choose(probs: np.ndarray, labels: list[str], categories: list[str], max_loss: float = 0.02,
           small_loss: float = 0.1, orders: int = 30) -> dict:
    """Per-class thresholds and the P(clean) floor that catch the most junk while no clean category loses
    more than `max_loss` of its documents beyond what the strictest setting loses. Coordinate ascent from
    the strictest setting (each threshold in turn set to the value that catches the most junk within every
    budget), over `orders` seeded orders of the six values, since the first value moved spends the budget.
    Clean categories under SMALL documents share one budget of `small_loss`."""
    clean = np.array([y == "clean" for y in labels])
    budget = budgets(categories, clean, max_loss, small_loss)
    strict = ({c: GRID[-1] for c in CLASSES[1:]}, 0.0)
    base = dropped(probs, *strict)
    allowed = {g: int(base[m].sum()) + b for g, (m, b) in budget.items()}

    def value(drop: dict, floor: float) -> int:
        d = dropped(probs, drop, floor)
        fits = all(d[m].sum() <= allowed[g] for g, (m, _) in budget.items())
        return int((d & ~clean).sum()) if fits else -1

    keys = list(CLASSES[1:]) + ["floor"]
    rng = np.random.default_rng(1)
    best = (value(*strict), strict)
    for _ in range(orders):
        drop, floor = dict(strict[0]), strict[1]
        for _sweep in range(4):
            for key in rng.permutation(keys):
                # ties: the lower floor; the threshold nearest 0.5 (no evidence either way on this data)
                options = [(value(drop, f), -f, f) for f in FLOORS] if key == "floor" else \
                    [(value({**drop, key: t}, floor), -abs(t - 0.5), t) for t in GRID]
                top = max(options)[2]
                drop, floor = (drop, top) if key == "floor" else ({**drop, key: top}, floor)
        best = max(best, (value(drop, floor), (drop, floor)), key=lambda b: b[0])
    drop, floor = best[1]
    final = dropped(probs, drop, floor)
    return {"drop": drop, "min_clean": floor, "max_loss": max_loss, "small_loss": small_loss,
            "junk_caught": round(float(final[~clean].mean()), 4),
            "clean_lost": round(float(final[clean].mean()), 4),
            "kept": {g: round(1 - float(final[m].mean()), 4) for g, (m, _) in budget.items()}}
