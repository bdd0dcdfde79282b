"""What a rerun can keep: done markers that still hold, and the shards each segment must (re)run.

A marker counts when it parses, was made from the same inputs (its key) and every file it lists is still
there with the same size; parts damaged in place (same size, other bytes) are found by `damaged_shards`.
"""

from __future__ import annotations

import logging

from mdfs import storage
from mdfs.inputs import Shard
from mdfs.layout import RunLayout
from mdfs.plan import Plan
from mdfs.stage import Phase

log = logging.getLogger(__name__)
CHECKED_KINDS = ("data", "rejects")  # outputs whose sha256 a rerun verifies (the manifest lists them)


def shard_done(layout: RunLayout, segment: int, shard: Shard) -> bool:
    return files_ok(layout, layout.shard_marker(segment, shard.index), shard.key)


def phase_item_done(layout: RunLayout, stage: str, phase: str, item: int) -> bool:
    return files_ok(layout, layout.phase_marker(stage, phase, item))


def shards_needed(plan: Plan, layout: RunLayout, shards: list[Shard]) -> list[set[int]]:
    """Per segment, the shards that must exist there. A shard finished in the last segment needs nothing
    earlier (its _work files may be gone); but a global stage that is not finished needs every shard of
    the segment before it, even finished ones, since its phases read all of their keys."""
    segments = plan.segments
    needed = [set() for _ in segments]
    needed[-1] = {s.index for s in shards if not shard_done(layout, segments[-1].index, s)}
    for seg in reversed(segments[:-1]):
        after = needed[seg.index + 1]
        if after and not global_done(plan, layout, seg.global_after.name, len(shards)):
            after = {s.index for s in shards}
        needed[seg.index] = set(after)
    return needed


def global_done(plan: Plan, layout: RunLayout, stage: str, shards: int) -> bool:
    return all(phase_done(layout, stage, p) for p in plan.phases(stage, shards))


def phase_done(layout: RunLayout, stage: str, phase: Phase) -> bool:
    """Every item done; for a repeated phase, every item of every round up to the recorded one."""
    if phase.stable is None:
        return all(phase_item_done(layout, stage, phase.name, i) for i in range(phase.items))
    try:
        rounds = int(storage.read_json(layout.rounds_record(stage, phase.name))["rounds"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(phase_done(layout, stage, phase.round(r)) for r in range(rounds))


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


def files_ok(layout: RunLayout, path: str, key: str | None = None) -> bool:
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
