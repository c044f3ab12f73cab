"""The quarterly review's charts on its page and in presentation mode: one per section of
`analytics.review.story` that has a chart; frame in, `Chart` out. The review's files draw the
same charts with Plotly (`review_files/figures.py`), which works without Streamlit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from analytics import kpis as kpi_module
from analytics.review import previous_quarter
from analytics.review.story import Section
from analytics.segments.rfm import SEGMENT_ORDER
from dashboard.charts import base
from dashboard.charts import kpis as kpi_charts
from dashboard.charts import segments as segment_charts
from dashboard.charts.base import Chart

BEFORE = "#bdc3c7"
NOW = "#0072b2"
WORSE = "#d55e00"
BETTER = "#009e73"
TABLE_CHARTS = ("scorecard", "at_risk")  # sections shown as a table, not a chart
LARGE_TEXT = 18  # a slide is read from across the room
LARGE_HEIGHT = 520


def drawn_as_chart(section: Section) -> bool:
    """Whether the section has a chart (the page's here, the files' in Plotly), not only
    text or a table."""
    return (
        section.chart is not None and section.chart not in TABLE_CHARTS and section.data is not None
    )


def chart(section: Section, quarter: str, *, large: bool = False) -> Chart | None:
    """The section's chart, or None when it has none (text and tables); `large` for a slide."""
    if not drawn_as_chart(section):
        return None
    assert section.chart is not None and section.data is not None
    draw: Callable[[pl.DataFrame, str], Chart] = {
        "kpi_trend": _kpi_trend,
        "groups": _groups,
        "themes": _themes,
        "tickets": _tickets,
        "migration": _migration,
        "pain_points": _pain_points,
    }[section.chart]
    drawn = draw(section.data, quarter)
    if not large:
        return drawn
    option = {**drawn.option, "textStyle": {"fontSize": LARGE_TEXT}}
    for name in ("xAxis", "yAxis"):
        axes = option.get(name)
        if isinstance(axes, dict):
            option[name] = _large_axis(axes)
        elif isinstance(axes, list):
            option[name] = [_large_axis(axis) for axis in axes]
    return Chart(option, max(LARGE_HEIGHT, drawn.height), drawn.drill)


def _large_axis(axis: dict[str, Any]) -> dict[str, Any]:
    return {
        **axis,
        "axisLabel": {**axis.get("axisLabel", {}), "fontSize": LARGE_TEXT - 2},
        "nameTextStyle": {**axis.get("nameTextStyle", {}), "fontSize": LARGE_TEXT - 2},
    }


def _kpi_trend(trend: pl.DataFrame, quarter: str) -> Chart:
    item = kpi_module.kpi(trend["kpi"][0])
    return kpi_charts.trend_figure(trend, item, grouped=False, selected=quarter)


def _groups(moved: pl.DataFrame, quarter: str) -> Chart:
    """NPS change from the quarter before of the groups that moved most, per dimension; a
    significant change in full colour, one within noise in grey."""
    nps = moved.filter(pl.col("kpi") == "nps").sort("delta")
    rows = list(nps.select("group", "dimension", "delta", "delta_significant").iter_rows())
    bars = []
    labels = []
    for group, dimension, delta, significant in rows:
        label = f"{group} ({dimension})"
        labels.append(label)
        colour = (WORSE if delta < 0 else BETTER) if significant else BEFORE
        bars.append(
            {
                "value": delta,
                "itemStyle": {"color": colour},
                "label": {"show": True, "position": "right" if delta >= 0 else "left",
                          "formatter": f"{delta:+.1f}"},
                "tooltip": base.tooltip(base.escaped(label), f"NPS {delta:+.1f} points"),
            }
        )  # fmt: skip
    option = base.option(
        xAxis=base.value_axis(
            f"NPS change in {quarter} (points; grey: within noise)",
            nameLocation="middle", nameGap=28, nameTextStyle={},
        ),
        yAxis=base.category_axis(labels),
        series=[{"type": "bar", "data": bars, "barMaxWidth": 28}],
    )  # fmt: skip
    option["grid"] = {**option["grid"], "left": 12, "right": 48, "top": 12, "bottom": 36}
    return Chart(option, max(360, 38 * nps.height + 100))


def _themes(themes: pl.DataFrame, quarter: str) -> Chart:
    rows = themes.filter(
        pl.col("share").is_not_null()
        & ((pl.col("share") > 0) | (pl.col("share_previous").fill_null(0) > 0))
    ).sort("share")
    return _before_and_now(
        rows["label"].to_list(), rows["share_previous"].to_list(), rows["share"].to_list(),
        quarter, colour=NOW, what=lambda v: f"{v:.1%} of comments", axis="Share of comments",
        percent=True, row_height=70,
    )  # fmt: skip


def _tickets(categories: pl.DataFrame, quarter: str) -> Chart:
    rows = categories.sort("share")
    return _before_and_now(
        rows["category"].to_list(), rows["share_previous"].to_list(), rows["share"].to_list(),
        quarter, colour=NOW, what=lambda v: f"{v:.1%} of tickets", axis="Share of tickets",
        percent=True, row_height=48,
    )  # fmt: skip


def _migration(table: pl.DataFrame, quarter: str) -> Chart:
    colours = base.segment_colours(list(SEGMENT_ORDER))  # as on the Segments page
    return segment_charts.migration_sankey(table, colours, previous_quarter(quarter), quarter)


def _pain_points(pains: pl.DataFrame, quarter: str) -> Chart:
    rows = pains.sort("change")
    places = [
        s + (f" › {t}" if t else "") for s, t in rows.select("stage", "touchpoint").iter_rows()
    ]
    return _before_and_now(
        places, rows["score_previous"].to_list(), rows["score"].to_list(), quarter,
        colour=WORSE, what=lambda v: f"pain score {v:.2f}",
        axis="Pain score (drop-off, dissatisfaction and tickets weighed)", percent=False,
        row_height=56,
    )  # fmt: skip


def _before_and_now(
    labels: list[str],
    before: list[float | None],
    now: list[float | None],
    quarter: str,
    *,
    colour: str,
    what: Callable[[float], str],
    axis: str,
    percent: bool,
    row_height: int,
) -> Chart:
    """Horizontal bars of each label's value in the quarter before (grey) and now; shares
    (`percent`) are drawn in percent."""
    scale = 100.0 if percent else 1.0

    def bars(values: list[float | None], when: str) -> list[dict[str, Any]]:
        return [
            {
                "value": None if v is None else v * scale,
                "tooltip": base.tooltip(base.escaped(label), "—" if v is None else what(v), when),
            }
            for label, v in zip(labels, values, strict=True)
        ]

    option = base.option(
        legend={**base.legend(), "top": None, "bottom": 0},
        xAxis=base.value_axis(
            axis, "percent" if percent else None,
            nameLocation="middle", nameGap=28, nameTextStyle={},
        ),
        yAxis=base.category_axis(labels),
        series=[
            {"type": "bar", "name": "Previous quarter", "data": bars(before, "Previous quarter"),
             "itemStyle": {"color": BEFORE}, "barMaxWidth": 28},
            {"type": "bar", "name": quarter, "data": bars(now, quarter),
             "itemStyle": {"color": colour}, "barMaxWidth": 28},
        ],
    )  # fmt: skip
    option["grid"] = {**option["grid"], "top": 12, "bottom": 64}
    return Chart(option, max(360, row_height * len(labels) + 100))
