"""Cut the stage list into segments at global stages.

Segment k runs its per-batch stages on every shard. If a global stage follows, the segment writes its
kept documents to `_work/seg{k}` and the global stage's map output (its keys); the global stage runs its
phases (by default one: resolve bucket by bucket); segment k+1 begins by removing what they resolved.
The last segment writes `data/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mdfs.config import RunConfig, StageSpec
from mdfs.errors import ConfigError
from mdfs.registry import build_stage, load_hook, stage_class
from mdfs.stage import GlobalStage


@dataclass
class Segment:
    index: int
    stages: list[tuple[int, StageSpec]] = field(default_factory=list)
    removes: tuple[int, StageSpec] | None = None  # global stage whose removals open this segment
    global_after: tuple[int, StageSpec] | None = None  # global stage keyed at the end of this segment

    @property
    def is_last(self) -> bool:
        return self.global_after is None

    def stage_names(self) -> list[str]:
        names = [self.removes[1].name] if self.removes else []
        return names + [s.name for _, s in self.stages]


def build_segments(cfg: RunConfig) -> list[Segment]:
    segments = [Segment(0)]
    for index, spec in enumerate(cfg.stages):
        if not spec.enabled:
            continue
        if issubclass(stage_class(spec, index), GlobalStage):
            segments[-1].global_after = (index, spec)
            segments.append(Segment(len(segments), removes=(index, spec)))
        else:
            segments[-1].stages.append((index, spec))
    return segments


def check_plan(cfg: RunConfig) -> list[Segment]:
    """Build every stage and import every hook once on the driver, so bad configs fail before work.
    Every problem is reported at once, each under its file and stage name."""
    problems = []
    for index, spec in enumerate(cfg.stages):
        if not spec.enabled:
            continue
        checks = [(build_stage, (spec, index))]
        checks += [(load_hook, (path, f"stages[{index}].hooks.{kind}"))
                   for kind in ("before", "after", "on_end") for path in getattr(spec.hooks, kind)]
        for fn, args in checks:
            try:
                fn(*args)
            except ConfigError as e:
                problems.append(f"stage {spec.name!r}: {e}".replace("\n", "\n    "))
    if problems:
        raise ConfigError(f"{cfg._source}: {len(problems)} problem{'s' if len(problems) > 1 else ''}\n  "
                          + "\n  ".join(problems))
    return build_segments(cfg)


def describe(cfg: RunConfig) -> str:
    """Human-readable resolved plan for `mdfs validate`."""
    lines = [f"input: {cfg.input.paths or '(from --input)'}  format={cfg.input.format} "
             f"text_field={cfg.input.text_field} shard_size_mb={cfg.input.shard_size_mb}",
             f"output: {cfg.output.path or '(from --output)'}  compression={cfg.output.compression}",
             f"engine: {cfg.engine.kind} address={cfg.engine.address or 'local'} workers={cfg.engine.workers or 'all CPUs'}",
             f"config hash: {cfg.content_hash()}"]
    for seg in check_plan(cfg):
        lines.append(f"segment {seg.index}:")
        if seg.removes:
            lines.append(f"  - {seg.removes[1].name}: remove (or edit) the documents its phases resolved")
        for index, spec in seg.stages:
            stage = build_stage(spec, index)
            params = stage.params.model_dump(mode="json")
            lines.append(f"  - {spec.name} ({type(stage).__module__}.{type(stage).__name__}) {params}")
            for kind in ("before", "after", "on_end"):
                for h in getattr(spec.hooks, kind):
                    lines.append(f"      hook {kind}: {h}")
        if seg.global_after:
            index, spec = seg.global_after
            stage = build_stage(spec, index)
            lines.append(f"  => global {spec.name} ({type(stage).__name__}) "
                         f"{stage.params.model_dump(mode='json')}: map over shards → "
                         f"{' → '.join(p.name for p in stage.phases(1))}")
    disabled = [s.name for s in cfg.stages if not s.enabled]
    if disabled:
        lines.append(f"disabled: {disabled}")
    return "\n".join(lines)
