"""The server-side charts' geometry: no database (pytest -m unit)."""

from __future__ import annotations

import math

import pytest

from app.web.charts import column_chart, hbar_chart


def test_horizontal_bars_scale_to_the_largest_and_shorten_long_labels():
    chart = hbar_chart(
        "By department", ["Sanitation", "x" * 40, "Streets"], [50, 25, float("nan")], urls=["/a", None, "/c"]
    )
    widest, half, none = chart.bars
    assert widest.width == pytest.approx(2 * half.width) and none.width == 0 and none.text == "0"
    assert len(half.label) == 34 and half.label.endswith("…")
    assert [bar.url for bar in chart.bars] == ["/a", None, "/c"]
    assert chart.kind == "hbar" and chart.height == 20 * 3 + 8


def test_an_empty_or_all_zero_chart_draws_without_dividing_by_zero():
    assert hbar_chart("Nothing", [], []).bars == []
    columns = column_chart("Nothing yet", ["Jan", "Feb"], [0, 0])
    assert all(bar.height == 0 for bar in columns.bars)


def test_columns_label_every_few_and_draw_a_line_through_their_tops():
    labels = [f"M{i}" for i in range(20)]
    chart = column_chart("By month", labels, [float(i) for i in range(20)], width=640, height=220)
    every = math.ceil(20 / 8)
    assert [bar.label for bar in chart.bars if bar.label] == labels[::every]
    assert len(chart.line.split()) == 20
    tallest = chart.bars[-1]
    assert tallest.y == pytest.approx(10) and tallest.height == pytest.approx(220 - 40 - 10)  # the top margin
    assert [text for _, text in chart.ticks] == ["0", "9.5", "19"]
    assert chart.bars[3].text == "3" and column_chart("t", ["a"], [2.25]).bars[0].text == "2.2"
