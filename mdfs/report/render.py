"""Render a report dict (see `collect.build_report`) as one self-contained HTML page and as Markdown."""

from __future__ import annotations

from html import escape

from mdfs.report import svg
from mdfs.report.scan import length_label

CSS = """
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#212529;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #dee2e6;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #dee2e6;padding:3px 8px;
text-align:right}th{background:#f1f3f5}td:first-child,th:first-child{text-align:left}
.ok{color:#2f9e44}.bad{color:#e03131}.note{color:#868e96;font-size:12px}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;background:#f8f9fa;border-left:3px solid #e03131;padding:6px 8px;font-size:12px;
margin:4px 0 10px}
.chart{display:block;margin:8px 0;max-width:100%;height:auto}
"""

# The funnel's columns, in the order both the HTML and the Markdown tables show them.
FUNNEL_KEYS = ("stage", "docs_in", "docs_out", "rejected", "kept_pct", "chars_in", "chars_out", "chars_kept_pct")


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def to_html(r: dict) -> str:
    run, parts = r["run"], []
    ok = '<span class="ok">OK</span>' if run["conservation_ok"] else '<span class="bad">FAILED</span>'
    parts.append(
        f"<h1>mdfs report</h1><p>{escape(run['root'])} · config {escape(str(run['config_hash']))} · "
        f"{_fmt(run['input_bytes'])} input bytes in {_fmt(run['input_shards'])} shards · "
        f"{_fmt(run['seconds'])} s · conservation {ok}</p>"
    )
    funnel = r["funnel"]
    parts.append("<h2>Funnel</h2>")
    parts.append(
        svg.hbars(
            [(f["stage"], f["docs_out"], f"{f['docs_out']:,} docs · {f['kept_pct']}% kept") for f in funnel],
            "Documents kept after each stage",
        )
    )
    parts.append(
        svg.hbars(
            [
                (f["stage"], f["chars_out"], f"{f['chars_out']:,} chars · {f['chars_kept_pct']}%")
                for f in funnel
            ],
            "Characters kept after each stage",
            color="#1971c2",
        )
    )
    parts.append(
        _table(
            [
                "stage",
                "docs in",
                "kept",
                "rejected",
                "kept %",
                "chars in",
                "chars kept",
                "chars kept %",
                "docs kept of input %",
            ],
            [
                [f[k] for k in (*FUNNEL_KEYS, "docs_of_input_pct")]
                for f in funnel
            ],
        )
    )
    parts.append("<h2>Drop reasons</h2>")
    reasons = [
        (f"{stage} · {reason}", n, f"{n:,}") for stage, rs in r["reasons"].items() for reason, n in rs.items()
    ]
    parts.append(
        svg.hbars(reasons, "Rejected documents by stage and reason", color=svg.REJECTED)
        if reasons
        else "<p>No document was rejected.</p>"
    )
    parts.append(_lengths_html(r))
    for col, s in r["scores"].items():
        series = [("kept", s["kept"], svg.KEPT)]
        colors = iter(svg.PALETTE[1:])
        for stage, counts in (s.get("rejected_by") or {}).items():
            series.append((f"rejected by {stage}", counts, next(colors, svg.THIRD)))
        if s.get("rejected") and not s.get("rejected_by"):
            series.append(
                (
                    f"rejected by {', '.join(s['rejected_stages'])} (re-scored sample)",
                    s["rejected"],
                    svg.REJECTED,
                )
            )
        labels = [f"{e:.2f}" for e in s["edges"]]
        marker = (s["threshold"], s["edges"], f"threshold {s['threshold']:g}") if s.get("threshold") is not None \
            else None
        parts.append(
            f"<h2>Score: {escape(col)}</h2>"
            + svg.histogram(labels, series, f"{col}: kept vs rejected", "score (bin start)", marker=marker)
        )
        if s.get("rescore_error"):
            parts.append(
                f'<p class="note">rejected documents not re-scored: {escape(s["rescore_error"])}</p>'
            )
    parts.append(_corpus_html(r["corpus"]))
    parts.append("<h2>Sources</h2>" + _kvr_html(r["sources"], "source"))
    parts.append(
        "<h2>Top domains</h2>"
        + (_kvr_html(r["domains"], "domain") if r["domains"] else "<p>No url or domain column.</p>")
    )
    parts.append(_dedup_html(r["dedup"]))
    parts.append(_throughput_html(r["throughput"]))
    parts.append(_samples_html(r["samples"]))
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>mdfs report</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body>{''.join(parts)}</body></html>"
    )


