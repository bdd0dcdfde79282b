"""The plan of a run, compiled once from the config: built stages, their hooks, and segments.

The stage list is cut into segments at global stages. Segment k runs its per-batch stages on every shard.
If a global stage follows, the segment writes its kept documents to `_work/seg{k}` and the global stage's
map output (its keys); the global stage runs its phases (by default one: resolve bucket by bucket); segment
k+1 begins by removing (or editing) what they resolved. The last segment writes `data/`.

The driver compiles the plan once (`compile_plan`: every stage built and every hook imported, every
problem reported at once) and uses it for `mdfs validate`, resume and the run; workers receive it as the
config alone and rebuild it once each (stages hold configuration only, so this is cheap, and a user's stage
never has to be picklable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mdfs.config import RunConfig, StageSpec
from mdfs.errors import ConfigError
from mdfs.registry import build_stage, load_hook
from mdfs.rejects import READ_STAGE
from mdfs.stage import ROUND, GlobalStage, Phase, Stage

HOOK_KINDS = ("before", "after", "on_end")


@dataclass
class PlannedStage:
    """One enabled stage of the plan: its position in `stages:`, its spec, the built stage, its hooks."""

    index: int
    spec: StageSpec
    stage: Stage | GlobalStage
    hooks: dict[str, list[tuple[str, Callable]]]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def is_global(self) -> bool:
        return isinstance(self.stage, GlobalStage)


@dataclass
class Segment:
    index: int
    stages: list[PlannedStage] = field(default_factory=list)
    removes: PlannedStage | None = None  # global stage whose removals open this segment
    global_after: PlannedStage | None = None  # global stage keyed at the end of this segment

    @property
    def is_last(self) -> bool:
        return self.global_after is None

    def stage_names(self) -> list[str]:
        names = [self.removes.name] if self.removes else []
        return names + [s.name for s in self.stages]

    def order(self) -> list[str]:
        """The stages a shard's documents pass in this segment, as its stats list them."""
        return ([READ_STAGE] if self.index == 0 else []) + self.stage_names()


class Plan:
    def __init__(self, cfg: RunConfig, stages: list[PlannedStage]):
        self.cfg = cfg
        self.stages = stages
        self.segments = _segments(stages)

    def __reduce__(self):
        """Ship the config only; the receiving worker builds its own stages once."""
        return compile_plan, (self.cfg,)

    def order(self) -> list[str]:
        """Every stage name in pipeline order, `read` first."""
        return [n for seg in self.segments for n in seg.order()]

    def global_stages(self) -> list[PlannedStage]:
        return [seg.global_after for seg in self.segments if seg.global_after]

    def global_stage(self, name: str) -> tuple[PlannedStage, int]:
        """The global stage called `name` and the segment whose output it reads."""
        for seg in self.segments:
            if seg.global_after and seg.global_after.name == name:
                return seg.global_after, seg.index
        raise KeyError(name)

    def phases(self, name: str, shards: int) -> list[Phase]:
        """The phases of the global stage `name` over `shards` shards, each with its own function."""
        return self.global_stage(name)[0].stage.phases(shards)

    def phase(self, name: str, phase: str, shards: int) -> Phase:
        """One phase of the global stage `name`, by its name (what a `PhaseTask` carries)."""
        base, _, number = phase.partition(ROUND)
        for p in self.phases(name, shards):
            if p.name == phase:
                return p
            if p.stable and p.name == base and number.isdigit():
                return p.round(int(number))
        raise KeyError(f"global stage {name!r} has no phase {phase!r}")


def compile_plan(cfg: RunConfig) -> Plan:
    """Build every enabled stage and import every hook once, so a bad config fails before any work.
    Every problem is reported at once, each under its file and stage name."""
    from mdfs.columns import column_problems

    problems: list[str] = []
    planned = []
    for index, spec in enumerate(cfg.stages):
        if not spec.enabled:
            continue
        found = len(problems)
        stage = _checked(problems, spec, build_stage, spec, index)
        hooks = {kind: [(path, _checked(problems, spec, load_hook, path, f"stages[{index}].hooks.{kind}"))
                        for path in getattr(spec.hooks, kind)] for kind in HOOK_KINDS}
        if len(problems) == found:
            planned.append(PlannedStage(index, spec, stage, hooks))
    if not problems:
        problems = column_problems(cfg.input, planned)
    if problems:
        raise ConfigError(f"{cfg._source}: {len(problems)} problem{'s' if len(problems) > 1 else ''}\n  "
                          + "\n  ".join(problems))
    return Plan(cfg, planned)


def _checked(problems: list[str], spec: StageSpec, fn: Callable, *args):
    """`fn(*args)`, or None with its ConfigError added to `problems` under the stage's name."""
    try:
        return fn(*args)
    except ConfigError as e:
        problems.append(f"stage {spec.name!r}: {e}".replace("\n", "\n    "))
        return None


def _segments(stages: list[PlannedStage]) -> list[Segment]:
    segments = [Segment(0)]
    for planned in stages:
        if planned.is_global:
            segments[-1].global_after = planned
            segments.append(Segment(len(segments), removes=planned))
        else:
            segments[-1].stages.append(planned)
    return segments


def describe(plan: Plan) -> str:
    """Human-readable resolved plan for `mdfs validate`."""
    cfg = plan.cfg
    lines = [(f"input: {cfg.input.paths or '(from --input)'}  format={cfg.input.format} "
              f"text_field={cfg.input.text_field} shard_size_mb={cfg.input.shard_size_mb}"),
             f"output: {cfg.output.path or '(from --output)'}  compression={cfg.output.compression}",
             (f"engine: {cfg.engine.kind} address={cfg.engine.address or 'local'} "
              f"workers={cfg.engine.workers or 'all CPUs'}"),
             f"config hash: {cfg.content_hash()}"]
    for seg in plan.segments:
        lines.append(f"segment {seg.index}:")
        if seg.removes:
            lines.append(f"  - {seg.removes.name}: remove (or edit) the documents its phases resolved")
        for planned in seg.stages:
            stage = planned.stage
            lines.append(f"  - {planned.name} ({type(stage).__module__}.{type(stage).__name__}) "
                         f"{stage.params.model_dump(mode='json')}")
            lines += [f"      hook {kind}: {path}" for kind in HOOK_KINDS for path, _ in planned.hooks[kind]]
        if seg.global_after:
            stage = seg.global_after.stage
            lines.append(f"  => global {seg.global_after.name} ({type(stage).__name__}) "
                         f"{stage.params.model_dump(mode='json')}: map over shards → "
                         f"{' → '.join(p.name for p in stage.phases(1))}")
    disabled = [s.name for s in cfg.stages if not s.enabled]
    if disabled:
        lines.append(f"disabled: {disabled}")
    return "\n".join(lines)
