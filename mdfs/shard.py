"""The one code path: read → stages → write, for one shard; and one work item of a global phase.

Both engines (serial and Ray) call exactly these methods. A `ShardRunner` lives once per worker,
so stages are set up once per worker and per segment, not once per shard or batch.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from mdfs import breadcrumb, globalwork, metadata, storage
from mdfs.config import RunConfig
from mdfs.errors import MdfsError, StageError
from mdfs.fingerprint import piece_digest
from mdfs.globalwork import GlobalWork
from mdfs.inputs import Shard
from mdfs.layout import RunLayout
from mdfs.metadata import is_metadata
from mdfs.plan import Segment, build_segments
from mdfs.readers import DOC_SCHEMA, PieceReader
from mdfs.registry import build_stage, load_hook
from mdfs.schema import uniform
from mdfs.stage import REJECT, REJECT_DETAIL, GlobalStage, Stage, StageContext
from mdfs.stats import add_counter, empty_stage_stats

READ_STAGE = "read"
REJECT_SCHEMA = pa.schema([("id", pa.string()), ("stage", pa.string()), ("reason", pa.string()),
                           ("detail", pa.string()), ("text", pa.string()), ("source", pa.string()),
                           ("url", pa.string())])


def score_columns(table: pa.Table) -> list[str]:
    """The `<stage>__<metric>` columns of a batch (not the internal `__reject*` ones)."""
    return [c for c in table.column_names if "__" in c.strip("_") and not c.startswith("__")]


def _chars(table: pa.Table) -> int:
    if "text" not in table.column_names or table.num_rows == 0:
        return 0
    return int(pc.sum(pc.utf8_length(table.column("text"))).as_py() or 0)


class BuiltStage:
    """A stage with its hooks, set up in this worker."""

    def __init__(self, index: int, spec, stage: Stage | GlobalStage):
        self.index, self.spec, self.stage = index, spec, stage
        where = f"stages[{index}].hooks"
        self.before = [(h, load_hook(h, f"{where}.before")) for h in spec.hooks.before]
        self.after = [(h, load_hook(h, f"{where}.after")) for h in spec.hooks.after]
        self.fresh = True  # report one setup in the first shard's stats, to prove once-per-worker


class ShardRunner:
    def __init__(self, cfg: RunConfig, root: str):
        self.cfg = cfg
        self.layout = RunLayout(root)
        self.segments = build_segments(cfg)
        self._built: dict[int, BuiltStage] = {}
        self.reader = PieceReader(cfg.input)

    def _stage(self, index: int, spec) -> BuiltStage:
        if index not in self._built:
            stage = build_stage(spec, index)
            try:
                stage.setup()
            except Exception as e:
                raise StageError(f"setup failed: {type(e).__name__}: {e}", stage=spec.name) from e
            self._built[index] = BuiltStage(index, spec, stage)
        return self._built[index]

    # -- one shard of one segment ----------------------------------------------------------------
    def run_shard(self, segment_index: int, shard: Shard) -> dict:
        seg = self.segments[segment_index]
        self._segment = seg.index  # for the breadcrumb
        started = time.perf_counter()
        stats: dict[str, dict] = {}
        kept: list[pa.Table] = []
        rejects: dict[str, list[pa.Table]] = {}
        stages = [self._stage(i, spec) for i, spec in seg.stages]
        for built in stages:
            stats[built.spec.name] = empty_stage_stats()
            if built.fresh:
                stats[built.spec.name]["counters"]["worker_setups"] = 1
                built.fresh = False

        for batch, source_stage, source_rejects in self._batches(seg, shard, stats):
            if source_rejects is not None and source_rejects.num_rows:
                rejects.setdefault(source_stage, []).append(source_rejects)
            for built in stages:
                batch, rejected = self._apply(built, batch, shard, stats[built.spec.name])
                if rejected.num_rows:
                    rejects.setdefault(built.spec.name, []).append(rejected)
            kept.append(batch)

        table = metadata.concat(kept) if kept else DOC_SCHEMA.empty_table()
        files = self._write_outputs(seg, shard, table, rejects, stats)
        result = {"segment": seg.index, "order": ([READ_STAGE] if seg.index == 0 else []) + seg.stage_names(),
                  "shard": shard.index, "key": shard.key, "stats": stats, "files": self._relative(files),
                  "bytes_in": shard.size if seg.index == 0 else 0,
                  "seconds": time.perf_counter() - started, "worker": os.getpid()}
        if seg.index == 0:
            result["inputs"] = [{"path": p.path, "start": p.start, "end": p.end, "sha256": piece_digest(p)}
                                for p in shard.pieces]
        storage.write_json(self.layout.shard_marker(seg.index, shard.index), result)
        return result

    def _relative(self, files: list[dict]) -> list[dict]:
        """Marker paths relative to the run directory, so that a run directory can be moved."""
        return [{**f, "path": self.layout.relative(f["path"])} for f in files]

    def _batches(self, seg: Segment, shard: Shard, stats: dict):
        """Yield (batch, stage that rejected before it, those rejects)."""
        if seg.index == 0:
            st = stats.setdefault(READ_STAGE, empty_stage_stats())
            emitted = False
            for table, bad, bytes_read in self._read_limited(shard):
                st["docs_in"] += table.num_rows + bad.num_rows
                st["docs_out"] += table.num_rows
                st["chars_in"] += _chars(table) + _chars(bad)
                st["chars_out"] += _chars(table)
                st["counters"]["bytes_read"] = st["counters"].get("bytes_read", 0) + bytes_read
                for r in bad.column("reason").to_pylist():
                    st["reasons"][r] = st["reasons"].get(r, 0) + 1
                emitted = True
                yield table, READ_STAGE, bad
            if not emitted:  # still run the stages once so every shard has the same schema
                yield DOC_SCHEMA.empty_table(), READ_STAGE, None
            return
        index, spec = seg.removes
        name = spec.name
        st = stats.setdefault(name, empty_stage_stats())
        table = storage.read_parquet(self.layout.work(seg.index - 1, shard.index))
        st["docs_in"], st["chars_in"] = table.num_rows, _chars(table)
        removals = self._removals_for(spec.name, shard.index)
        reasons: list = [None] * table.num_rows
        details: list = [None] * table.num_rows
        for row, reason, detail in zip(*(removals.column(c).to_pylist() for c in ("row", "reason", "detail"))):
            reasons[row], details[row] = reason, detail
        table = table.append_column(REJECT, pa.array(reasons, pa.string()))
        table = table.append_column(REJECT_DETAIL, pa.array(details, pa.string()))
        table = self._edit(index, spec, shard.index, table, st)
        kept, rejected = self._split(spec.name, table, st)
        yield kept, name, rejected

    def _read_limited(self, shard: Shard):
        """(documents, quarantined records, bytes read) of each read batch, up to the shard's limit."""
        left = shard.limit
        for piece in shard.pieces:
            for rb in self._read(piece, shard):
                table, bad = rb.table(), self._quarantine_table(rb.bad)
                if left is not None:
                    bad = bad.slice(0, left)
                    table = table.slice(0, left - bad.num_rows)
                    left -= table.num_rows + bad.num_rows
                yield table, bad, rb.bytes_read
                if left == 0:
                    return

    def _read(self, piece, shard: Shard):
        try:
            yield from self.reader.read(piece)
        except MdfsError:
            raise
        except Exception as e:  # an unforeseen reader failure still names the file
            raise StageError(f"cannot read {piece.path}: {type(e).__name__}: {e}", stage=READ_STAGE,
                             shard=shard.name) from e

    def _removals_for(self, stage: str, shard: int) -> pa.Table:
        return globalwork.removals_for_shard(self.layout, stage, shard)

    def _edit(self, index: int, spec, shard: int, table: pa.Table, st: dict) -> pa.Table:
        """Hand the shard's edits (lines to cut) to the global stage; its counters join the stage's."""
        g: GlobalStage = self._stage(index, spec).stage
        edits = globalwork.edits_for_shard(self.layout, spec.name, shard)
        ctx = StageContext(spec.name, f"part-{shard:05d}")
        try:
            out = g.apply_edits(table, edits, ctx)
        except MdfsError:
            raise
        except Exception as e:
            raise StageError(f"apply_edits() raised {type(e).__name__}: {e}\n"
                             f"{traceback.format_exc(limit=-3)}", stage=spec.name, shard=ctx.shard) from e
        if out.num_rows != table.num_rows:
            raise StageError("apply_edits() must return one row per row given", stage=spec.name,
                             shard=ctx.shard)
        add_counter(st["counters"], ctx.counters)
        return out

    def _global(self, name: str) -> tuple[GlobalStage, int]:
        """The global stage called `name`, set up in this worker, and the segment it reads."""
        for seg in self.segments:
            if seg.global_after and seg.global_after[1].name == name:
                return self._stage(*seg.global_after).stage, seg.index
        raise KeyError(name)

    def _apply(self, built: BuiltStage, batch: pa.Table, shard: Shard, st: dict) -> tuple[pa.Table, pa.Table]:
        name = built.spec.name
        ctx = StageContext(name, f"part-{shard.index:05d}")
        t0 = time.perf_counter()
        self._breadcrumb(name, shard, batch)
        st["docs_in"] += batch.num_rows
        st["chars_in"] += _chars(batch)
        batch = self._hooks(built.before, batch, ctx, "before")
        try:
            batch = built.stage.process(batch, ctx)
        except MdfsError:
            raise
        except Exception as e:
            raise StageError(f"stage raised {type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}",
                             stage=name, shard=ctx.shard) from e
        batch = self._hooks(built.after, batch, ctx, "after")
        kept, rejected = self._split(name, batch, st)
        st["seconds"] += time.perf_counter() - t0
        add_counter(st["counters"], ctx.counters)
        return kept, rejected

    def _breadcrumb(self, stage: str, shard: Shard, batch: pa.Table) -> None:
        """Where this worker is, for the error if it dies (a crash, the OOM killer) and cannot say."""
        if batch.num_rows and not storage.is_uri(self.layout.root):  # local: no request cost
            ids = batch.column("id")
            breadcrumb.write(self.layout.breadcrumb(self._segment, shard.index), stage, ids[0].as_py(),
                             ids[-1].as_py())

    def _hooks(self, hooks, batch, ctx, kind):
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

    def _split(self, stage: str, batch: pa.Table, st: dict) -> tuple[pa.Table, pa.Table]:
        if REJECT not in batch.column_names:
            st["docs_out"] += batch.num_rows
            st["chars_out"] += _chars(batch)
            return batch, REJECT_SCHEMA.empty_table()
        reason = batch.column(REJECT)
        drop = pc.is_valid(reason)
        detail = batch.column(REJECT_DETAIL) if REJECT_DETAIL in batch.column_names else None
        clean = batch.drop_columns([c for c in (REJECT, REJECT_DETAIL) if c in batch.column_names])
        kept = clean.filter(pc.invert(drop))
        gone = batch.filter(drop)
        st["docs_out"] += kept.num_rows
        st["chars_out"] += _chars(kept)
        for r, n in Counter(gone.column(REJECT).to_pylist()).items():
            st["reasons"][r] = st["reasons"].get(r, 0) + n
        n = gone.num_rows

        def text_col(name):
            if name in gone.column_names:
                return gone.column(name).cast(pa.string())
            return pa.nulls(n, pa.string())

        rejected = pa.table({
            "id": text_col("id"), "stage": pa.array([stage] * n, pa.string()),
            "reason": gone.column(REJECT).cast(pa.string()),
            "detail": gone.column(REJECT_DETAIL).cast(pa.string()) if detail is not None else pa.nulls(n, pa.string()),
            "text": text_col("text") if self.cfg.output.keep_rejected_text else pa.nulls(n, pa.string()),
            "source": text_col("source"), "url": text_col("url"),
        }, schema=REJECT_SCHEMA)
        for name in score_columns(gone):  # the scores computed so far: a threshold can be re-tuned both ways
            rejected = rejected.append_column(name, gone.column(name))
        for name in gone.column_names:  # the input's own fields: lineage and licence of rejects too
            if is_metadata(name) and name not in rejected.column_names:
                rejected = rejected.append_column(name, gone.column(name))
        return kept, rejected

    def _quarantine_table(self, bad: list[dict]) -> pa.Table:
        keep_text = self.cfg.output.keep_rejected_text
        return pa.table({
            "id": [b["id"] for b in bad], "stage": [READ_STAGE] * len(bad), "reason": [b["reason"] for b in bad],
            "detail": [b["detail"] for b in bad], "text": [b["text"] if keep_text else None for b in bad],
            "source": [b["source"] for b in bad], "url": [None] * len(bad),
        }, schema=REJECT_SCHEMA)

    def _write_outputs(self, seg: Segment, shard_: Shard, table: pa.Table, rejects: dict,
                       stats: dict) -> list[dict]:
        comp = self.cfg.output.compression
        shard = shard_.index
        table = uniform(table, shard_.web_input)
        files = []
        for stage, parts in rejects.items():
            rows = metadata.concat(parts)  # batches may differ in score or input columns
            rows = uniform(rows, shard_.web_input)
            entry = storage.write_parquet(self.layout.rejects(stage, shard), rows, comp)
            files.append({**entry, "kind": "rejects", "stage": stage})
        if seg.is_last:
            files.append({**storage.write_parquet(self.layout.data(shard), table, comp), "kind": "data"})
            return files
        files.append({**storage.write_parquet(self.layout.work(seg.index, shard), table, comp), "kind": "work"})
        index, spec = seg.global_after
        g: GlobalStage = self._stage(index, spec).stage
        ctx = StageContext(spec.name, f"part-{shard:05d}")
        work = GlobalWork(self.layout, spec.name, "map", shard, compression=comp, segment=seg.index)
        t0 = time.perf_counter()
        try:
            g.map_shard(table, work, ctx)
            work.close()
        except MdfsError:
            raise
        except Exception as e:
            raise StageError(f"map_shard() raised {type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}",
                             stage=spec.name, shard=ctx.shard) from e
        files.extend(work.files)
        # counters only (no document counts): the documents are counted where they are removed
        stats[spec.name] = {"counters": dict(ctx.counters), "seconds": time.perf_counter() - t0}
        stats.setdefault("_keys", {})[spec.name] = {"rows": table.num_rows}
        return files

    # -- one work item of a global phase -----------------------------------------------------------
    def run_phase(self, stage_name: str, phase: str, item: int, shards: int) -> dict:
        g, segment = self._global(stage_name)
        started = time.perf_counter()
        ctx = StageContext(stage_name, f"{phase}-{item:05d}")
        work = GlobalWork(self.layout, stage_name, phase, item, compression=self.cfg.output.compression,
                          segment=segment, shards=shards)
        try:
            g.run_phase(phase, item, work, ctx)
            removed = work.close()
        except MdfsError:
            raise
        except Exception as e:
            raise StageError(f"phase {phase} item {item} raised {type(e).__name__}: {e}\n"
                             f"{traceback.format_exc(limit=-3)}", stage=stage_name, shard=ctx.shard) from e
        result = {"stage": stage_name, "phase": phase, "item": item, "removed": removed, "edits": work.edited,
                  "files": self._relative(work.files),
                  "counters": dict(ctx.counters), "notes": ctx.notes, "seconds": time.perf_counter() - started}
        storage.write_json(self.layout.phase_marker(stage_name, phase, item), result)
        return result