def _lengths_html(r: dict) -> str:
    lg = r["lengths"]
    labels = [length_label(i) for i in range(len(lg["edges"]))]
    series = [("kept", lg["kept"], svg.KEPT)]
    if sum(lg["rejected"]):
        series.append(("rejected", lg["rejected"], svg.REJECTED))
    rows = [[stage] + counts for stage, counts in lg["rejected_by_stage"].items()]
    return (
        "<h2>Document length</h2>"
        + svg.histogram(labels, series, "Length in characters: kept vs rejected", "characters")
        + _table(["rejected by"] + labels, rows)
    )


def _corpus_html(c: dict) -> str:
    out = [
        "<h2>Corpus</h2>",
        _table(
            ["", ""],
            [
                ["documents", c["documents"]],
                ["characters", c["characters"]],
                ["UTF-8 bytes", c["utf8_bytes"]],
                ["estimated tokens", c["estimated_tokens"]],
                ["mean length (chars)", c["mean_chars"]],
            ],
        ),
        f'<p class="note">tokens estimated as {escape(c["token_estimate"])}</p>',
        _table(list(c["length_percentiles"]), [list(c["length_percentiles"].values())]),
    ]
    total = max(1, c["characters"])
    out.append(
        svg.hbars(
            [(k, v, f"{100 * v / total:.1f}%") for k, v in c["scripts"].items()],
            "Characters by script",
            color="#7048e8",
        )
    )
    if c["languages"]:
        out.append(
            "<h2>Languages</h2>"
            + svg.hbars(
                [
                    (x["lang"], x["documents"], f"{x['documents']:,} docs · {x['characters']:,} chars")
                    for x in c["languages"]
                ],
                "Documents by language (collection's lang column)",
                color="#0c8599",
            )
        )
    else:
        out.append('<h2>Languages</h2><p class="note">The corpus has no lang column.</p>')
    return "".join(out)


def _kvr_html(rows: list[dict], what: str) -> str:
    chart = svg.hbars(
        [
            (x["name"], x["kept"] + x["rejected"], f"{x['kept']:,} kept · {x['rejected']:,} rejected")
            for x in rows
        ],
        f"Documents by {what} (kept + rejected)",
        color="#1971c2",
    )
    return chart + _table(
        [what, "kept", "rejected", "kept %"],
        [[x["name"], x["kept"], x["rejected"], x["kept_pct"]] for x in rows],
    )


def _dedup_html(d: dict) -> str:
    if not d:
        return '<h2>Deduplication</h2><p class="note">No cluster-size counters in the stats.</p>'
    out = ["<h2>Deduplication</h2>"]
    for stage, v in d.items():
        out.append(
            svg.hbars(
                [(f"size {k}", n, f"{n:,} clusters") for k, n in v["cluster_sizes"].items()],
                f"{stage}: clusters by size",
                color=svg.THIRD,
            )
        )
        out.append(f"<p>{_fmt(v.get('clusters'))} clusters, {_fmt(v.get('removed'))} documents removed.</p>")
    return "".join(out)


def _throughput_html(t: dict) -> str:
    rows = [x for x in t["stages"] if x["mb_per_s"]]
    return (
        "<h2>Throughput</h2>"
        + svg.hbars(
            [
                (x["stage"], x["mb_per_s"], f"{x['mb_per_s']:,} MB/s · {_fmt(x['docs_per_s'])} docs/s")
                for x in rows
            ],
            "MB/s per worker-second",
            color="#495057",
        )
        + _table(
            ["stage", "seconds", "docs in", "MB in", "docs/s", "MB/s"],
            [
                [x["stage"], x["seconds"], x["docs_in"], x["mb_in"], x["docs_per_s"], x["mb_per_s"]]
                for x in t["stages"]
            ],
        )
        + f'<p class="note">{escape(t["note"])}</p>'
    )


def _samples_html(samples: list[dict]) -> str:
    out = ["<h2>Rejected documents, a sample per reason</h2>"]
    for s in samples:
        docs = "".join(
            f'<p class="note">{escape(str(d["id"]))} · {escape(str(d.get("url") or d.get("source")))}'
            f"{' · ' + escape(d['detail']) if d.get('detail') else ''}</p><pre>{escape(d['text'] or '')}"
            f"</pre>"
            for d in s["documents"]
        )
        out.append(
            f"<details><summary>{escape(s['stage'])} · {escape(str(s['reason']))} "
            f"({len(s['documents'])} shown)</summary>{docs}</details>"
        )
    return "".join(out)


