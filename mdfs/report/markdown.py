"""Render a report dict (see `collect.build_report`) as Markdown: the same sections as the HTML page, as
tables, for a terminal, a pull request or a wiki."""

from __future__ import annotations

from mdfs.report.render import FUNNEL_KEYS, fmt
from mdfs.report.scan import length_label


def _md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _bar(v: float, vmax: float, width: int = 30) -> str:
    return "█" * round(width * v / vmax) if vmax else ""


def _section(title: str, *body: str) -> list[str]:
    return ["", f"## {title}", "", *body]


def to_markdown(r: dict, sample_chars: int = 160) -> str:
    out = _head(r)
    out += _lengths(r["lengths"])
    for col, s in r["scores"].items():
        out += _score(col, s)
    out += _corpus(r["corpus"])
    for key in ("sources", "domains"):
        if r[key]:
            out += _section(key.title(), _md_table([key[:-1], "kept", "rejected", "kept %"],
                                                   [[x["name"], x["kept"], x["rejected"], x["kept_pct"]]
                                                    for x in r[key]]))
    for stage, v in r["dedup"].items():
        out += _section(f"Deduplication: {stage}",
                        _md_table(["cluster size", "clusters"],
                                  [[k, n] for k, n in v["cluster_sizes"].items()]))
    t = r["throughput"]
    out += _section("Throughput", _md_table(["stage", "seconds", "docs/s", "MB/s"],
                                            [[x["stage"], x["seconds"], x["docs_per_s"], x["mb_per_s"]]
                                             for x in t["stages"]]), "", t["note"])
    out += _section("Rejected documents, a sample per reason")
    for s in r["samples"]:
        out += [f"### {s['stage']} · {s['reason']}", ""]
        for d in s["documents"]:
            text = (d["text"] or "").replace("\n", " ")[:sample_chars]
            out.append(f"- `{d['id']}`: {text}")
        out.append("")
    return "\n".join(out) + "\n"


def _head(r: dict) -> list[str]:
    """Title, conservation, funnel and drop reasons."""
    run = r["run"]
    funnel = _md_table(["stage", "docs in", "kept", "rejected", "kept %", "chars in", "chars kept",
                        "chars kept %"],
                       [[f[k] for k in FUNNEL_KEYS] for f in r["funnel"]])
    reasons = _md_table(["stage", "reason", "documents"],
                        [[s, k, n] for s, rs in r["reasons"].items() for k, n in rs.items()])
    return [f"# mdfs report: {run['root']}", "",
            f"config {run['config_hash']} · {fmt(run['seconds'])} s · conservation "
            f"{'OK' if run['conservation_ok'] else 'FAILED'}",
            *_section("Funnel", funnel), *_section("Drop reasons", reasons)]


def _lengths(lg: dict) -> list[str]:
    kt, rt = sum(lg["kept"]) or 1, sum(lg["rejected"]) or 1
    rows = [[length_label(i), round(100 * k / kt, 1), round(100 * j / rt, 1), _bar(k / kt, 1)]
            for i, (k, j) in enumerate(zip(lg["kept"], lg["rejected"]))]
    return _section("Document length (share of documents)",
                    _md_table(["characters", "kept %", "rejected %", ""], rows))


def _score(col: str, s: dict) -> list[str]:
    columns = [("kept %", s["kept"])]
    columns += [(f"rejected by {stage} %", c) for stage, c in (s.get("rejected_by") or {}).items()]
    if s.get("rejected") and not s.get("rejected_by"):
        columns.append((f"rejected % (sample of {s.get('rejected_sample', 0)})", s["rejected"]))
    totals = [sum(c) or 1 for _, c in columns]
    rows = [[f"{e:.2f}", *(round(100 * c[i] / t, 1) for (_, c), t in zip(columns, totals))]
            for i, e in enumerate(s["edges"])]
    threshold = [f"Threshold: {s['threshold']:g}", ""] if s.get("threshold") is not None else []
    return _section(f"Score: {col}", *threshold, _md_table(["bin", *(name for name, _ in columns)], rows))


def _corpus(c: dict) -> list[str]:
    summary = (f"{c['documents']:,} documents, {c['characters']:,} characters, "
               f"~{c['estimated_tokens']:,} tokens ({c['token_estimate']}); length percentiles: "
               + ", ".join(f"{k} {v:,}" for k, v in c["length_percentiles"].items()))
    out = _section("Corpus", summary, "",
                   _md_table(["script", "characters"], [[k, v] for k, v in c["scripts"].items()]))
    if c["languages"]:
        out += _section("Languages", _md_table(["lang", "documents", "characters"],
                                               [[x["lang"], x["documents"], x["characters"]]
                                                for x in c["languages"]]))
    return out
