"""Which columns exist at each point of the plan, so that `mdfs validate` catches a stage that reads a
column nobody writes, naming the stage, before any work.

A column is written by the reader (`mdfs.readers.DOC_SCHEMA`, and the input's own fields), or by an earlier
stage: its declared `writes`, and its `<stage>__<metric>` scores (any metric of its name when it does not
declare `scores`). Input fields are only known when `input.metadata` lists them; with `keep` (the default)
any plain column name may come from the input, so only score columns are checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdfs.config import InputConfig
from mdfs.readers import DOC_SCHEMA

if TYPE_CHECKING:
    from mdfs.plan import PlannedStage


def column_problems(input_cfg: InputConfig, planned: list[PlannedStage]) -> list[str]:
    """One message per stage that reads columns no earlier stage nor the reader writes."""
    written = set(DOC_SCHEMA.names)
    if isinstance(input_cfg.metadata, list):
        written |= {input_cfg.metadata_prefix + name for name in input_cfg.metadata}
    any_plain = input_cfg.metadata == "keep"
    open_scores: set[str] = set()  # stages that did not declare their scores: any `<stage>__x`
    problems = []
    for p in planned:
        missing = [c for c in p.stage.reads if c not in written and not (any_plain and "__" not in c)
                   and c.split("__", 1)[0] not in open_scores]
        if missing:
            problems.append(f"stage {p.name!r} reads {', '.join(missing)}, which no earlier stage writes "
                            f"(nor the input)")
        written |= set(p.stage.writes)
        if p.stage.scores is None:
            open_scores.add(p.name)
        else:
            written |= {f"{p.name}__{metric}" for metric in p.stage.scores}
    return problems
