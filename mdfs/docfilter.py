"""Filters and scorers written one document at a time, in plain Python.

A `DocFilter` is a `Stage` whose author writes `score(text, doc)` (numbers about a document) and/or
`keep(doc, scores)` (the decision, with a reason), never Arrow code. The framework turns the scores into
`<stage>__<metric>` float32 columns (kept in the corpus and in the rejects) and the decisions into
`__reject` / `__reject_detail`, like any built-in filter: score first, decide second.
"""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa

from mdfs.stage import Stage, StageContext, add_details, reject_where

Verdict = bool | tuple[bool, str] | tuple[bool, str, str]


class DocFilter(Stage):
    """Subclass and override `score`, `keep` or both. `doc` holds `id` and the columns named in `reads`
    (default: `text`). Declare the metric names `score` returns in `scores`, so that every shard, even an
    empty one, has the same columns and `mdfs validate` knows them."""

    reads: ClassVar[tuple[str, ...]] = ("text",)
    scores: ClassVar[tuple[str, ...] | None] = ()
    reason: ClassVar[str] = "rejected"  # the reason when `keep` returns a bare False

    def score(self, text: str, doc: dict) -> dict[str, float]:
        """Numbers about one document, by metric name."""
        return {}

    def keep(self, doc: dict, scores: dict[str, float]) -> Verdict:
        """True to keep; False, (False, reason) or (False, reason, detail) to drop."""
        return True

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        docs = batch.select(list(dict.fromkeys(["id", "text", *self.reads]))).to_pylist()
        metrics = {m: [] for m in self.scores or ()}
        reasons: list[str | None] = []
        details: list[str | None] = []
        for doc in docs:
            scores = self.score(doc["text"], doc)
            for metric in scores.keys() - metrics.keys():
                if self.scores is not None:
                    raise ValueError(f"score() returned {metric!r}, which is not in scores = {self.scores}")
                metrics[metric] = [None] * len(reasons)
            for metric, values in metrics.items():
                values.append(scores.get(metric))
            reason, detail = self._decision(self.keep(doc, scores))
            reasons.append(reason)
            details.append(detail)
        batch = self.with_scores(batch, {m: pa.array(v, pa.float32()) for m, v in metrics.items()})
        rules = [(pa.array([r == reason for r in reasons]), reason)
                 for reason in dict.fromkeys(reasons) if reason]
        batch = reject_where(batch, rules)
        return add_details(batch, details, reasons)

    def _decision(self, verdict: Verdict) -> tuple[str | None, str | None]:
        """(reason, detail) of a `keep` result; (None, None) keeps the document."""
        verdict = verdict if isinstance(verdict, tuple) else (verdict,)
        if verdict[0]:
            return None, None
        return (verdict[1] if len(verdict) > 1 else self.reason), (verdict[2] if len(verdict) > 2 else None)
