"""Split a stage's output into kept documents and reject rows, and turn unreadable records into reject rows.

A reject row says which stage dropped the document and why, keeps the text (unless
`output.keep_rejected_text` is off), every score computed before the drop (so a threshold can be re-tuned
both ways) and the input's own fields (lineage and licence of rejects too).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from mdfs.metadata import is_metadata
from mdfs.stage import REJECT, REJECT_DETAIL
from mdfs.stats import StageStats

READ_STAGE = "read"
REJECT_SCHEMA = pa.schema([("id", pa.string()), ("stage", pa.string()), ("reason", pa.string()),
                           ("detail", pa.string()), ("text", pa.string()), ("source", pa.string()),
                           ("url", pa.string())])


def score_columns(table: pa.Table) -> list[str]:
    """The `<stage>__<metric>` columns of a batch (not the internal `__reject*` ones)."""
    return [c for c in table.column_names if "__" in c.strip("_") and not c.startswith("__")]


def split_rejects(stage: str, batch: pa.Table, stats: StageStats,
                  keep_text: bool) -> tuple[pa.Table, pa.Table]:
    """(kept documents, reject rows); counts both into `stats`. Internal columns (`__reject`, a stage's
    own `__…` scratch columns) end here: they never reach the next stage or the corpus."""
    clean = batch.drop_columns([c for c in batch.column_names if c.startswith("__")])
    if REJECT not in batch.column_names:
        stats.kept(clean)
        return clean, REJECT_SCHEMA.empty_table()
    drop = pc.is_valid(batch.column(REJECT))
    kept = clean.filter(pc.invert(drop))
    gone = batch.filter(drop)
    stats.kept(kept)
    stats.rejected_for(gone.column(REJECT).to_pylist())
    return kept, _reject_rows(stage, gone, keep_text)


def _reject_rows(stage: str, gone: pa.Table, keep_text: bool) -> pa.Table:
    n = gone.num_rows

    def text_col(name):
        if name in gone.column_names:
            return gone.column(name).cast(pa.string())
        return pa.nulls(n, pa.string())

    rejected = pa.table({
        "id": text_col("id"), "stage": pa.array([stage] * n, pa.string()),
        "reason": gone.column(REJECT).cast(pa.string()), "detail": text_col(REJECT_DETAIL),
        "text": text_col("text") if keep_text else pa.nulls(n, pa.string()),
        "source": text_col("source"), "url": text_col("url"),
    }, schema=REJECT_SCHEMA)
    for name in score_columns(gone):
        rejected = rejected.append_column(name, gone.column(name))
    for name in gone.column_names:
        if is_metadata(name) and name not in rejected.column_names:
            rejected = rejected.append_column(name, gone.column(name))
    return rejected


def quarantine_rows(bad: list[dict], keep_text: bool) -> pa.Table:
    """Reject rows (stage `read`) for records the reader could not turn into documents."""
    return pa.table({
        "id": [b["id"] for b in bad], "stage": [READ_STAGE] * len(bad), "reason": [b["reason"] for b in bad],
        "detail": [b["detail"] for b in bad], "text": [b["text"] if keep_text else None for b in bad],
        "source": [b["source"] for b in bad], "url": [None] * len(bad),
    }, schema=REJECT_SCHEMA)
