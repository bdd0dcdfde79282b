"""Every document in ends up kept or rejected with a reason: checked per shard, per stage and overall,
from the stats *and* from the row counts of the files actually written."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mdfs.errors import ConservationError
from mdfs.stats import RunStats, StageStats

log = logging.getLogger(__name__)


@dataclass
class Conservation:
    """The check's verdict and the counts it found (the run summary and the manifest carry it)."""

    docs_in: int = 0
    docs_out: int = 0
    rejected: int = 0
    stages: RunStats = field(default_factory=RunStats)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        stages = {n: {"docs_in": st.docs_in, "docs_out": st.docs_out, "rejected": st.rejected}
                  for n, st in self.stages.items()}
        return {"ok": self.ok, "docs_in": self.docs_in, "docs_out": self.docs_out, "rejected": self.rejected,
                "stages": stages, "problems": self.problems}


def check_conservation(segments, markers: list[dict], keys: list[str] | None = None) -> Conservation:
    """`keys`: each shard's input key (mdfs.fingerprint); a marker made from other inputs is a problem,
    so a shard lost or doubled by a change of inputs can never pass."""
    result = Conservation()
    for m in markers if keys is not None else []:
        if m["shard"] >= len(keys) or m.get("key") != keys[m["shard"]]:
            result.problems.append(f"shard {m['shard']} segment {m['segment']}: made from other inputs than "
                                   "this run's")
    by_shard: dict[int, dict[int, dict]] = {}
    for m in markers:
        by_shard.setdefault(m["shard"], {})[m["segment"]] = m
    for shard, segs in sorted(by_shard.items()):
        result.docs_out += _check_shard(result, segments, shard, segs) or 0
    if result.docs_in != result.docs_out + result.rejected:
        result.problems.append(f"overall: {result.docs_in} in ≠ {result.docs_out} kept + "
                               f"{result.rejected} rejected")
    if result.problems:
        raise ConservationError("conservation check FAILED:\n  " + "\n  ".join(result.problems[:50]))
    return result


def _check_shard(result: Conservation, segments, shard: int, segs: dict[int, dict]) -> int | None:
    """Follow one shard's documents through every segment; returns how many it kept at the end."""
    flow = None  # documents leaving the previous stage
    problems = result.problems
    for seg in segments:
        m = segs.get(seg.index)
        if m is None:
            problems.append(f"shard {shard}: segment {seg.index} has no stats")
            break
        rows = _rows_written(m["files"])
        for name in m["order"]:
            st = StageStats.from_json(m["stats"][name])
            result.stages.add(name, StageStats(st.docs_in, st.docs_out, reasons=st.reasons))
            where = f"shard {shard} stage {name}"
            if not st.conserved:
                problems.append(f"{where}: {st.docs_in} in ≠ {st.docs_out} kept + {st.rejected} rejected")
            if rows.get(name, 0) != st.rejected:
                problems.append(f"{where}: {st.rejected} rejects counted but {rows.get(name, 0)} rows "
                                "written")
            if flow is not None and st.docs_in != flow:
                problems.append(f"{where}: {st.docs_in} in but the previous stage passed {flow}")
            if name == "read":
                result.docs_in += st.docs_in
            result.rejected += st.rejected
            flow = st.docs_out
        out_kind = "data" if seg.is_last else "work"
        if flow is not None and rows.get(out_kind, 0) != flow:
            problems.append(f"shard {shard} segment {seg.index}: {flow} kept but {rows.get(out_kind, 0)} "
                            f"rows written to {out_kind}")
    return flow


def _rows_written(files: list[dict]) -> dict[str, int]:
    """Rows written per output kind, rejects per stage."""
    rows: dict[str, int] = {}
    for f in files:
        key = f.get("stage") if f["kind"] == "rejects" else f["kind"]
        rows[key] = rows.get(key, 0) + f["rows"]
    return rows


def format_report(report: Conservation) -> str:
    lines = [f"{'stage':<14}{'in':>10}{'kept':>10}{'rejected':>10}"]
    for name, st in report.stages.items():
        lines.append(f"{name:<14}{st.docs_in:>10,}{st.docs_out:>10,}{st.rejected:>10,}")
    verdict = "OK" if report.ok else "FAILED"
    lines.append(f"conservation {verdict}: {report.docs_in:,} in = {report.docs_out:,} kept + "
                 f"{report.rejected:,} rejected")
    return "\n".join(lines)
