"""Before any work: is the output safe to write, and does what is already there still match the inputs?

- The output may not overlap the input: not inside a folder the inputs read (a folder input, or the
  folder a glob reads below), and no input file inside it. Paths are compared after resolving symlinks
  and relative parts, so a symlink to the input folder is caught too.
- The output may not be a file, nor a non-empty folder that is not an mdfs run.
- A run made with another config is replaced only with --force.
- A run made from other inputs is refused, naming the changed files (default), started over (--force),
  or brought up to date (--update): the shards whose inputs changed, and the shards that no longer
  exist, lose their outputs and markers, so they and everything downstream are redone.
"""

from __future__ import annotations

import glob
import logging
import os
from typing import TYPE_CHECKING

import pyarrow.fs as pafs

from mdfs import fingerprint, storage
from mdfs.errors import OutputError
from mdfs.inputs import is_glob, glob_root, same_file_key
from mdfs.layout import RunLayout
from mdfs.runlock import LOCK_NAME

if TYPE_CHECKING:
    from mdfs.resume import RunFiles

log = logging.getLogger(__name__)


def check_paths(input_paths: list[str], shards: list, root: str) -> None:
    """Refuse an output that overlaps the input, or that is a file."""
    fs, p = storage.resolve(root)
    if fs.get_file_info(p).type == pafs.FileType.File:
        raise OutputError(f"output {root} is a file: give a folder (new, empty, or an earlier run "
                          f"of this recipe)")
    out = _real(root)
    for path in input_paths:
        if storage.is_uri(path) != storage.is_uri(root):
            continue
        if is_glob(path):  # the folders it reads whole, or everything below its root if recursive
            reads = [glob_root(path)] if "**" in path else \
                [m for m in glob.glob(storage.local_path(path)) if os.path.isdir(m)]
        else:
            reads = [path] if _is_dir(path) else []
        if any(_inside(out, _real(folder)) for folder in reads) or _inside(_real(path.split("*")[0]), out):
            raise OutputError(f"output {root} overlaps input {path}: mdfs never writes into its "
                              f"input, and never reads its own output")
    for shard in shards:
        for piece in shard.pieces:
            if storage.is_uri(piece.path) == storage.is_uri(root) and _inside(_real(piece.path), out):
                raise OutputError(f"input file {piece.path} is inside the output {root}: mdfs "
                                  f"never reads its own output")


def within(path: str, folder: str) -> bool:
    """`path` is `folder` or below it, however either is named (symlinks, `./`, `file://`)."""
    return _inside(_real(path), _real(folder))


def _real(path: str) -> str:
    return storage.resolve(path)[1] if storage.is_uri(path) else same_file_key(storage.local_path(path))


def _inside(path: str, folder: str) -> bool:
    return (path.rstrip("/") + "/").startswith(folder.rstrip("/") + "/")


def _is_dir(path: str) -> bool:
    fs, p = storage.resolve(path)
    return fs.get_file_info(p).type == pafs.FileType.Directory


def check_is_run(layout: RunLayout) -> None:
    """A non-empty output folder must be an mdfs run (its run marker, or only a lock left by a killed run)."""
    if storage.is_empty_dir(layout.root) or storage.exists(layout.run_marker):
        return
    if set(storage.list_names(layout.root)) <= {LOCK_NAME}:  # files and folders alike
        return
    raise OutputError(f"{layout.root} is not empty and is not an mdfs run: refusing to write there")


def recorded_target(layout: RunLayout, config_hash: str) -> int | None:
    """The bytes per shard an earlier run with this config cut its input for: a rerun (`--update`) cuts
    the same way, or one file more would move every shard boundary (`input.min_shards`)."""
    try:
        marker = storage.read_json(layout.run_marker)
    except (OSError, ValueError):
        return None
    return marker.get("shard_target") if marker.get("config_hash") == config_hash else None


