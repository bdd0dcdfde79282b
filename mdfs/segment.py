"""One shard through one segment: source step, stages, then writes (the corpus part, or the work part and
the next global stage's map output), and last the shard's marker (its stats, files and input digests),
which is also its done marker."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import pyarrow as pa

from mdfs import metadata, storage
from mdfs.fingerprint import piece_digest
from mdfs.globalwork import GlobalWork
from mdfs.inputs import Shard
from mdfs.plan import Segment
from mdfs.readers import DOC_SCHEMA
from mdfs.rejects import READ_STAGE
from mdfs.schema import uniform
from mdfs.stage import StageContext
from mdfs.stats import Clock, RunStats, StageStats
from mdfs.steps import guarded, read_step, removal_step, stage_step

if TYPE_CHECKING:
    from mdfs.worker import Worker


class ShardOutput:
    """What a shard's steps kept, and the reject rows of each stage."""

    def __init__(self):
        self.kept: list[pa.Table] = []
        self.rejects: dict[str, list[pa.Table]] = {}

    def reject(self, stage: str, rows: pa.Table | None) -> None:
        if rows is not None and rows.num_rows:
            self.rejects.setdefault(stage, []).append(rows)

    def corpus(self) -> pa.Table:
        return metadata.concat(self.kept) if self.kept else DOC_SCHEMA.empty_table()


def run_shard(worker: Worker, segment: int, shard: Shard) -> dict:
    """Run the shard through the segment's steps and write it; returns the marker written last."""
    seg = worker.plan.segments[segment]
    started = time.perf_counter()
    stats = RunStats({name: StageStats() for name in seg.order()})
    for planned in seg.stages:
        if worker.set_up(planned):  # proves once-per-worker set-up in the stats
            stats[planned.name].counters["worker_setups"] = 1
    out = ShardOutput()
    for batch in _source(worker, seg, shard, stats, out):
        for planned in seg.stages:
            batch, rejected = stage_step(worker, planned, seg.index, shard, batch, stats[planned.name])
            out.reject(planned.name, rejected)
        out.kept.append(batch)
    files = _write(worker, seg, shard, out, stats)
    marker = {"segment": seg.index, "order": seg.order(), "shard": shard.index, "key": shard.key,
              "stats": stats.to_json(), "files": worker.layout.relative_files(files),
              "bytes_in": shard.size if seg.index == 0 else 0,
              "seconds": time.perf_counter() - started, "worker": os.getpid()}
    if seg.index == 0:
        marker["inputs"] = [{"path": p.path, "start": p.start, "end": p.end, "sha256": piece_digest(p)}
                            for p in shard.pieces]
    storage.write_json(worker.layout.shard_marker(seg.index, shard.index), marker)
    return marker


def _source(worker: Worker, seg: Segment, shard: Shard, stats: RunStats, out: ShardOutput):
    """The documents that enter the segment's stages, batch by batch; what the source drops goes to `out`."""
    if seg.index == 0:
        for batch, quarantined in _timed(read_step(worker, shard, stats[READ_STAGE]), stats[READ_STAGE]):
            out.reject(READ_STAGE, quarantined)
            yield batch
        return
    removal, clock = stats[seg.removes.name], Clock()
    kept, rejected = removal_step(worker, seg.removes, seg.index, shard, removal)
    clock.charge(removal)
    out.reject(seg.removes.name, rejected)
    yield kept


def _timed(items, stats: StageStats):
    """`items`, with the time spent producing them (reading and parsing input) added to `stats`."""
    items = iter(items)
    while True:
        clock = Clock()
        item = next(items, None)
        clock.charge(stats)
        if item is None:
            return
        yield item


def _write(worker: Worker, seg: Segment, shard: Shard, out: ShardOutput, stats: RunStats) -> list[dict]:
    """Write the reject parts, then the corpus part (last segment) or the work part and the map output of
    the global stage that follows."""
    comp = worker.plan.cfg.output.compression
    layout = worker.layout
    files = []
    for stage, parts in out.rejects.items():
        # batches may differ in score or input columns
        rows = uniform(metadata.concat(parts), shard.web_input)
        written = storage.write_parquet(layout.rejects(stage, shard.index), rows, comp)
        files.append({**written, "kind": "rejects", "stage": stage})
    table = uniform(out.corpus(), shard.web_input)
    if seg.is_last:
        return files + [{**storage.write_parquet(layout.data(shard.index), table, comp), "kind": "data"}]
    files.append({**storage.write_parquet(layout.work(seg.index, shard.index), table, comp), "kind": "work"})
    return files + _map_global(worker, seg, shard, table, stats)


def _map_global(worker: Worker, seg: Segment, shard: Shard, table: pa.Table, stats: RunStats) -> list[dict]:
    """The global stage's map over this shard's kept documents (its keys for the phases). Counters only:
    its documents are counted where they are removed, in the next segment."""
    planned = seg.global_after
    ctx = StageContext(planned.name, shard.name)
    work = GlobalWork(worker.layout, planned.name, "map", shard.index,
                      compression=worker.plan.cfg.output.compression, segment=seg.index)
    clock = Clock()
    stage = worker.ready(planned)

    def map_and_close():
        stage.map_shard(table, work, ctx)
        work.close()

    guarded(map_and_close, ctx, "map_shard()")
    stats[planned.name] = StageStats(counters=dict(ctx.counters))
    clock.charge(stats[planned.name])
    return work.files
