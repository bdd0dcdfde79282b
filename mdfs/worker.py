"""The worker: one per engine worker (a Ray actor, or the driver itself in serial runs).

It holds its copy of the plan and sets each stage up on first use, so models load once per worker, not
per shard or batch. Every task goes through `run(task)`.
"""

from __future__ import annotations

from mdfs.errors import StageError
from mdfs.layout import RunLayout
from mdfs.plan import Plan, PlannedStage
from mdfs.readers import PieceReader
from mdfs.stage import GlobalStage, Stage


class Worker:
    def __init__(self, plan: Plan, root: str):
        self.plan = plan
        self.layout = RunLayout(root)
        self.reader = PieceReader(plan.cfg.input)
        self._set_up: set[int] = set()  # stage indices set up in this worker

    def run(self, task) -> dict:
        """The one entry point of every engine: a `ShardTask` or a `PhaseTask` (mdfs.tasks)."""
        return task.run(self)

    def set_up(self, planned: PlannedStage) -> bool:
        """Set the stage up unless done already in this worker; True if this call did it."""
        if planned.index in self._set_up:
            return False
        try:
            planned.stage.setup()
        except Exception as e:
            raise StageError(f"setup failed: {type(e).__name__}: {e}", stage=planned.name) from e
        self._set_up.add(planned.index)
        return True

    def ready(self, planned: PlannedStage) -> Stage | GlobalStage:
        """The stage, set up."""
        self.set_up(planned)
        return planned.stage
