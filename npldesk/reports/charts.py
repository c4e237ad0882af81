"""Small SVG charts for printed reports: a trend line and a waterfall, no browser needed.

WeasyPrint draws SVG itself, so a chart is a string of SVG built from exact figures (scaled to
floats only for drawing). Labels are passed in already said in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 28, 40
INK, GRID, UP, DOWN, TOTAL = "#333333", "#dddddd", "#c0392b", "#2e8b57", "#34607f"


def _frame(body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-size="10" font-family="Noto Sans CJK SC, '
        f'sans-serif">{body}</svg>'
    )


def _nice_top(value: float) -> float:
    """A round number at or above ``value`` for the top of the axis."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    top = step
    while top < value:
        top += step
    return float(top)


def _axis(top: float, unit: str) -> str:
    plot = HEIGHT - TOP - BOTTOM
    parts = []
    for index in range(5):
        value = top * index / 4
        y = TOP + plot - plot * index / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{y + 3:.1f}" text-anchor="end" fill="{INK}">'
            f"{value:,.0f}</text>"
        )
    parts.append(f'<text x="4" y="12" fill="{INK}">{escape(unit)}</text>')
    return "".join(parts)


def trend_chart(labels: Sequence[str], values: Sequence[Decimal], unit: str) -> str:
    """A line of ``values`` (one per label, e.g. month-end NPL balance) on a zero-based axis."""
    if not values:
        return _frame("")
    numbers = [float(v) for v in values]
    top = _nice_top(max(numbers))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(numbers) - 1, 1)
    points = [(LEFT + step * i, TOP + plot_h - plot_h * (n / top)) for i, n in enumerate(numbers)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{TOTAL}"/>' for x, y in points)
    # About a dozen month labels, the last always, none crowding it.
    every = max(1, len(labels) // 12)
    last = len(labels) - 1
    shown = [i for i in range(0, last, every) if last - i >= every] + [last]
    ticks = "".join(
        f'<text x="{LEFT + step * i:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
        f'fill="{INK}">{escape(labels[i])}</text>'
        for i in shown
    )
    body = (
        _axis(top, unit)
        + f'<polyline points="{line}" fill="none" stroke="{TOTAL}" stroke-width="2"/>'
        + dots
        + ticks
    )
    return _frame(body)


def waterfall_chart(steps: Sequence[tuple[str, Decimal, str]], unit: str) -> str:
    """A waterfall: ``(label, amount, kind)`` with kind ``total`` (a bar from zero), ``up`` or
    ``down`` (a bar floating from the running level)."""
    if not steps:
        return _frame("")
    level = 0.0
    bars: list[tuple[str, float, float, str]] = []
    for label, amount, kind in steps:
        value = float(amount)
        if kind == "total":
            bars.append((label, 0.0, value, TOTAL))
            level = value
        elif kind == "up":
            bars.append((label, level, level + value, UP))
            level += value
        else:
            bars.append((label, level - value, level, DOWN))
            level -= value
    top = _nice_top(max(max(b[1], b[2]) for b in bars))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    parts = [_axis(top, unit)]
    for index, (label, low, high, colour) in enumerate(bars):
        x = LEFT + slot * index + slot * 0.15
        y_high = TOP + plot_h - plot_h * (max(low, high) / top)
        y_low = TOP + plot_h - plot_h * (min(low, high) / top)
        height = max(y_low - y_high, 0.8)
        centre = LEFT + slot * index + slot / 2
        # A long label on two lines (English words; a Chinese label is short enough).
        words = label.split(" ")
        half = (len(words) + 1) // 2
        rows = [label] if len(label) <= 12 else [" ".join(words[:half]), " ".join(words[half:])]
        text = "".join(
            f'<tspan x="{centre:.1f}" dy="{0 if i == 0 else 11}">{escape(row)}</tspan>'
            for i, row in enumerate(r for r in rows if r)
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{y_high:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height:.1f}" fill="{colour}"/>'
            f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
            f'fill="{INK}">{text}</text>'
        )
    return _frame("".join(parts))