# -- Markdown ----------------------------------------------------------------------------------------
def _md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _bar(v: float, vmax: float, width: int = 30) -> str:
    return "█" * round(width * v / vmax) if vmax else ""


def to_markdown(r: dict, sample_chars: int = 160) -> str:
    run = r["run"]
    out = [
        f"# mdfs report: {run['root']}",
        "",
        f"config {run['config_hash']} · {_fmt(run['seconds'])} s · conservation "
        f"{'OK' if run['conservation_ok'] else 'FAILED'}",
        "",
        "## Funnel",
        "",
        _md_table(
            ["stage", "docs in", "kept", "rejected", "kept %", "chars in", "chars kept", "chars kept %"],
            [
                [f[k] for k in FUNNEL_KEYS]
                for f in r["funnel"]
            ],
        ),
        "",
        "## Drop reasons",
        "",
    ]
    out.append(
        _md_table(
            ["stage", "reason", "documents"],
            [[s, k, n] for s, rs in r["reasons"].items() for k, n in rs.items()],
        )
    )
    lg = r["lengths"]
    out += ["", "## Document length (share of documents)", ""]
    kt, rt = sum(lg["kept"]) or 1, sum(lg["rejected"]) or 1
    out.append(
        _md_table(
            ["characters", "kept %", "rejected %", ""],
            [
                [length_label(i), round(100 * k / kt, 1), round(100 * j / rt, 1), _bar(k / kt, 1)]
                for i, (k, j) in enumerate(zip(lg["kept"], lg["rejected"]))
            ],
        )
    )
    for col, s in r["scores"].items():
        out += ["", f"## Score: {col}", ""]
        if s.get("threshold") is not None:
            out += [f"Threshold: {s['threshold']:g}", ""]
        columns = [("kept %", s["kept"])]
        columns += [(f"rejected by {stage} %", c) for stage, c in (s.get("rejected_by") or {}).items()]
        if s.get("rejected") and not s.get("rejected_by"):
            columns.append((f"rejected % (sample of {s.get('rejected_sample', 0)})", s["rejected"]))
        totals = [sum(c) or 1 for _, c in columns]
        out.append(
            _md_table(
                ["bin", *(name for name, _ in columns)],
                [
                    [f"{e:.2f}", *(round(100 * c[i] / t, 1) for (_, c), t in zip(columns, totals))]
                    for i, e in enumerate(s["edges"])
                ],
            )
        )
    c = r["corpus"]
    out += [
        "",
        "## Corpus",
        "",
        f"{c['documents']:,} documents, {c['characters']:,} characters, "
        f"~{c['estimated_tokens']:,} tokens ({c['token_estimate']}); length percentiles: "
        + ", ".join(f"{k} {v:,}" for k, v in c["length_percentiles"].items()),
        "",
        _md_table(["script", "characters"], [[k, v] for k, v in c["scripts"].items()]),
    ]
    if c["languages"]:
        out += [
            "",
            "## Languages",
            "",
            _md_table(
                ["lang", "documents", "characters"],
                [[x["lang"], x["documents"], x["characters"]] for x in c["languages"]],
            ),
        ]
    for key in ("sources", "domains"):
        if r[key]:
            out += [
                "",
                f"## {key.title()}",
                "",
                _md_table(
                    [key[:-1], "kept", "rejected", "kept %"],
                    [[x["name"], x["kept"], x["rejected"], x["kept_pct"]] for x in r[key]],
                ),
            ]
    for stage, v in r["dedup"].items():
        out += [
            "",
            f"## Deduplication: {stage}",
            "",
            _md_table(["cluster size", "clusters"], [[k, n] for k, n in v["cluster_sizes"].items()]),
        ]
    out += [
        "",
        "## Throughput",
        "",
        _md_table(
            ["stage", "seconds", "docs/s", "MB/s"],
            [[x["stage"], x["seconds"], x["docs_per_s"], x["mb_per_s"]] for x in r["throughput"]["stages"]],
        ),
        "",
        r["throughput"]["note"],
        "",
        "## Rejected documents, a sample per reason",
        "",
    ]
    for s in r["samples"]:
        out.append(f"### {s['stage']} · {s['reason']}")
        out.append("")
        for d in s["documents"]:
            text = (d["text"] or "").replace("\n", " ")[:sample_chars]
            out.append(f"- `{d['id']}`: {text}")
        out.append("")
    return "\n".join(out) + "\n"
