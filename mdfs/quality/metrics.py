"""Binary classification metrics for a quality score, in numpy.

Written here rather than taken from scikit-learn: four formulas do not justify a 40 MB dependency.
"""

from __future__ import annotations

import numpy as np


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic, tied scores given their average rank; None when one class
    is absent (the AUC is undefined)."""
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return None
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    avg_rank = np.cumsum(counts) - (counts - 1) / 2  # 1-based average rank of each distinct score
    ranks = avg_rank[inverse]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict:
    """Precision, recall and F1 of the positive class at `threshold` (score ≥ threshold is positive),
    accuracy, ROC AUC and the confusion counts."""
    y = np.asarray(y, dtype=bool)
    pred = np.asarray(score) >= threshold
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc = roc_auc(y, score)
    return {"n": int(y.size), "positives": tp + fn, "threshold": threshold, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4), "roc_auc": None if auc is None else round(auc, 4),
            "accuracy": round((tp + tn) / y.size, 4) if y.size else 0.0,
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn}}


def deciles(score: np.ndarray) -> list[float]:
    """The 0th, 10th, ..., 100th percentiles of the scores (11 values)."""
    if len(score) == 0:
        return []
    qs = np.quantile(np.asarray(score, dtype=np.float64), np.linspace(0, 1, 11))
    return [round(float(v), 4) for v in qs]


def per_label(labels: list[str], score: np.ndarray, threshold: float) -> dict[str, dict]:
    """For each true label: how many documents, their mean score and the share scored at or above the
    threshold (for a negative label, the share that would be wrongly kept)."""
    labels_arr = np.asarray(labels)
    out = {}
    for label in sorted(set(labels)):
        s = np.asarray(score)[labels_arr == label]
        out[label] = {"n": int(s.size), "mean_score": round(float(s.mean()), 4),
                      "share_kept": round(float((s >= threshold).mean()), 4)}
    return out


def summary_line(m: dict) -> str:
    auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
    return (f"n={m['n']} (positives {m['positives']}), threshold {m['threshold']}: "
            f"precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f}  ROC AUC {auc}")
