"""Charts drawn on the server as SVG: readable at a glance, no script, allowed by the CSP.

Each chart carries a text alternative (role="img" with a title and description); the pages
also show the numbers as text or in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

GRADE_COLOURS = {"A": "#146c43", "B": "#2f7d32", "C": "#8a6d00", "D": "#b35900", "F": "#b02a37"}
NEUTRAL = "#6c757d"


def score_gauge(score: int | None, grade: str | None, *, size: int = 160) -> SafeString:
    """A ring filled in proportion to the score, with the score and grade in its middle."""
    radius, stroke = 60, 16
    circumference = 2 * math.pi * radius
    filled = circumference * (score or 0) / 100
    colour = GRADE_COLOURS.get(grade or "", NEUTRAL)
    label = f"Score {score} out of 100, grade {grade}" if score is not None else "No score yet"
    middle = str(score) if score is not None else "–"
    return format_html(
        '<svg class="score-gauge" width="{size}" height="{size}" viewBox="0 0 160 160" '
        'role="img" aria-labelledby="gauge-title"><title id="gauge-title">{label}</title>'
        '<circle cx="80" cy="80" r="{r}" fill="none" stroke="#dee2e6" stroke-width="{w}"/>'
        '<circle cx="80" cy="80" r="{r}" fill="none" stroke="{colour}" stroke-width="{w}" '
        'stroke-dasharray="{filled} {rest}" transform="rotate(-90 80 80)"/>'
        '<text x="80" y="82" text-anchor="middle" font-size="40" font-weight="700" '
        'fill="#212529">{middle}</text>'
        '<text x="80" y="112" text-anchor="middle" font-size="18" fill="#212529">{grade}</text>'
        "</svg>",
        size=size,
        label=label,
        r=radius,
        w=stroke,
        colour=colour,
        filled=f"{filled:.1f}",
        rest=f"{circumference - filled:.1f}",
        middle=middle,
        grade=f"Grade {grade}" if grade else "",
    )


def line_chart(
    points: Sequence[tuple[datetime, float]],
    *,
    title: str,
    description: str,
    width: int = 640,
    height: int = 200,
    y_max: float = 100,
) -> SafeString:
    """Values over time (scores 0..100): a line with a dot at each value."""
    left, right, top, bottom = 36, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    if not points:
        return format_html("<p>{}</p>", description)
    n = len(points)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h * (1 - value / y_max)

    coords = [xy(i, value) for i, (_, value) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#dee2e6"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#495057">{}</text>',
        (
            (left, width - right, f"{yy:.1f}", f"{yy:.1f}", left - 4, f"{yy + 4:.1f}", int(v))
            for v in (0, 25, 50, 75, 100)
            for yy in [top + plot_h * (1 - v / y_max)]
        ),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5" fill="#002a5c"/>',
        ((f"{x:.1f}", f"{y:.1f}") for x, y in coords),
    )
    ends = format_html(
        '<text x="{}" y="{}" font-size="11" fill="#495057">{}</text>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#495057">{}</text>',
        left,
        height - 8,
        f"{points[0][0]:%Y-%m-%d}",
        width - right,
        height - 8,
        f"{points[-1][0]:%Y-%m-%d}",
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}. {desc}">'
        "<title>{title}</title><desc>{desc}</desc>{grid}"
        '<path d="{path}" fill="none" stroke="#002a5c" stroke-width="2"/>{dots}{ends}</svg>',
        w=width,
        h=height,
        title=title,
        desc=description,
        grid=grid,
        path=path,
        dots=dots,
        ends=ends,
    )


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    width: int = 640,
    unit: str = "",
) -> SafeString:
    """Horizontal bars with their label and value written beside them."""
    row, label_w, top = 26, 220, 6
    height = top + row * max(len(bars), 1) + 6
    biggest = max((value for _, value in bars), default=0) or 1
    plot_w = width - label_w - 70
    rows = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#212529">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="#002a5c"/>'
        '<text x="{}" y="{}" font-size="12" fill="#212529">{}</text>',
        (
            (
                label_w - 6,
                top + i * row + 13,
                label,
                label_w,
                top + i * row + 1,
                f"{plot_w * value / biggest:.1f}",
                f"{label_w + plot_w * value / biggest + 6:.1f}",
                top + i * row + 13,
                f"{value:g}{unit}",
            )
            for i, (label, value) in enumerate(bars)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}. {desc}">'
        "<title>{title}</title><desc>{desc}</desc>{rows}</svg>",
        w=width,
        h=height,
        title=title,
        desc=description,
        rows=rows,
    )
