"""Every document in ends up kept or rejected with a reason: checked per shard, per stage and overall,
from the stats *and* from the row counts of the files actually written."""

from __future__ import annotations

import logging

from mdfs.errors import ConservationError

log = logging.getLogger(__name__)


def check_conservation(cfg, segments, markers: list[dict], keys: list[str] | None = None) -> dict:
    """`keys`: each shard's input key (mdfs.fingerprint); a marker made from other inputs is a problem,
    so a shard lost or doubled by a change of inputs can never pass."""
    problems: list[str] = []
    for m in markers if keys is not None else []:
        if m["shard"] >= len(keys) or m.get("key") != keys[m["shard"]]:
            problems.append(f"shard {m['shard']} segment {m['segment']}: made from other inputs than this run's")
    per_stage: dict[str, dict] = {}
    by_shard: dict[int, dict[int, dict]] = {}
    for m in markers:
        by_shard.setdefault(m["shard"], {})[m["segment"]] = m
    docs_in = docs_out = rejected = 0
    for shard, segs in sorted(by_shard.items()):
        flow = None  # documents leaving the previous stage
        for seg in segments:
            m = segs.get(seg.index)
            if m is None:
                problems.append(f"shard {shard}: segment {seg.index} has no stats")
                break
            rows = {}
            for f in m["files"]:
                key = f.get("stage") if f["kind"] == "rejects" else f["kind"]
                rows[key] = rows.get(key, 0) + f["rows"]
            for name in m["order"]:
                st = m["stats"][name]
                dropped = sum(st["reasons"].values())
                agg = per_stage.setdefault(name, {"docs_in": 0, "docs_out": 0, "rejected": 0})
                agg["docs_in"] += st["docs_in"]
                agg["docs_out"] += st["docs_out"]
                agg["rejected"] += dropped
                where = f"shard {shard} stage {name}"
                if st["docs_in"] != st["docs_out"] + dropped:
                    problems.append(f"{where}: {st['docs_in']} in ≠ {st['docs_out']} kept + {dropped} rejected")
                if rows.get(name, 0) != dropped:
                    problems.append(f"{where}: {dropped} rejects counted but {rows.get(name, 0)} rows written")
                if flow is not None and st["docs_in"] != flow:
                    problems.append(f"{where}: {st['docs_in']} in but the previous stage passed {flow}")
                if name == "read":
                    docs_in += st["docs_in"]
                rejected += dropped
                flow = st["docs_out"]
            out_kind = "data" if seg.is_last else "work"
            if flow is not None and rows.get(out_kind, 0) != flow:
                problems.append(f"shard {shard} segment {seg.index}: {flow} kept but {rows.get(out_kind, 0)} "
                                f"rows written to {out_kind}")
        docs_out += flow or 0
    if docs_in != docs_out + rejected:
        problems.append(f"overall: {docs_in} in ≠ {docs_out} kept + {rejected} rejected")
    report = {"ok": not problems, "docs_in": docs_in, "docs_out": docs_out, "rejected": rejected,
              "stages": per_stage, "problems": problems}
    if problems:
        raise ConservationError("conservation check FAILED:\n  " + "\n  ".join(problems[:50]))
    return report


def format_report(report: dict) -> str:
    lines = [f"{'stage':<14}{'in':>10}{'kept':>10}{'rejected':>10}"]
    for name, st in report["stages"].items():
        lines.append(f"{name:<14}{st['docs_in']:>10,}{st['docs_out']:>10,}{st['rejected']:>10,}")
    verdict = "OK" if report["ok"] else "FAILED"
    lines.append(f"conservation {verdict}: {report['docs_in']:,} in = {report['docs_out']:,} kept + "
                 f"{report['rejected']:,} rejected")
    return "\n".join(lines)
