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
from mdfs.conservation import check_conservation
from mdfs.engine import make_engine
from mdfs.errors import OutputError, StageError
from mdfs.exporter import export_run
from mdfs.fingerprint import assign_keys, file_identities
from mdfs.inputs import Shard, plan_shards
from mdfs.layout import RunLayout
from mdfs.plan import check_plan
from mdfs.progress import Progress
from mdfs.registry import load_hook
from mdfs.runguard import check_is_run, check_paths, invalidate, invalidate_phase_item, prepare
from mdfs.runlock import RunLock
from mdfs.stats import merge_all, merge_into

log = logging.getLogger(__name__)
PACKAGES = ["mdfs", "ray", "pyarrow", "numpy", "datasketch", "fasttext-community", "jieba", "opencc", "pydantic"]


@dataclass
class RunSummary:
    output: str
    docs_in: int
    docs_out: int
    rejected: int
    stages: dict
    files: list = field(default_factory=list)
    seconds: float = 0.0
    shards_run: int = 0
    shards_skipped: int = 0
    report: str | None = None  # report/index.html, when written
    export: dict | None = None  # _export.json of the final export step, when it ran

    @property
    def data_dir(self) -> str:
        return storage.join(self.output, "data")


def run(config: RunConfig | str | None = None, input: str | list[str] | None = None, output: str | None = None,
        *, overrides: list[str] | None = None, force: bool = False, update: bool = False, engine: str | None = None,
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
    segments = check_plan(cfg)
    shards, skipped = plan_shards(cfg.input)
    root = cfg.output.path if storage.is_uri(cfg.output.path) else os.path.abspath(cfg.output.path)
    layout = RunLayout(root)
    check_paths(cfg.input.paths, shards, root)
    check_is_run(layout)
    identities = file_identities(shards)
    keys = assign_keys(shards, identities)
    eng = make_engine(cfg, root)  # on a cluster, also checks that every node can reach the paths
    try:
        with RunLock(root) as lock:
            prepare(layout, cfg.content_hash(), identities, keys, segments, force=force, update=update)
            if damaged := damaged_shards(layout, segments, shards):
                log.warning("%d shards have output parts that differ from their recorded sha256: redoing them "
                            "and what follows them", len(damaged))
                invalidate(layout, segments, damaged)
            log.info("%d input shards (%.1f MB) → %s", len(shards), sum(s.size for s in shards) / 1e6, root)
            run_count, skip_count = _run_segments(eng, cfg, layout, segments, shards, progress, lock)
            markers = [storage.read_json(layout.shard_marker(seg.index, s.index)) for seg in segments
                       for s in shards]
            report = check_conservation(cfg, segments, markers, keys)
            summary = _finish(cfg, layout, segments, shards, skipped, markers, report,
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


def _run_segments(eng, cfg: RunConfig, layout: RunLayout, segments, shards: list[Shard],
                  progress, lock: RunLock) -> tuple[int, int]:
    """Run every unfinished shard of every segment, and the global phases between segments."""
    run_count = skip_count = 0
    needed = _shards_needed(cfg, layout, segments, shards)
    upstream_ran = False  # a rerun upstream makes every phase of the next global stage run again
    for seg in segments:
        if seg.index > 0 and needed[seg.index]:
            _run_global(eng, cfg, layout, segments[seg.index - 1].global_after, len(shards), progress,
                        rerun_all=upstream_ran)
            lock.check()
        todo = [s for s in shards if s.index in needed[seg.index]
                and not _shard_done(layout, seg.index, s)]
        upstream_ran = bool(todo)
        skip_count += len(shards) - len(todo)
        run_count += len(todo)
        bar = Progress(f"segment {seg.index} [{', '.join(seg.stage_names()) or 'read'}]", len(todo),
                       live=progress)
        try:
            for result in eng.map("run_shard", [(seg.index, s) for s in todo]):
                last = result["stats"][result["order"][-1]]
                bar.advance(last["docs_out"], result["bytes_in"])
                lock.check()
        finally:
            bar.close()
        markers = [storage.read_json(layout.shard_marker(seg.index, s.index)) for s in shards]
        _on_end_hooks(cfg, seg, merge_all([m["stats"] for m in markers] + [_global_stats(layout)]))
    return run_count, skip_count


def _shard_done(layout: RunLayout, segment: int, shard: Shard) -> bool:
    """Done: its marker parses, was made from the same inputs (key), and every file it lists is intact."""
    return _files_ok(layout, layout.shard_marker(segment, shard.index), shard.key)


def _shards_needed(cfg: RunConfig, layout: RunLayout, segments, shards: list[Shard]) -> list[set[int]]:
    """Per segment, the shards that must exist there. A shard finished in the last segment needs nothing
    earlier (its _work files may be gone); but a global stage that is not finished needs every shard of
    the segment before it, even finished ones, since its phases read all of their keys."""
    from mdfs.registry import build_stage

    needed = [set() for _ in segments]
    needed[-1] = {s.index for s in shards if not _shard_done(layout, segments[-1].index, s)}
    for seg in reversed(segments[:-1]):
        after = needed[seg.index + 1]
        if after and not _global_done(layout, build_stage(seg.global_after[1], seg.global_after[0]),
                                      seg.global_after[1].name, len(shards)):
            after = {s.index for s in shards}
        needed[seg.index] = set(after)
    return needed


CHECKED_KINDS = ("data", "rejects")  # outputs whose sha256 a rerun verifies (the manifest lists them)


def damaged_shards(layout: RunLayout, segments, shards: list[Shard]) -> list[int]:
    """Shards with a corpus or rejects part, in any segment, whose bytes differ from its recorded sha256
    (damaged in place, same size). Local runs only: on an object store this would download the corpus,
    and an object is written whole or not at all."""
    if storage.is_uri(layout.root):
        return []
    damaged = []
    for shard in shards:
        for seg in segments:
            try:
                marker = storage.read_json(layout.shard_marker(seg.index, shard.index))
            except (OSError, ValueError):
                continue
            bad = [f for f in marker.get("files", []) if f.get("kind") in CHECKED_KINDS and f.get("sha256")
                   and storage.size_if_exists(layout.resolve(f["path"])) == f.get("bytes")
                   and storage.sha256(layout.resolve(f["path"])) != f["sha256"]]
            if bad:
                log.warning("%s does not match its recorded sha256", bad[0]["path"])
                damaged.append(shard.index)
                break
    return damaged


def _files_ok(layout: RunLayout, path: str, key: str | None = None) -> bool:
    """A done marker counts when it parses, carries `key` (if given), and every file it lists exists with
    the same size (damaged parts of the same size: `damaged_shards`)."""
    if not storage.exists(path):
        return False
    try:
        marker = storage.read_json(path)
        if key is not None and marker.get("key") != key:
            return False
        for f in marker["files"]:
            if storage.size_if_exists(layout.resolve(f["path"])) != f["bytes"]:  # one request per file
                return False
        return True
    except (ValueError, KeyError, TypeError, OSError):
        log.warning("damaged done marker %s: redoing its work", path)
        return False


def _global_done(layout: RunLayout, g, name: str, shards: int) -> bool:
    return all(_files_ok(layout, layout.phase_marker(name, p.name, i)) for p in g.phases(shards)
               for i in range(p.items))


def _run_global(eng, cfg: RunConfig, layout: RunLayout, stage, shards: int, progress: bool | None,
                rerun_all: bool = False) -> None:
    """Run the phases of a global stage in order, each a map over its work items. Finished items are
    skipped, unless something upstream ran again in this invocation: then every later item runs, after
    its earlier outputs are deleted (an item that now removes nothing must not leave old removals)."""
    from mdfs.registry import build_stage

    index, spec = stage
    g = build_stage(spec, index)
    for phase in g.phases(shards):
        todo = [(spec.name, phase.name, i, shards) for i in range(phase.items)
                if rerun_all or not _files_ok(layout, layout.phase_marker(spec.name, phase.name, i))]
        for _, _, i, _ in todo:
            invalidate_phase_item(layout, spec.name, phase.name, i)
        bar = Progress(f"{spec.name}: {phase.name}", len(todo), live=progress)
        try:
            for result in eng.map("run_phase", todo):
                bar.advance(result["removed"])
        finally:
            bar.close()
        rerun_all = rerun_all or bool(todo)


def _global_stats(layout: RunLayout) -> dict:
    """Counters of the resolve phases (clusters, cluster sizes), per global stage."""
    out: dict = {}
    for path in storage.list_files(storage.join(layout.root, "stats", "global")):
        marker = storage.read_json(path)
        merge_into(out, {marker["stage"]: {"counters": marker["counters"], "seconds": marker["seconds"],
                                           **({"notes": marker["notes"]} if marker.get("notes") else {})}})
    return out


def _on_end_hooks(cfg: RunConfig, seg, merged: dict) -> None:
    specs = ([seg.removes] if seg.removes else []) + seg.stages
    for index, spec in specs:
        for path in spec.hooks.on_end:
            fn = load_hook(path, f"stages[{index}].hooks.on_end")
            try:
                fn(spec.name, merged.get(spec.name, {}))
            except Exception as e:
                raise StageError(f"on_end hook raised {type(e).__name__}: {e}", stage=spec.name, hook=path) from e


def _versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _finish(cfg, layout, segments, shards: list[Shard], skipped, markers, report, seconds) -> RunSummary:
    stages = merge_all([m["stats"] for m in markers] + [_global_stats(layout)])
    stages.pop("_keys", None)
    order = ["read"] + [n for seg in segments for n in seg.stage_names()]
    stages = {n: stages[n] for n in order if n in stages}
    for name, st in stages.items():
        for message in st.get("notes", {}).get("warnings", {}).values():
            log.warning("%s: %s", name, message)
    files = [{**f, "path": layout.relative(f["path"])} for m in markers for f in m["files"]
             if f["kind"] not in ("work", "global")]
    files.sort(key=lambda f: f["path"])
    schema = None
    data_files = [f for f in files if f["kind"] == "data"]
    if data_files:
        fs, p = storage.resolve(storage.join(layout.root, data_files[0]["path"]))
        import pyarrow.parquet as pq

        schema = [{"name": fld.name, "type": str(fld.type)} for fld in pq.read_schema(p, filesystem=fs)]
    summary = RunSummary(layout.root, report["docs_in"], report["docs_out"], report["rejected"], stages, files,
                         seconds)
    storage.write_json(layout.merged_stats, stages)
    manifest = {
        "mdfs_run": 1, "config_hash": cfg.content_hash(),
        "config": redact(cfg.model_dump(mode="json", by_alias=True)),
        "versions": _versions(), "inputs": {"shards": len(shards), "bytes": sum(s.size for s in shards),
                                            "skipped_files": skipped,
                                            "read": [p for m in markers for p in m.get("inputs", [])]},
        "stages": stages, "conservation": report, "files": files, "schema": schema,
        "seconds": round(seconds, 3),
    }
    storage.write_bytes(layout.manifest, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    if not cfg.output.keep_work:
        storage.delete_dir(layout.work_root)
    return summary
