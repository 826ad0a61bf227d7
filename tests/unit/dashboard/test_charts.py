"""The SVG charts' geometry: bars in proportion to their values, inside the drawing, labelled."""

from __future__ import annotations

from bot.dashboard import charts


def test_horizontal_bars_are_in_proportion_and_the_largest_fills_the_room() -> None:
    chart = charts.bars("Conversations by channel", [("SMS", 4, "4"), ("Web chat", 2, "2"), ("Telegram", 0, "0")])
    widths = [bar.width for bar in chart.bars]
    room = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM
    assert widths == [room, room / 2, 0]
    assert all(bar.value_x + 40 <= chart.width for bar in chart.bars)
    assert chart.height == 3 * charts.ROW and [bar.label for bar in chart.bars] == ["SMS", "Web chat", "Telegram"]
    assert charts.bars("Empty", []).bars == ()


def test_a_long_label_is_cut_the_table_has_it_whole() -> None:
    (bar,) = charts.bars("Questions", [("Cooling and warming centers near me", 1, "1")]).bars
    assert bar.label.endswith("\u2026") and len(bar.label) == charts.LABEL_CHARS


def test_columns_stand_on_the_axis_and_many_days_get_few_labels() -> None:
    week = charts.columns("By day", [(f"Mar {d}", d % 3, str(d % 3)) for d in range(1, 8)])
    assert all(round(bar.y + bar.height, 2) == week.baseline for bar in week.bars)
    assert max(bar.height for bar in week.bars) == charts.COLUMN_AREA and all(bar.labelled for bar in week.bars)
    year = charts.columns("By day", [(str(d), 1, "1") for d in range(366)])
    assert sum(bar.labelled for bar in year.bars) <= charts.MAX_DAY_LABELS
    assert all(bar.value == "" for bar in year.bars)  # too many to write each value
    assert year.bars[-1].x + year.bars[-1].width <= charts.WIDTH
