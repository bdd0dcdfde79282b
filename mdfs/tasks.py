"""The work items an engine maps over workers: small, picklable, each knowing how it runs.

Every task goes through one entry point, `Worker.run(task)`, which calls `task.run(worker)`. A task
carries only indices and names; the worker looks the stage up in its own copy of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mdfs.inputs import Shard
from mdfs.layout import RunLayout

if TYPE_CHECKING:
    from mdfs.worker import Worker


@dataclass(frozen=True)
class ShardTask:
    """Run one shard through one segment: its source step, its stages, its writes."""

    segment: int
    shard: Shard

    def run(self, worker: Worker) -> dict:
        from mdfs.segment import run_shard

        return run_shard(worker, self.segment, self.shard)

    def describe(self) -> str:
        inputs = ", ".join(p.rel for p in self.shard.pieces[:3])
        return f"shard {self.shard.name} (segment {self.segment}, input {inputs})"

    def breadcrumb(self, layout: RunLayout) -> str | None:
        """Where a worker leaves the stage and documents it is on (read back if it dies)."""
        return layout.breadcrumb(self.segment, self.shard.index)


@dataclass(frozen=True)
class PhaseTask:
    """Run one work item of one phase of a global stage."""

    stage: str
    phase: str
    item: int
    shards: int

    def run(self, worker: Worker) -> dict:
        from mdfs.phaseitem import run_phase_item

        return run_phase_item(worker, self)

    def describe(self) -> str:
        return f"stage {self.stage}, phase {self.phase}, item {self.item}"

    def breadcrumb(self, layout: RunLayout) -> str | None:
        return None
