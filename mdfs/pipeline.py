"""Run a whole pipeline: guard the output, plan shards, run segments and global phases, check
conservation, write the manifest. `run()` is also the Python API (`mdfs.run`)."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import time
from dataclasses import dataclass, field

from mdfs import storage
from mdfs.cluster import redact
from mdfs.config import RunConfig, load_config
from mdfs.conservation import Conservation, check_conservation
from mdfs.engine import make_engine
from mdfs.errors import OutputError, StageError
from mdfs.exporter import check_export_path, export_run
from mdfs.fingerprint import assign_keys, file_identities
from mdfs.inputs import Shard, plan_shards
from mdfs.layout import RunLayout
from mdfs.plan import Plan, Segment, compile_plan
from mdfs.progress import Progress
from mdfs.resume import RunFiles, damaged_shards, phase_item_done, shard_done, shards_needed
from mdfs.runguard import (check_is_run, check_paths, invalidate, invalidate_phase_item, prepare,
                           recorded_target)
from mdfs.runlock import RunLock
from mdfs.stage import Phase
from mdfs.stats import RunStats, StageStats
from mdfs.tasks import PhaseTask, ShardTask

log = logging.getLogger(__name__)
PACKAGES = ["mdfs", "ray", "pyarrow", "numpy", "datasketch", "fasttext-community", "jieba", "opencc",
            "pydantic"]


@dataclass
class RunSummary:
    output: str
    docs_in: int
    docs_out: int
    rejected: int
    stages: RunStats
    conservation: Conservation
    files: list = field(default_factory=list)
    seconds: float = 0.0
    shards_run: int = 0
    shards_skipped: int = 0
    report: str | None = None  # report/index.html, when written
    export: dict | None = None  # _export.json of the final export step, when it ran

    @property
    def data_dir(self) -> str:
        return storage.join(self.output, "data")


def run(config: RunConfig | str | None = None, input: str | list[str] | None = None,
        output: str | None = None, *, overrides: list[str] | None = None, force: bool = False,
        update: bool = False, engine: str | None = None,
        workers: int | None = None, address: str | None = None, progress: bool | None = None,
        report: bool | None = None) -> RunSummary:
    """Clean a corpus. `config` is a RunConfig, a YAML path or None for the default Chinese web recipe.
    An earlier run in `output` is resumed; if its inputs changed the run is refused, unless `update`
    (redo the shards whose inputs changed) or `force` (start over)."""
    want_report = report  # None: as output.report says
    if not isinstance(config, RunConfig):
        extra = {"input": {"paths": [input] if isinstance(input, str) else input},
                 "output": {"path": output, "report": report},
                 "engine": {"kind": engine, "workers": workers, "address": address}}
        config = load_config(config, overrides, extra)
    cfg = config
    if not cfg.output.path:
        raise OutputError("no output given: pass --output or set output.path")
    started = time.perf_counter()
    plan = compile_plan(cfg)
    segments = plan.segments
    out = cfg.output.path
    root = out if storage.is_uri(out) else os.path.abspath(storage.local_path(out))
    layout = RunLayout(root)
    shards, skipped = plan_shards(cfg.input, None if force else recorded_target(layout, cfg.content_hash()))
    check_paths(cfg.input.paths, shards, root)
    check_export_path(cfg.output.export, root, cfg.input.paths, shards)
    check_is_run(layout)
    identities = file_identities(shards)
    keys = assign_keys(shards, identities)
    eng = make_engine(plan, root)  # on a cluster, also checks that every node can reach the paths
    try:
        with RunLock(root) as lock:
            prepare(layout, cfg.content_hash(), identities, keys, segments, force=force, update=update,
                    target=shards[0].target if shards else 0)
            if damaged := damaged_shards(layout, segments, shards):
                log.warning("%d shards have output parts that differ from their recorded sha256: redoing "
                            "them and what follows them", len(damaged))
                invalidate(layout, segments, damaged)
            log.info("%d input shards (%.1f MB) → %s", len(shards), sum(s.size for s in shards) / 1e6, root)
            run_count, skip_count, markers = _run_segments(eng, plan, layout, shards, progress, lock)
            conservation = check_conservation(segments, markers, keys)
            summary = _finish(plan, layout, shards, skipped, markers, conservation,
                              time.perf_counter() - started)
            summary.shards_run, summary.shards_skipped = run_count, skip_count
            summary.export = export_run(root, cfg.output.export)
            if cfg.output.report if want_report is None else want_report:
                from mdfs.report import write_report

                summary.report = write_report(root)
                log.info("report: %s", summary.report)
    finally:
        eng.close()
    return summary


def _run_segments(eng, plan: Plan, layout: RunLayout, shards: list[Shard], progress,
                  lock: RunLock) -> tuple[int, int, list[dict]]:
    """Run every unfinished shard of every segment, and the global phases between segments; returns the
    counts of shards run and skipped, and every shard marker (segment by segment)."""
    run_count = skip_count = 0
    needed = shards_needed(plan, RunFiles(layout), shards)
    markers: list[dict] = []
    upstream_ran = False  # a rerun upstream makes every phase of the next global stage run again
    for seg in plan.segments:
        if seg.index > 0 and needed[seg.index]:
            _run_global(eng, plan, layout, seg.removes.name, len(shards), progress, rerun_all=upstream_ran)
            lock.check()
        files = RunFiles(layout)  # listed after the global phases wrote theirs
        todo = [s for s in shards if s.index in needed[seg.index] and not shard_done(files, seg.index, s)]
        upstream_ran = bool(todo)
        skip_count += len(shards) - len(todo)
        run_count += len(todo)
        bar = Progress(f"segment {seg.index} [{', '.join(seg.stage_names()) or 'read'}]", len(todo),
                       live=progress)
        try:
            for result in eng.map([ShardTask(seg.index, s) for s in todo]):
                files.remember(layout.shard_marker(seg.index, result["shard"]), result)
                bar.advance(result["stats"][result["order"][-1]]["docs_out"], result["bytes_in"])
                lock.check()
        finally:
            bar.close()
        done = [files.marker(layout.shard_marker(seg.index, s.index)) for s in shards]
        if _has_end_hooks(seg):  # the phases' markers are read only for a stage that has on_end hooks
            _on_end_hooks(seg, _shard_stats(done).merge(_global_stats(layout)))
        markers += done
    return run_count, skip_count, markers


def _run_global(eng, plan: Plan, layout: RunLayout, stage: str, shards: int, progress: bool | None,
                rerun_all: bool = False) -> None:
    """Run the phases of a global stage in order, each a map over its work items. Finished items are
    skipped, unless something upstream ran again in this invocation: then every later item runs, after
    its earlier outputs are deleted (an item that now removes nothing must not leave old removals)."""
    for phase in plan.phases(stage, shards):
        if phase.stable is None:
            ran, _ = _run_phase(eng, layout, stage, phase, shards, progress, rerun_all)
        else:
            ran = _run_rounds(eng, layout, stage, phase, shards, progress, rerun_all)
        rerun_all = rerun_all or ran


def _run_phase(eng, layout: RunLayout, stage: str, phase: Phase, shards: int, progress: bool | None,
               rerun_all: bool) -> tuple[bool, list[dict]]:
    """The unfinished items of one phase (all of them after an upstream rerun): whether any ran, and every
    item's marker (those of the items run are what the tasks returned, not read back)."""
    files = RunFiles(layout)
    todo = [PhaseTask(stage, phase.name, i, shards) for i in range(phase.items)
            if rerun_all or not phase_item_done(files, stage, phase.name, i)]
    for task in todo:
        invalidate_phase_item(files, stage, phase.name, task.item)
    bar = Progress(f"{stage}: {phase.name}", len(todo), live=progress)
    try:
        for result in eng.map(todo):
            files.remember(layout.phase_marker(stage, phase.name, result["item"]), result)
            bar.advance(result["removed"])
    finally:
        bar.close()
    return bool(todo), [files.marker(layout.phase_marker(stage, phase.name, i)) for i in range(phase.items)]


