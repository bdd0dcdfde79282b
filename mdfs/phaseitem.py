"""One work item of one phase of a global stage: run the phase's own function, write the item's marker
(its counters, notes and files; also its done marker)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from mdfs import storage
from mdfs.globalwork import GlobalWork
from mdfs.stage import StageContext
from mdfs.stats import Clock
from mdfs.steps import guarded

if TYPE_CHECKING:
    from mdfs.tasks import PhaseTask
    from mdfs.worker import Worker


def run_phase_item(worker: Worker, task: PhaseTask) -> dict:
    planned, segment = worker.plan.global_stage(task.stage)
    stage = worker.ready(planned)
    phase = worker.plan.phase(task.stage, task.phase, task.shards)
    run = phase.run or partial(stage.run_phase, phase.name)
    clock = Clock()
    ctx = StageContext(task.stage, f"{task.phase}-{task.item:05d}")
    work = GlobalWork(worker.layout, task.stage, task.phase, task.item,
                      compression=worker.plan.cfg.output.compression, segment=segment, shards=task.shards)

    def run_and_close() -> int:
        run(task.item, work, ctx)
        return work.close()

    removed = guarded(run_and_close, ctx, f"phase {task.phase} item {task.item}")
    result = {"stage": task.stage, "phase": task.phase, "item": task.item, "removed": removed,
              "edits": work.edited, "files": worker.layout.relative_files(work.files),
              "counters": dict(ctx.counters), "notes": ctx.notes}
    result["seconds"], result["cpu_seconds"] = clock.seconds()
    storage.write_json(worker.layout.phase_marker(task.stage, task.phase, task.item), result)
    return result
