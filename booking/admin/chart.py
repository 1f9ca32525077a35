"""A stacked bar chart drawn on the server as SVG: no JavaScript, readable by screen readers.

The chart is a picture of the table next to it; each bar segment carries a <title> with its numbers
so hovering or a screen reader's exploration names it too.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from booking.domain.status import Status

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 36, 36, 12
ORDER = [Status.COMPLETED, Status.APPROVED, Status.PENDING, Status.NO_SHOW, Status.CANCELLED, Status.REJECTED]


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    status: str
    title: str


@dataclass(frozen=True)
class Bar:
    x: float
    label: str
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]
    baseline: float


def weekly_bars(weeks: list[tuple[date, Counter]]) -> Chart:
    peak = max([sum(c.values()) for _, c in weeks] + [1])
    scale = _nice(peak)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(weeks), 1)
    bars = []
    for index, (week, counts) in enumerate(weeks):
        x = LEFT + index * slot + slot * 0.15
        y = HEIGHT - BOTTOM
        segments = []
        for status in ORDER:
            count = counts.get(status.value, 0)
            if not count:
                continue
            height = plot_height * count / scale
            y -= height
            segments.append(Segment(x, y, slot * 0.7, height, status.value,
                                    f"Week of {week:%d %b}: {count} {status.label}"))
        bars.append(Bar(x, f"{week:%d %b}", sum(counts.values()), segments))
    ticks = [(HEIGHT - BOTTOM - plot_height * value / scale, value) for value in (0, scale // 2, scale)]
    return Chart(WIDTH, HEIGHT, bars, ticks, HEIGHT - BOTTOM)


def _nice(peak: int) -> int:
    """A round axis maximum at or above the peak: 10, 20, 50, 100, 200, ..."""
    step = 10
    while True:
        for factor in (1, 2, 5):
            if peak <= step * factor:
                return step * factor
        step *= 10
