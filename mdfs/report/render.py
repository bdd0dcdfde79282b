"""Render a report dict (see `collect.build_report`) as one self-contained HTML page (Markdown:
markdown.py)."""

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
FUNNEL_KEYS = ("stage", "docs_in", "docs_out", "rejected", "kept_pct", "chars_in", "chars_out",
               "chars_kept_pct")


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def to_html(r: dict) -> str:
    domains = _kvr_html(r["domains"], "domain") if r["domains"] else "<p>No url or domain column.</p>"
    parts = [_head_html(r["run"]), _funnel_html(r["funnel"]), _reasons_html(r["reasons"]), _lengths_html(r),
             *(_score_html(col, s) for col, s in r["scores"].items()), _corpus_html(r["corpus"]),
             "<h2>Sources</h2>" + _kvr_html(r["sources"], "source"), "<h2>Top domains</h2>" + domains,
             _dedup_html(r["dedup"]), _throughput_html(r["throughput"]), _samples_html(r["samples"])]
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>mdfs report</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body>{''.join(parts)}</body></html>"
    )


def _head_html(run: dict) -> str:
    ok = '<span class="ok">OK</span>' if run["conservation_ok"] else '<span class="bad">FAILED</span>'
    return (
        f"<h1>mdfs report</h1><p>{escape(run['root'])} · config {escape(str(run['config_hash']))} · "
        f"{fmt(run['input_bytes'])} input bytes in {fmt(run['input_shards'])} shards · "
        f"{fmt(run['seconds'])} s · conservation {ok}</p>"
    )


def _funnel_html(funnel: list[dict]) -> str:
    docs = svg.hbars(
        [(f["stage"], f["docs_out"], f"{f['docs_out']:,} docs · {f['kept_pct']}% kept") for f in funnel],
        "Documents kept after each stage",
    )
    chars = svg.hbars(
        [(f["stage"], f["chars_out"], f"{f['chars_out']:,} chars · {f['chars_kept_pct']}%") for f in funnel],
        "Characters kept after each stage",
        color="#1971c2",
    )
    header = ["stage", "docs in", "kept", "rejected", "kept %", "chars in", "chars kept", "chars kept %",
              "docs kept of input %"]
    table = _table(header, [[f[k] for k in (*FUNNEL_KEYS, "docs_of_input_pct")] for f in funnel])
    return "<h2>Funnel</h2>" + docs + chars + table


def _reasons_html(by_stage: dict) -> str:
    reasons = [(f"{stage} · {reason}", n, f"{n:,}") for stage, rs in by_stage.items()
               for reason, n in rs.items()]
    if not reasons:
        return "<h2>Drop reasons</h2><p>No document was rejected.</p>"
    return "<h2>Drop reasons</h2>" + svg.hbars(reasons, "Rejected documents by stage and reason",
                                               color=svg.REJECTED)


def _score_html(col: str, s: dict) -> str:
    """One score column: kept and rejected histograms, the threshold marked."""
    series = [("kept", s["kept"], svg.KEPT)]
    colors = iter(svg.PALETTE[1:])
    for stage, counts in (s.get("rejected_by") or {}).items():
        series.append((f"rejected by {stage}", counts, next(colors, svg.THIRD)))
    if s.get("rejected") and not s.get("rejected_by"):
        series.append((f"rejected by {', '.join(s['rejected_stages'])} (re-scored sample)", s["rejected"],
                       svg.REJECTED))
    labels = [f"{e:.2f}" for e in s["edges"]]
    marker = (s["threshold"], s["edges"], f"threshold {s['threshold']:g}") if s.get("threshold") is not None \
        else None
    out = f"<h2>Score: {escape(col)}</h2>" + svg.histogram(labels, series, f"{col}: kept vs rejected",
                                                          "score (bin start)", marker=marker)
    if s.get("rescore_error"):
        out += f'<p class="note">rejected documents not re-scored: {escape(s["rescore_error"])}</p>'
    return out


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
        out.append(f"<p>{fmt(v.get('clusters'))} clusters, {fmt(v.get('removed'))} documents removed.</p>")
    return "".join(out)


def _throughput_html(t: dict) -> str:
    rows = [x for x in t["stages"] if x["mb_per_s"]]
    return (
        "<h2>Throughput</h2>"
        + svg.hbars(
            [
                (x["stage"], x["mb_per_s"], f"{x['mb_per_s']:,} MB/s · {fmt(x['docs_per_s'])} docs/s")
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