def _run_rounds(eng, layout: RunLayout, stage: str, phase: Phase, shards: int, progress: bool | None,
                rerun_all: bool) -> bool:
    """A repeated phase: rounds until the items' `changed` counters say it is stable. Each round is a
    phase of its own, so a resumed run skips finished rounds; the number of rounds is recorded for the
    phases after, and what a longer earlier run left beyond it is deleted."""
    record = layout.rounds_record(stage, phase.name)
    storage.delete_file(record)
    changes: list[int] = []
    ran = False
    while not phase.stable(changes):
        if len(changes) == phase.max_rounds:
            raise StageError(f"phase {phase.name} did not converge in {phase.max_rounds} rounds", stage=stage)
        current = phase.round(len(changes))
        ran_now, markers = _run_phase(eng, layout, stage, current, shards, progress, rerun_all or ran)
        ran = ran or ran_now
        changes.append(sum(int(m["counters"].get("changed", 0)) for m in markers))
    stale = len(changes)
    files = RunFiles(layout)
    while files.marker(layout.phase_marker(stage, phase.round(stale).name, 0)) is not None:
        for i in range(phase.items):
            invalidate_phase_item(files, stage, phase.round(stale).name, i)
        stale += 1
    storage.write_json(record, {"rounds": len(changes), "changes": changes})
    return ran


