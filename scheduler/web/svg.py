"""Server-side SVG charts: grouped bars and day columns, with a title, labels and no script.

Rule: pure functions from numbers to markup; every text is escaped; presentation attributes
only (no inline style), so the Content Security Policy needs no exception. The page shows
the same numbers in a table beside each chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 720
HEIGHT = 260
LEFT = 56
BOTTOM = 40
TOP = 16


@dataclass(frozen=True)
class Series:
    """One named series of a grouped bar chart."""

    name: str
    values: Sequence[float]
    colour: str


def _scale_max(values: Sequence[float]) -> float:
    """A round top for the axis at or above the largest value."""
    top = max([*values, 1.0])
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 5:
            return float(step * 5)
    return float(top)


def _axis(top: float, plot_h: float) -> list[str]:
    parts = []
    for i in range(6):
        value = top * i / 5
        y = TOP + plot_h - plot_h * i / 5
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" stroke="#d0d0d0"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    return parts


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], unit: str, chart_id: str
) -> Markup:
    """Grouped vertical bars, one group per label, one bar per series, with a legend."""
    plot_h = HEIGHT - TOP - BOTTOM - 24
    plot_w = WIDTH - LEFT - 8
    top = _scale_max([v for s in series for v in s.values])
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)} ({escape(unit)})</title>',
        *_axis(top, plot_h),
    ]
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + group_w * 0.1
        for s_index, s in enumerate(series):
            value = s.values[g]
            h = plot_h * value / top
            x = x0 + s_index * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{s.colour}"><title>{escape(s.name)}, '
                f"{escape(label)}: {value:g} {escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{TOP + plot_h + 16:.1f}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    legend_y = HEIGHT - 10
    for s_index, s in enumerate(series):
        x = LEFT + s_index * 190
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{x + 18}" y="{legend_y}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(
    title: str, labels: Sequence[str], values: Sequence[int], colour: str, chart_id: str
) -> Markup:
    """One column per label (working days), the value written above each column."""
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - 8
    top = _scale_max(values)
    col_w = plot_w / max(1, len(labels))
    step = max(1, math.ceil(len(labels) / 10))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        *_axis(top, plot_h),
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        x = LEFT + i * col_w + col_w * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{col_w * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
        )
        if i % step == 0:
            parts.append(
                f'<text x="{x + col_w * 0.35:.1f}" y="{TOP + plot_h + 16:.1f}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
