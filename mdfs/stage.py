"""The stage contract.

A `Stage` turns one Arrow batch into another. It holds configuration only (its validated `Params`);
heavy state (models, automata, converters) is built in `setup()`, once per worker, never pickled.
Filters score first and decide second: scores become columns `<stage>__<metric>` that stay in the
output, and a document is dropped by putting a reason in the reserved column `__reject` (null keeps
it; `__reject_detail` may explain). The framework moves rejected rows to `rejects/<stage>/`.

A `GlobalStage` (deduplication) needs to see the whole corpus. It runs as phases: `keys()` maps each
shard's batch to small key rows (with a `__bucket` column, written to disk partitioned by bucket);
`resolve()` reduces one bucket at a time to the rows to remove; the framework then removes them
from each shard. Memory is bounded by the bucket size; each phase is resumable.
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from mdfs.config import Strict

REJECT = "__reject"
REJECT_DETAIL = "__reject_detail"
BUCKET = "__bucket"


class NoParams(Strict):
    pass


class StageContext:
    """What a stage may record while it processes a shard. Counters merge by addition across shards."""

    def __init__(self, stage: str, shard: str):
        self.stage = stage
        self.shard = shard
        self.counters: Counter = Counter()

    def count(self, key: str, n: int | float = 1) -> None:
        self.counters[key] += n


class Stage:
    """Per-batch stage. Subclasses set `Params` (a pydantic model) and implement `process`."""

    Params: ClassVar[type[Strict]] = NoParams

    def __init__(self, name: str, params: Strict | None = None):
        self.name = name
        self.params = params if params is not None else self.Params()

    def setup(self) -> None:
        """Build heavy state. Called once per worker process before the first batch."""

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        raise NotImplementedError

    # -- helpers for filters -------------------------------------------------------------------
    def col(self, metric: str) -> str:
        return f"{self.name}__{metric}"

    def with_scores(self, batch: pa.Table, scores: dict[str, pa.Array | list]) -> pa.Table:
        for metric, values in scores.items():
            name = self.col(metric)
            arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
            if name in batch.column_names:
                batch = batch.set_column(batch.column_names.index(name), name, arr)
            else:
                batch = batch.append_column(name, arr)
        return batch


def reject_where(batch: pa.Table, rules: list[tuple[pa.Array, str]]) -> pa.Table:
    """Mark rows for rejection: the first rule whose mask is true names the reason."""
    reasons = pa.nulls(batch.num_rows, pa.string())
    for mask, reason in reversed(rules):
        reasons = pc.if_else(pc.fill_null(mask, False), pa.scalar(reason), reasons)
    if REJECT in batch.column_names:  # an earlier mark on the same batch wins
        reasons = pc.coalesce(batch.column(REJECT), reasons)
        return batch.set_column(batch.column_names.index(REJECT), REJECT, reasons)
    return batch.append_column(REJECT, reasons)


class GlobalStage:
    """A stage that needs the whole corpus, run as keys → resolve-per-bucket → remove-per-shard."""

    Params: ClassVar[type[Strict]] = NoParams

    def __init__(self, name: str, params: Strict | None = None):
        self.name = name
        self.params = params if params is not None else self.Params()

    @property
    def buckets(self) -> int:
        return int(getattr(self.params, "buckets", 16))

    def setup(self) -> None:
        """Build heavy state, once per worker."""

    def keys(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        """One small row per document, in order, with an int `__bucket` in [0, buckets).

        The framework adds `shard` and `row`, which locate the document for removal."""
        raise NotImplementedError

    def resolve(self, keys: pa.Table, ctx: StageContext) -> pa.Table:
        """Given all key rows of one bucket, return the rows to remove, keeping their `shard` and
        `row` columns and adding `reason` and `detail` (e.g. the id of the document kept instead)."""
        raise NotImplementedError
