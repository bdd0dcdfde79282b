"""Inline SVG charts for the HTML report: horizontal bars and grouped histograms.

Hand-written because the report must be one self-contained file with no network and no JavaScript, and
two chart kinds in ~100 lines are cheaper to keep than a plotting stack (matplotlib would add ~40 MB
of dependencies for SVG we then have to post-process). Every text is escaped; sizes are in CSS pixels.
"""

from __future__ import annotations

from html import escape

KEPT, REJECTED, THIRD = "#2f9e44", "#e03131", "#f08c00"
PALETTE = [KEPT, REJECTED, THIRD, "#1971c2", "#7048e8", "#0c8599", "#e8590c", "#5c940d", "#c2255c", "#495057"]
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _num(v: float) -> str:
    if v >= 1e9:
        return f"{v / 1e9:.1f}G"
    if v >= 1e6:
        return f"{v / 1e6:.1f}M"
    if v >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def hbars(
    rows: list[tuple[str, float, str]],
    title: str,
    color: str = KEPT,
    width: int = 720,
    label_width: int = 220,
) -> str:
    """One horizontal bar per row: (label, value, text shown after the bar)."""
    bar_h, gap, top = 20, 6, 28
    height = top + len(rows) * (bar_h + gap) + 8
    vmax = max((v for _, v, _ in rows), default=0) or 1
    span = width - label_width - 230
    out = [
        f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT}><title>{escape(title)}</title>',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value, note) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(1.0, span * value / vmax) if value else 0
        out.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end">{escape(_clip(label, 32))}</text>'
        )
        out.append(
            f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
        )
        out.append(f'<text x="{label_width + w + 6:.1f}" y="{y + 14}">{escape(note)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(
    labels: list[str],
    series: list[tuple[str, list[float], str]],
    title: str,
    x_title: str,
    width: int = 720,
    height: int = 260,
    marker: tuple[float, list[float], str] | None = None,
) -> str:
    """Grouped columns, one group per bin; each series is drawn as its share (%) of its own total, so
    a corpus of millions and a sample of thousands compare on one axis. `marker` = (value, bin starts,
    label) draws a vertical line at `value` (a stage's threshold)."""
    left, right, top, bottom = 44, 10, 44, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    shares = []
    for name, values, color in series:
        total = sum(values) or 1
        shares.append((name, [100.0 * v / total for v in values], color, sum(values)))
    vmax = max((s for _, vals, _, _ in shares for s in vals), default=0) or 1
    group = plot_w / max(1, len(labels))
    bar = max(1.0, (group - 4) / max(1, len(series)))
    out = [
        f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT}><title>{escape(title)}</title>',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for j, (name, _, color, n) in enumerate(shares):  # legend
        x = left + j * 200
        out.append(
            f'<rect x="{x}" y="24" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="33">{escape(name)} (n={n:,.0f})</text>'
        )
    for frac in (0, 0.5, 1):  # y axis
        y = top + plot_h * (1 - frac)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{vmax * frac:.0f}%</text>'
        )
    out += _columns(labels, shares, (left, top, plot_h), group, bar, vmax)
    if marker is not None:
        x = left + group * _bin_position(marker[0], marker[1])
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{top + plot_h}" stroke="#212529" '
            f'stroke-dasharray="4 3"/><text x="{x + 4:.1f}" y="{top + 8}">{escape(marker[2])}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle">{escape(x_title)}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _bin_position(value: float, starts: list[float]) -> float:
    """Where `value` falls on the axis, in bins (bin i spans starts[i] to the next start)."""
    i = max(0, sum(1 for s in starts if s <= value) - 1)
    width = (starts[i + 1] if i + 1 < len(starts) else 2 * starts[i] - starts[i - 1]) - starts[i]
    return i + min(1.0, (value - starts[i]) / width if width else 0.0)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _columns(labels: list[str], shares: list[tuple], frame: tuple[int, int, int], group: float, bar: float,
             vmax: float) -> list[str]:
    """The histogram's columns, one group per bin, and the bin labels (every other one past 12 bins)."""
    left, top, plot_h = frame
    out = []
    for i, label in enumerate(labels):
        gx = left + i * group + 2
        for j, (name, vals, color, _) in enumerate(shares):
            h = plot_h * vals[i] / vmax
            out.append(
                f'<rect x="{gx + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(name)} {escape(label)}: '
                f"{vals[i]:.1f}%</title></rect>"
            )
        if len(labels) <= 12 or i % 2 == 0:
            out.append(
                f'<text x="{gx + group / 2 - 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    return out