def _shard_stats(markers: list[dict]) -> RunStats:
    total = RunStats()
    for marker in markers:
        total.merge(RunStats.from_json(marker["stats"]))
    return total


def _global_stats(layout: RunLayout) -> RunStats:
    """Counters, notes and seconds of the phases' work items, per global stage."""
    out = RunStats()
    for path in storage.list_files(storage.join(layout.root, "stats", "global")):
        marker = storage.read_json(path)
        out.add(marker["stage"], StageStats(counters=marker["counters"], notes=marker.get("notes") or {},
                                            seconds=marker["seconds"],
                                            cpu_seconds=marker.get("cpu_seconds", 0.0)))
    return out


def _has_end_hooks(seg: Segment) -> bool:
    return any(planned.hooks["on_end"] for planned in ([seg.removes] if seg.removes else []) + seg.stages)


def _on_end_hooks(seg: Segment, merged: RunStats) -> None:
    """Each stage's `on_end` hooks, on the driver, with the stage's merged stats (as a plain dict)."""
    for planned in ([seg.removes] if seg.removes else []) + seg.stages:
        stats = merged.get(planned.name, StageStats()).to_json()
        for path, fn in planned.hooks["on_end"]:
            try:
                fn(planned.name, stats)
            except Exception as e:
                raise StageError(f"on_end hook raised {type(e).__name__}: {e}", stage=planned.name,
                                 hook=path) from e


def _versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _finish(plan: Plan, layout: RunLayout, shards: list[Shard], skipped, markers, conservation: Conservation,
            seconds: float) -> RunSummary:
    cfg = plan.cfg
    stages = _shard_stats(markers).merge(_global_stats(layout)).ordered(plan.order())
    for name, st in stages.items():
        for message in st.notes.get("warnings", {}).values():
            log.warning("%s: %s", name, message)
    outputs = [f for m in markers for f in m["files"] if f["kind"] not in ("work", "global")]
    files = layout.relative_files(outputs)
    files.sort(key=lambda f: f["path"])
    summary = RunSummary(layout.root, conservation.docs_in, conservation.docs_out, conservation.rejected,
                         stages, conservation, files, seconds)
    storage.write_json(layout.merged_stats, stages.to_json())
    manifest = {
        "mdfs_run": 1, "config_hash": cfg.content_hash(),
        "config": redact(cfg.model_dump(mode="json", by_alias=True)),
        "versions": _versions(), "inputs": {"shards": len(shards), "bytes": sum(s.size for s in shards),
                                            "skipped_files": skipped,
                                            "read": [p for m in markers for p in m.get("inputs", [])]},
        "stages": stages.to_json(), "conservation": conservation.to_json(), "files": files,
        "schema": _corpus_schema(layout, files), "seconds": round(seconds, 3),
    }
    storage.write_bytes(layout.manifest, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    if not cfg.output.keep_work:
        storage.delete_dir(layout.work_root)
    return summary


def _corpus_schema(layout: RunLayout, files: list[dict]) -> list[dict] | None:
    """The corpus's columns and types, from its first part."""
    data_files = [f for f in files if f["kind"] == "data"]
    if not data_files:
        return None
    import pyarrow.parquet as pq

    fs, p = storage.resolve(storage.join(layout.root, data_files[0]["path"]))
    return [{"name": fld.name, "type": str(fld.type)} for fld in pq.read_schema(p, filesystem=fs)]
