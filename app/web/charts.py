"""Small server-side SVG charts: the geometry here, the markup in templates/_charts.html.

No script and no style attribute (the content security policy forbids both): colours
come from classes in app.css.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    width: float
    height: float
    url: str | None = None


@dataclass(frozen=True)
class Chart:
    """A chart ready to draw: its size, bars (or points of a line) and axis labels."""

    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    line: str = ""
    ticks: list[tuple[float, str]] = field(default_factory=list)
    kind: str = "hbar"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def hbar_chart(
    title: str, labels: list[str], values: list[float], urls: list[str | None] | None = None, width: int = 640
) -> Chart:
    """Horizontal bars, one per label (long labels are shortened to 34 characters)."""
    values = [0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]
    peak = max([1.0, *values])
    row, left, right = 20, 230, 60
    bars = []
    for i, (label, value) in enumerate(zip(labels, values)):
        short = label if len(label) <= 34 else label[:33] + "…"
        bars.append(
            Bar(
                short,
                value,
                _fmt(value),
                left,
                i * row + 4,
                (width - left - right) * value / peak,
                row - 6,
                urls[i] if urls else None,
            )
        )
    return Chart(title, width, max(row * len(bars) + 8, 28), bars, kind="hbar")


def column_chart(title: str, labels: list[str], values: list[float], width: int = 640, height: int = 220) -> Chart:
    """Vertical columns over time (labels under every few columns) with a line through their tops."""
    values = [0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]
    peak = max([1.0, *values])
    left, bottom, top = 50, 40, 10
    plot_h = height - bottom - top
    step = (width - left - 10) / max(len(values), 1)
    bars, points = [], []
    every = max(1, math.ceil(len(values) / 8))
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * value / peak
        x = left + i * step
        bars.append(
            Bar(label if i % every == 0 else "", value, _fmt(value), x + step * 0.1, top + plot_h - h, step * 0.8, h)
        )
        points.append(f"{x + step / 2:.1f},{top + plot_h - h:.1f}")
    ticks = [(top + plot_h - plot_h * f, _fmt(peak * f)) for f in (0, 0.5, 1)]
    return Chart(title, width, height, bars, " ".join(points), ticks, kind="columns")
