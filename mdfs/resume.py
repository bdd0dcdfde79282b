"""What a rerun can keep: done markers that still hold, and the shards each segment must (re)run.

A marker counts when it parses, was made from the same inputs (its key) and every file it lists is still
there with the same size; parts damaged in place (same size, other bytes) are found by `damaged_shards`.
"""

from __future__ import annotations

import json
import logging

from mdfs import storage
from mdfs.inputs import Shard
from mdfs.layout import RunLayout
from mdfs.plan import Plan
from mdfs.stage import Phase

log = logging.getLogger(__name__)
CHECKED_KINDS = ("data", "rejects")  # outputs whose sha256 a rerun verifies (the manifest lists them)


class RunFiles:
    """What a run directory holds, for one pass of decisions while no task runs: each folder listed once
    (one request per 1,000 objects on a store, instead of a HEAD per file) and each marker read once
    (markers a task returns are remembered, not read back)."""

    def __init__(self, layout: RunLayout):
        self.layout = layout
        self._folders: dict[str, dict[str, int]] = {}
        self._markers: dict[str, dict | None] = {}

    def size(self, path: str) -> int | None:
        folder = path.rsplit("/", 1)[0]
        if folder not in self._folders:
            self._folders[folder] = storage.list_sizes(folder)
        return self._folders[folder].get(path)

    def marker(self, path: str) -> dict | None:
        """The marker at `path`, or None if there is none (a damaged one raises ValueError)."""
        if path not in self._markers:
            self._markers[path] = storage.read_json(path) if self.size(path) is not None else None
        return self._markers[path]

    def forget(self, path: str) -> None:
        """`path` was deleted: no marker there any more."""
        self._markers[path] = None

    def remember(self, path: str, marker: dict) -> None:
        self._markers[path] = json.loads(json.dumps(marker))  # exactly what reading the file gives


def shard_done(files: RunFiles, segment: int, shard: Shard) -> bool:
    return files_ok(files, files.layout.shard_marker(segment, shard.index), shard.key)


def phase_item_done(files: RunFiles, stage: str, phase: str, item: int) -> bool:
    return files_ok(files, files.layout.phase_marker(stage, phase, item))


def shards_needed(plan: Plan, files: RunFiles, shards: list[Shard]) -> list[set[int]]:
    """Per segment, the shards that must exist there. A shard finished in the last segment needs nothing
    earlier (its _work files may be gone); but a global stage that is not finished needs every shard of
    the segment before it, even finished ones, since its phases read all of their keys."""
    segments = plan.segments
    needed = [set() for _ in segments]
    needed[-1] = {s.index for s in shards if not shard_done(files, segments[-1].index, s)}
    for seg in reversed(segments[:-1]):
        after = needed[seg.index + 1]
        if after and not global_done(plan, files, seg.global_after.name, len(shards)):
            after = {s.index for s in shards}
        needed[seg.index] = set(after)
    return needed


def global_done(plan: Plan, files: RunFiles, stage: str, shards: int) -> bool:
    return all(phase_done(files, stage, p) for p in plan.phases(stage, shards))


def phase_done(files: RunFiles, stage: str, phase: Phase) -> bool:
    """Every item done; for a repeated phase, every item of every round up to the recorded one."""
    if phase.stable is None:
        return all(phase_item_done(files, stage, phase.name, i) for i in range(phase.items))
    try:
        rounds = int(files.marker(files.layout.rounds_record(stage, phase.name))["rounds"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(phase_done(files, stage, phase.round(r)) for r in range(rounds))


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


def files_ok(files: RunFiles, path: str, key: str | None = None) -> bool:
    """A done marker counts when it parses, carries `key` (if given), and every file it lists exists with
    the same size (damaged parts of the same size: `damaged_shards`)."""
    try:
        marker = files.marker(path)
        if marker is None or (key is not None and marker.get("key") != key):
            return False
        return all(files.size(files.layout.resolve(f["path"])) == f["bytes"] for f in marker["files"])
    except (ValueError, KeyError, TypeError, OSError):
        log.warning("damaged done marker %s: redoing its work", path)
        return False
