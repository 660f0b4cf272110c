"""The 90-day uptime and latency chart of an entry page, drawn server-side as inline SVG.

Server-side so the page needs no JavaScript (the CSP forbids inline script) and the chart is
in the HTML a crawler or a screen reader gets. Daily bars are as tall as the day's uptime
and coloured by band; a polyline shows the day's mean latency on its own scale. Colours live
in style.css (classes only: no inline style, which the CSP would also refuse). The SVG has a
<title> and a <desc> that summarises it in words, and each bar a <title> with its figures;
the page adds the same figures as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from eurodex.store.history import DayStat

WIDTH, HEIGHT = 900, 190
LEFT, RIGHT, TOP, BOTTOM = 48, 60, 12, 150  # the plot area inside the view box
BAR_GAP = 1.5


def uptime_band(uptime: float | None) -> str:
    """The CSS class of a day's bar."""
    if uptime is None:
        return "no-data"
    if uptime >= 99.5:
        return "up-high"
    if uptime >= 95:
        return "up-mid"
    return "up-low"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _bar_title(day: DayStat) -> str:
    if not day.checks:
        return f"{day.day.isoformat()}: no check"
    uptime = "no decisive check" if day.uptime is None else f"uptime {day.uptime:.1f} %"
    plural = "s" if day.checks != 1 else ""
    latency = ("" if day.mean_latency_ms is None
               else f", mean latency {round(day.mean_latency_ms)} ms")
    return f"{day.day.isoformat()}: {uptime} ({day.checks} check{plural}){latency}"


def describe(days: Sequence[DayStat]) -> str:
    """The chart in one or two sentences, for its <desc> and for people without it."""
    if not days:
        return "No day to show."
    measured = [d for d in days if d.uptime is not None]
    span = f"{days[0].day.isoformat()} to {days[-1].day.isoformat()}"
    if not measured:
        return f"No decisive check from {span}."
    decisive = sum(d.decisive for d in measured)
    successes = sum(d.successes for d in measured)
    worst = min(measured, key=lambda d: (d.uptime, d.day))
    text = (f"Daily uptime from {span}: {len(measured)} of {len(days)} days checked, "
            f"{100 * successes / decisive:.1f} % overall; lowest day {worst.day.isoformat()} "
            f"at {worst.uptime:.1f} %.")
    latencies = [d.mean_latency_ms for d in days if d.mean_latency_ms is not None]
    if latencies:
        text += (f" Mean daily latency between {round(min(latencies))} and "
                 f"{round(max(latencies))} ms.")
    return text


def uptime_chart(days: Sequence[DayStat], *, chart_id: str = "uptime-chart") -> str:
    """An accessible SVG of ``days`` (oldest first); every text in it is escaped."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, BOTTOM - TOP
    slot = plot_w / max(1, len(days))
    latencies = [d.mean_latency_ms for d in days if d.mean_latency_ms is not None]
    top_latency = max(latencies) if latencies else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="uptime-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">Uptime and latency, last {len(days)} days</title>',
        f'<desc id="{chart_id}-desc">{escape(describe(days))}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{BOTTOM}" x2="{WIDTH - RIGHT}" y2="{BOTTOM}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="label" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">100 %</text>',
        f'<text class="label" x="{LEFT - 6}" y="{BOTTOM}" text-anchor="end">0 %</text>',
    ]
    path: list[str] = []
    pen_down = False
    for i, day in enumerate(days):
        x = LEFT + i * slot
        band = uptime_band(day.uptime)
        # A day without a decisive check gets a low grey stub, so a gap reads as a gap.
        height = 3.0 if day.uptime is None else max(2.0, plot_h * day.uptime / 100)
        parts.append(
            f'<rect class="bar {band}" x="{_fmt(x + BAR_GAP / 2)}" '
            f'y="{_fmt(BOTTOM - height)}" width="{_fmt(max(1.0, slot - BAR_GAP))}" '
            f'height="{_fmt(height)}"><title>{escape(_bar_title(day))}</title></rect>'
        )
        if day.mean_latency_ms is None or not top_latency:
            pen_down = False
            continue
        px = x + slot / 2
        py = BOTTOM - plot_h * day.mean_latency_ms / top_latency
        path.append(f"{'L' if pen_down else 'M'}{_fmt(px)} {_fmt(py)}")
        pen_down = True
    if path:
        parts.append(f'<path class="latency-line" d="{" ".join(path)}"/>')
        parts.append(f'<text class="label latency-label" x="{WIDTH - RIGHT + 6}" '
                     f'y="{TOP + 4}">{round(top_latency)} ms</text>')
        parts.append(f'<text class="label latency-label" x="{WIDTH - RIGHT + 6}" '
                     f'y="{BOTTOM}">0 ms</text>')
    if days:
        for index, anchor in ((0, "start"), (len(days) - 1, "end")):
            x = LEFT if anchor == "start" else WIDTH - RIGHT
            parts.append(f'<text class="label" x="{x}" y="{BOTTOM + 18}" '
                         f'text-anchor="{anchor}">{days[index].day.isoformat()}</text>')
    parts.append("</svg>")
    return "".join(parts)