def prepare(layout: RunLayout, config_hash: str, identities: dict, keys: list[str], segments, *, force: bool,
            update: bool, target: int = 0) -> None:
    """Decide what to do with an existing run, then write the run marker for this one."""
    marker = {"mdfs_run": 2, "config_hash": config_hash, "inputs": fingerprint.compact(identities),
              "shards": keys, "shard_target": target}
    if storage.exists(layout.run_marker):
        old = storage.read_json(layout.run_marker)
        if old.get("config_hash") != config_hash:
            if not force:
                raise OutputError(f"{layout.root} holds a run with a different config "
                                  f"({old.get('config_hash')} ≠ {config_hash}); use --force to replace it")
            log.warning("--force: removing the previous run in %s", layout.root)
            clear_run(layout)
        elif changes := _changes(old, marker):
            if force:
                log.warning("--force: inputs changed (%s); removing the previous run in %s", changes,
                            layout.root)
                clear_run(layout)
            elif update and "shards" in old:
                stale = fingerprint.stale_shards(old["shards"], keys)
                log.warning("--update: inputs changed (%s); redoing %d of %d shards and what follows them",
                            changes, len(stale), len(keys))
                invalidate(layout, segments, stale)
            else:
                hint = "--update to redo the shards they touch, or " if "shards" in old else ""
                older = " (it was made by an earlier mdfs version)" if old.get("mdfs_run") == 1 else ""
                raise OutputError(f"the inputs changed since the run in {layout.root}{older} ({changes}): "
                                  f"resuming would mix old and new shards; use {hint}--force to start it "
                                  "over")
        else:
            log.info("resuming the run in %s", layout.root)
    remove_temp_files(layout)
    storage.write_json(layout.run_marker, marker)


def _changes(old: dict, new: dict) -> str:
    changes = fingerprint.describe_changes(old.get("inputs", {}), new["inputs"])
    if not changes and "shards" in old and old["shards"] != new["shards"]:
        changes = "the shard plan"
    return changes


def clear_run(layout: RunLayout) -> None:
    for sub in ("data", "rejects", "stats", "report", "_work", "export"):
        storage.delete_dir(storage.join(layout.root, sub))
    for path in (layout.manifest, layout.run_marker):
        storage.delete_file(path)


def invalidate(layout: RunLayout, segments, shards: list[int]) -> None:
    """Make `shards` (changed, gone or damaged) be redone with everything downstream of them, on disk
    before any work, so that an interrupted update can never resume into stale results.

    Their own outputs go by name (a kill between writing a part and its marker leaves files no marker
    lists). Past a global stage everything depends on every shard: its phases' outputs and markers, and
    every later segment's outputs and markers, go for all shards."""
    if not shards:
        return
    names = {f"part-{s:05d}" for s in shards} | {f"map-{s:05d}" for s in shards}
    later = [seg for seg in segments if seg.index > 0]
    later_stages = {name for seg in later for name in seg.stage_names()}
    global_stages = {seg.global_after.name for seg in segments if seg.global_after}
    for path in storage.list_files(layout.root):
        rel = layout.relative(path)
        top, stem = rel.split("/", 1)[0], rel.rsplit("/", 1)[-1].split(".", 1)[0]
        parts = rel.split("/")
        own = stem in names or any(stem == f"seg{k}-{n}" for k in range(len(segments)) for n in names)
        downstream = (
            (top == "data" and later)
            or (top == "rejects" and len(parts) > 2 and parts[1] in later_stages)
            or (top == "_work" and len(parts) > 2 and parts[1] in global_stages
                and not stem.startswith("map-"))
            or (top == "_work" and parts[1].startswith("seg") and parts[1] != "seg0")
            or (top == "stats" and parts[1] == "global")
            or (top == "stats" and parts[1] == "shards" and not stem.startswith("seg0-"))
        )
        if top in ("data", "rejects", "_work", "stats") and (own or downstream):
            storage.delete_file(path)
    storage.delete_file(layout.manifest)  # describes outputs that no longer exist


def invalidate_phase_item(files: RunFiles, stage: str, phase: str, item: int) -> None:
    """Delete what a global phase's item wrote before, so that rerunning it leaves nothing stale (only
    what the listing shows: on a fresh run nothing is there, and a delete would cost a request)."""
    layout = files.layout
    marker = layout.phase_marker(stage, phase, item)
    try:
        written = (files.marker(marker) or {}).get("files", [])
    except (ValueError, OSError):
        written = []
    paths = [layout.resolve(f["path"]) for f in written]
    for path in [*paths, layout.removals(stage, phase, item), layout.edits(stage, phase, item), marker]:
        if path in paths or files.size(path) is not None:
            storage.delete_file(path)
    files.forget(marker)


def remove_temp_files(layout: RunLayout) -> None:
    """Temporary files left by a process killed between writing and renaming (never read as data)."""
    for sub in ("data", "rejects", "stats", "_work"):
        for path in storage.list_files(storage.join(layout.root, sub)):
            name = path.rsplit("/", 1)[-1]
            if name.startswith(".") and storage.TEMP_MARK in name:
                log.info("removing a temporary file left by a killed run: %s", path)
                storage.delete_file(path)
