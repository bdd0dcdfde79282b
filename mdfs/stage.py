"""The stage contract.

A `Stage` turns one Arrow batch into another. It holds configuration only (its validated `Params`);
heavy state (models, automata, converters) is built in `setup()`, once per worker, never pickled.
Filters score first and decide second: scores become columns `<stage>__<metric>` that stay in the
output, and a document is dropped by putting a reason in the reserved column `__reject` (null keeps
it; `__reject_detail` may explain). The framework moves rejected rows to `rejects/<stage>/`.

A `GlobalStage` (deduplication) needs to see the whole corpus. It runs as a map over shards followed
by a list of `Phase`s, each a map over independent work items whose outputs live on disk (Parquet,
partitioned) with a done marker per item, so every phase is resumable and memory is bounded by the
size of one item's partition. The last phases write removals, which the next segment drops from each
shard. The simple form needs only two methods: `keys()` maps each shard's batch to small key rows (with
a `__bucket` column, written partitioned by bucket) and `resolve()` reduces one bucket at a time to the
rows to remove. Multi-phase stages (MinHash LSH) override `map_shard()` and `phases()`, each `Phase`
carrying the function that runs one of its work items.

A global stage may also edit rows instead of removing them (cross-page boilerplate cuts lines): its phases
write edits (`work.write_edits`: shard, row, line, kind), and at the top of the next segment the framework
passes each shard's documents with their edits to `apply_edits()`, which returns the edited batch and may
mark rows in `__reject` like any filter (e.g. nothing left after the cuts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from mdfs.config import Strict

if TYPE_CHECKING:
    from mdfs.globalwork import GlobalWork

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
        self.notes: dict[str, Any] = {}

    def count(self, key: str, n: float = 1) -> None:
        self.counters[key] += n

    def note(self, key: str, value: Any) -> None:
        """A JSON-able value that does not add up (examples, top-N tables). Kept for global phases: it
        lands in the phase's marker and in the stage's merged stats under `notes`."""
        self.notes[key] = value

    def warn(self, key: str, message: str) -> None:
        """Something the user must hear about at the end of the run (logged by the driver, kept in the
        stats under `notes.warnings`); the same key from several work items is said once."""
        self.notes.setdefault("warnings", {})[key] = message


class Columns:
    """The columns a stage declares, checked by `mdfs validate` (mdfs.columns): a plan that reads a column
    no earlier stage (or the reader) writes fails there, naming the stage. Declarations are optional;
    `scores = None` means undeclared (any `<stage>__<metric>` of this stage may appear)."""

    reads: ClassVar[tuple[str, ...]] = ()  # column names this stage needs
    writes: ClassVar[tuple[str, ...]] = ()  # plain columns it adds (`lang`, `domain`, …)
    scores: ClassVar[tuple[str, ...] | None] = None  # metrics it writes as `<stage>__<metric>`


class Stage(Columns):
    """Per-batch stage. Subclasses set `Params` (a pydantic model) and implement `process`."""

    Params: ClassVar[type[Strict]] = NoParams

    def __init__(self, name: str, params: Strict | None = None):
        self.name = name
        self.params = params if params is not None else self.Params()

    def setup(self) -> None:
        """Build heavy state. Called once per worker process before the first batch."""

    def process(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        raise NotImplementedError

    def thresholds(self) -> dict[str, float]:
        """{score column: the value at which this stage drops}, after setup(); drawn on the report's
        histograms. Optional: stages without a single cut-off return {}."""
        return {}

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


def add_details(batch: pa.Table, details: list[str | None],
                reasons: list[str | None] | None = None) -> pa.Table:
    """Say why, per rejected row (`__reject_detail`). An earlier detail on the batch wins; with `reasons`
    (this stage's own, per row), a detail is only added where this stage's reason is the row's reason."""
    if reasons is not None and REJECT in batch.column_names:
        current = batch.column(REJECT).to_pylist()
        details = [d if r is not None and r == c else None for d, r, c in zip(details, reasons, current)]
    values = pa.array(details, pa.string())
    if REJECT_DETAIL in batch.column_names:
        values = pc.coalesce(batch.column(REJECT_DETAIL), values)
        return batch.set_column(batch.column_names.index(REJECT_DETAIL), REJECT_DETAIL, values)
    return batch.append_column(REJECT_DETAIL, values)


@dataclass(frozen=True)
class Phase:
    """One step of a global stage: `items` independent work items (buckets, band partitions, shards),
    each run by the phase's `run`, each with its own done marker. A phase starts when every item
    of the previous one is done."""

    name: str
    items: int
    # run(item, work, ctx): one work item. None only in stages written for `GlobalStage.run_phase`
    run: Callable[[int, GlobalWork, StageContext], None] | None = field(default=None, compare=False)
    # A phase repeated in rounds until `stable(changes)` holds, `changes` being the sum of the items'
    # `changed` counters per round so far; its run then takes the round: run(item, work, ctx, round_).
    stable: Callable[[list[int]], bool] | None = field(default=None, compare=False)
    max_rounds: int = 200

    def round(self, number: int) -> Phase:
        """Round `number` of a repeated phase, as a phase of its own (own markers, own outputs)."""
        return Phase(f"{self.name}{ROUND}{number}", self.items, partial(self.run, round_=number))


ROUND = "-round"  # a repeated phase's round `r` is the phase `<name>-round<r>`


class GlobalStage(Columns):
    """A stage that needs the whole corpus: map over shards → phases over work items → remove per shard.

    The default is the two-method form: `keys()` per shard, then one phase `resolve` over buckets."""

    Params: ClassVar[type[Strict]] = NoParams

    def __init__(self, name: str, params: Strict | None = None):
        self.name = name
        self.params = params if params is not None else self.Params()

    @property
    def buckets(self) -> int:
        return int(getattr(self.params, "buckets", 16))

    def setup(self) -> None:
        """Build heavy state, once per worker."""

    # -- the general form ------------------------------------------------------------------------
    def map_shard(self, batch: pa.Table, work: GlobalWork, ctx: StageContext) -> None:
        """Called once per shard with all its documents (those entering this stage); writes what the
        phases need through `work` (`work.item` is the shard index). Default: `keys()` partitioned by
        `__bucket` into the output `keys`."""
        keys = self.keys(batch, ctx)
        if keys.num_rows != batch.num_rows:
            raise ValueError("keys() must return one row per document")
        keys = keys.append_column("shard", pa.array([work.item] * keys.num_rows, pa.int32()))
        keys = keys.append_column("row", pa.array(range(keys.num_rows), pa.int64()))
        work.write_partitioned("keys", keys, BUCKET, self.buckets)

    def phases(self, shards: int) -> list[Phase]:
        """The phases after the map, in order, given the number of shards; each names the function that
        runs one work item: it reads earlier outputs and writes new ones through `work` (rows to remove go
        to `work.write_removals`) and must be deterministic, as a resumed run redoes unfinished items."""
        return [Phase("resolve", self.buckets, self.resolve_bucket)]

    def run_phase(self, phase: str, item: int, work: GlobalWork, ctx: StageContext) -> None:
        """Runs the items of phases that carry no function (stages written before phases did)."""
        raise NotImplementedError(f"phase {phase!r} has no function")

    def resolve_bucket(self, item: int, work: GlobalWork, ctx: StageContext) -> None:
        """The `resolve` phase of the two-method form: one bucket of keys to the rows to remove."""
        keys = work.read("keys", item)
        if keys is not None and keys.num_rows:
            work.write_removals(self.resolve(keys, ctx))

    def apply_edits(self, batch: pa.Table, edits: pa.Table, ctx: StageContext) -> pa.Table:
        """Apply this shard's edits (`row`, `line`, `kind`; `row` indexes `batch`) at the top of the next
        segment. `batch` holds every row the stage saw, with `__reject` set on the rows its removals take;
        the result must keep the rows in order and may mark more (an earlier reason wins). Called on every
        shard, edits or not, so a stage that edits gives every shard the same columns. Default: no edits."""
        return batch

    # -- the two-method form -----------------------------------------------------------------------
    def keys(self, batch: pa.Table, ctx: StageContext) -> pa.Table:
        """One small row per document, in order, with an int `__bucket` in [0, buckets).

        The framework adds `shard` and `row`, which locate the document for removal."""
        raise NotImplementedError

    def resolve(self, keys: pa.Table, ctx: StageContext) -> pa.Table:
        """Given all key rows of one bucket, return the rows to remove, keeping their `shard` and
        `row` columns and adding `reason` and `detail` (e.g. the id of the document kept instead)."""
        raise NotImplementedError
