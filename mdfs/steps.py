"""The steps of a segment, for one shard: read (segment 0) or apply a global stage's removals and edits
(later segments), then each stage in turn. Every step counts what it took in, kept and rejected into its
stage's `StageStats` and hands on (kept documents, reject rows)."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from mdfs import breadcrumb, globalwork, storage
from mdfs.errors import MdfsError, StageError
from mdfs.inputs import Shard
from mdfs.plan import PlannedStage
from mdfs.readers import DOC_SCHEMA
from mdfs.rejects import READ_STAGE, quarantine_rows, split_rejects
from mdfs.stage import REJECT, REJECT_DETAIL, GlobalStage, StageContext
from mdfs.stats import Clock, StageStats

if TYPE_CHECKING:
    from mdfs.worker import Worker


def read_step(worker: Worker, shard: Shard, stats: StageStats) -> Iterator[tuple[pa.Table, pa.Table | None]]:
    """(documents, quarantined records) per batch read, up to the shard's limit; one empty batch if the
    shard holds nothing, so that the stages still run once and every shard has the same schema."""
    emitted = False
    for table, bad, bytes_read in _read_limited(worker, shard):
        stats.took_in(table)
        stats.took_in(bad)
        stats.kept(table)
        stats.rejected_for(bad.column("reason").to_pylist())
        stats.add_counters({"bytes_read": bytes_read})
        emitted = True
        yield table, bad
    if not emitted:
        yield DOC_SCHEMA.empty_table(), None


def _read_limited(worker: Worker, shard: Shard):
    keep_text = worker.plan.cfg.output.keep_rejected_text
    left = shard.limit
    for piece in shard.pieces:
        for rb in _read_piece(worker, piece, shard):
            table, bad = rb.table(), quarantine_rows(rb.bad, keep_text)
            if left is not None:
                bad = bad.slice(0, left)
                table = table.slice(0, left - bad.num_rows)
                left -= table.num_rows + bad.num_rows
            yield table, bad, rb.bytes_read
            if left == 0:
                return


def _read_piece(worker: Worker, piece, shard: Shard):
    try:
        yield from worker.reader.read(piece)
    except MdfsError:
        raise
    except Exception as e:  # an unforeseen reader failure still names the file
        raise StageError(f"cannot read {piece.path}: {type(e).__name__}: {e}", stage=READ_STAGE,
                         shard=shard.name) from e


def removal_step(worker: Worker, planned: PlannedStage, segment: int, shard: Shard,
                 stats: StageStats) -> tuple[pa.Table, pa.Table]:
    """The documents the previous segment kept, less the global stage's removals, with its edits applied."""
    table = storage.read_parquet(worker.layout.work(segment - 1, shard.index))
    stats.took_in(table)
    removals = globalwork.removals_for_shard(worker.layout, planned.name, shard.index)
    reasons: list = [None] * table.num_rows
    details: list = [None] * table.num_rows
    for row, reason, detail in zip(*(removals.column(c).to_pylist() for c in ("row", "reason", "detail"))):
        reasons[row], details[row] = reason, detail
    table = table.append_column(REJECT, pa.array(reasons, pa.string()))
    table = table.append_column(REJECT_DETAIL, pa.array(details, pa.string()))
    table = _edit(worker, planned, shard, table, stats)
    return split_rejects(planned.name, table, stats, worker.plan.cfg.output.keep_rejected_text)


def _edit(worker: Worker, planned: PlannedStage, shard: Shard, table: pa.Table,
          stats: StageStats) -> pa.Table:
    """Hand the shard's edits (lines to cut) to the global stage; its counters join the stage's. A stage
    that keeps the default `apply_edits` (dedup) writes no edits: its edits folder is not listed."""
    stage = worker.ready(planned)
    if getattr(stage.apply_edits, "__func__", None) is GlobalStage.apply_edits:  # not overridden anywhere
        return table
    edits = globalwork.edits_for_shard(worker.layout, planned.name, shard.index)
    ctx = StageContext(planned.name, shard.name)
    out = guarded(lambda: stage.apply_edits(table, edits, ctx), ctx, "apply_edits()")
    if out.num_rows != table.num_rows:
        raise StageError("apply_edits() must return one row per row given", stage=planned.name,
                         shard=ctx.shard)
    stats.add_counters(ctx.counters)
    return out


def stage_step(worker: Worker, planned: PlannedStage, segment: int, shard: Shard, batch: pa.Table,
               stats: StageStats) -> tuple[pa.Table, pa.Table]:
    """One batch through one stage and its before/after hooks: (kept, reject rows)."""
    ctx = StageContext(planned.name, shard.name)
    clock = Clock()
    _leave_breadcrumb(worker, planned.name, segment, shard, batch)
    stats.took_in(batch)
    batch = _hooks(planned.hooks["before"], batch, ctx, "before")
    stage = worker.ready(planned)
    batch = guarded(lambda: stage.process(batch, ctx), ctx, "stage")
    batch = _hooks(planned.hooks["after"], batch, ctx, "after")
    kept, rejected = split_rejects(planned.name, batch, stats, worker.plan.cfg.output.keep_rejected_text)
    clock.charge(stats)
    stats.add_counters(ctx.counters)
    return kept, rejected


def guarded(call, ctx: StageContext, what: str):
    """`call()`, with an unexpected exception turned into a StageError naming the stage and shard."""
    try:
        return call()
    except MdfsError:
        raise
    except Exception as e:
        raise StageError(f"{what} raised {type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}",
                         stage=ctx.stage, shard=ctx.shard) from e


def _leave_breadcrumb(worker: Worker, stage: str, segment: int, shard: Shard, batch: pa.Table) -> None:
    """Where this worker is, for the error if it dies (a crash, the OOM killer) and cannot say."""
    if batch.num_rows and not storage.is_uri(worker.layout.root):  # local: no request cost
        ids = batch.column("id")
        path = worker.layout.breadcrumb(segment, shard.index)
        breadcrumb.write(path, stage, ids[0].as_py(), ids[-1].as_py())


def _hooks(hooks, batch: pa.Table, ctx: StageContext, kind: str) -> pa.Table:
    for path, fn in hooks:
        try:
            out = fn(batch, ctx)
        except Exception as e:
            raise StageError(f"{kind} hook raised {type(e).__name__}: {e}", stage=ctx.stage,
                             shard=ctx.shard, hook=path) from e
        if out is not None:
            if not isinstance(out, pa.Table):
                raise StageError(f"{kind} hook returned {type(out).__name__}, not a pyarrow.Table or None",
                                 stage=ctx.stage, shard=ctx.shard, hook=path)
            batch = out
    return batch
