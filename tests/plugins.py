"""Custom stages and hooks used by the tests, referenced from YAML by import path."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc

from mdfs.config import Strict
from mdfs.stage import BUCKET, GlobalStage, Phase, Stage, reject_where


class DropKeyword(Stage):
    """Drops documents containing a keyword: the README's custom-filter example, tested."""

    class Params(Strict):
        keyword: str = "广告"

    def process(self, batch: pa.Table, ctx) -> pa.Table:
        hit = pc.match_substring(batch.column("text"), self.params.keyword)
        ctx.count("hits", pc.sum(hit).as_py() or 0)
        return reject_where(self.with_scores(batch, {"hit": hit}), [(hit, "keyword")])


def crash_on_shard(batch: pa.Table, ctx) -> None:
    """Simulates a crash mid-run: raises on the shard named in MDFS_TEST_CRASH_SHARD."""
    if os.environ.get("MDFS_TEST_CRASH_SHARD") == ctx.shard:
        raise RuntimeError("simulated crash")


def tag_length(batch: pa.Table, ctx) -> pa.Table:
    """An after-hook that adds a column."""
    return batch.append_column("hook__len", pc.utf8_length(batch.column("text")))


ENDED: list[tuple[str, dict]] = []


def record_end(stage: str, stats: dict) -> None:
    ENDED.append((stage, stats))


def abort_if_too_many_rejects(stage: str, stats: dict) -> None:
    if sum(stats.get("reasons", {}).values()) > 0:
        raise RuntimeError(f"{stage} rejected too much")


def die_once_on_shard(batch: pa.Table, ctx) -> None:
    """Kills the worker process the first time it sees the shard in MDFS_TEST_DIE_SHARD
    (a flag file in MDFS_TEST_DIE_FLAG remembers it happened): a node or process failure mid-stage."""
    flag = os.environ.get("MDFS_TEST_DIE_FLAG")
    if flag and os.environ.get("MDFS_TEST_DIE_SHARD") == ctx.shard and not os.path.exists(flag):
        open(flag, "w").close()
        os._exit(1)


def slow(batch: pa.Table, ctx) -> None:
    """Makes every batch take a while, so a test can kill the driver mid-run."""
    import time

    time.sleep(float(os.environ.get("MDFS_TEST_SLOW", "0")))


def die_on_document(batch: pa.Table, ctx) -> None:
    """Kills the worker process every time it sees the document id in MDFS_TEST_DIE_ALWAYS (a crash in
    native code, or the OOM killer, on one document)."""
    if os.environ.get("MDFS_TEST_DIE_ALWAYS") in batch.column("id").to_pylist():
        os._exit(1)


class OldStyleDropFirst(GlobalStage):
    """A global stage written for the contract before phases carried their function: `phases()` names them,
    `run_phase()` runs them. Drops the first document of every shard."""

    def keys(self, batch: pa.Table, ctx) -> pa.Table:
        return pa.table({BUCKET: pa.array([0] * batch.num_rows, pa.int64())})

    def phases(self, shards: int) -> list[Phase]:
        return [Phase("pick", 1)]

    def run_phase(self, phase: str, item: int, work, ctx) -> None:
        keys = work.read("keys", 0)
        first = keys.filter(pc.equal(keys.column("row"), 0))
        work.write_removals(first.append_column("reason", pa.array(["first"] * first.num_rows))
                            .append_column("detail", pa.array([phase] * first.num_rows)))


class EditsChosenAtSetup(OldStyleDropFirst):
    """Writes an edit for every document and binds its `apply_edits` in `setup()`, on the instance (as a
    stage choosing between editors by a parameter would): the framework must still hand it the edits."""

    def setup(self) -> None:
        self.apply_edits = self._count_edits

    def run_phase(self, phase: str, item: int, work, ctx) -> None:
        keys = work.read("keys", 0)
        work.write_edits(pa.table({"shard": keys.column("shard"), "row": keys.column("row"),
                                   "line": pa.array([0] * keys.num_rows, pa.int32()),
                                   "kind": pa.array(["x"] * keys.num_rows)}))

    def _count_edits(self, batch: pa.Table, edits: pa.Table, ctx) -> pa.Table:
        ctx.count("edits_seen", edits.num_rows)
        return batch
