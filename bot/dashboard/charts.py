"""Bar charts drawn on the server as SVG: the geometry here, the drawing in templates/console/chart.html.

No script and no library: a chart is rectangles and text the template writes
into the page, styled by the console's stylesheet (the page's Content Security
Policy allows no inline style). Each chart is an image for screen readers (its
title says what it shows); the table beside it has the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

WIDTH = 640  # the viewBox's width; the SVG scales to the page
ROW = 28  # a horizontal bar's row
LABEL_WIDTH = 230  # room for a horizontal bar's label
VALUE_ROOM = 90  # room after the longest bar for its value
LABEL_CHARS = 24  # a longer label is cut (the table has it whole)
COLUMN_AREA = 200  # a column chart's plot height
AXIS_ROOM = 28  # under the plot, for the days
TOP_ROOM = 20  # over the plot, for the values
MAX_DAY_LABELS = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what the bar is (drawn beside or under it, or not at all when there are many)
    value: str  # its value as text
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    labelled: bool = True


@dataclass(frozen=True)
class Chart:
    """One chart, ready to draw: `kind` is "bars" (horizontal, one row each) or "columns" (one per day)."""

    kind: str
    title: str  # the image's name for screen readers
    width: float
    height: float
    bars: Tuple[Bar, ...]
    baseline: float  # a column chart's axis (y), a bar chart's (x)


def cut(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "\u2026"


def bars(title: str, items: Sequence[Tuple[str, float, str]]) -> Chart:
    """Horizontal bars, one per (label, value, value as text), the longest for the largest value."""
    top = max((value for _, value, _ in items), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    drawn: List[Bar] = []
    for index, (label, value, text) in enumerate(items):
        y = index * ROW + 4
        length = room * value / top
        drawn.append(
            Bar(
                x=LABEL_WIDTH,
                y=y,
                width=round(length, 2),
                height=ROW - 8,
                label=cut(label),
                value=text,
                label_x=LABEL_WIDTH - 8,
                label_y=y + ROW / 2,
                value_x=round(LABEL_WIDTH + length + 6, 2),
                value_y=y + ROW / 2,
            )
        )
    return Chart("bars", title, WIDTH, max(1, len(items)) * ROW, tuple(drawn), LABEL_WIDTH)


def columns(title: str, items: Sequence[Tuple[str, float, str]]) -> Chart:
    """Vertical columns in order (days), at most MAX_DAY_LABELS of them labelled under the axis."""
    top = max((value for _, value, _ in items), default=0) or 1
    count = max(1, len(items))
    slot = WIDTH / count
    gap = min(slot * 0.2, 8)
    every = math.ceil(count / MAX_DAY_LABELS)
    baseline = TOP_ROOM + COLUMN_AREA
    drawn: List[Bar] = []
    for index, (label, value, text) in enumerate(items):
        height = COLUMN_AREA * value / top
        x = index * slot + gap / 2
        drawn.append(
            Bar(
                x=round(x, 2),
                y=round(baseline - height, 2),
                width=round(slot - gap, 2),
                height=round(height, 2),
                label=label,
                value=text if count <= 31 else "",
                label_x=round(x + (slot - gap) / 2, 2),
                label_y=baseline + 18,
                value_x=round(x + (slot - gap) / 2, 2),
                value_y=round(baseline - height - 5, 2),
                labelled=index % every == 0,
            )
        )
    return Chart("columns", title, WIDTH, baseline + AXIS_ROOM, tuple(drawn), baseline)
