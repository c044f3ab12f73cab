"""KPI charts: pure functions, frame in, `Chart` out (no Streamlit here).

Every clickable mark's payload is [period label, group] as text, so a selection tells the page
exactly which period and group was clicked (`selection.picked`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from analytics.kpis import Kpi
from dashboard import format as fmt
from dashboard.charts import base
from dashboard.charts.base import LINE_COLOUR, MUTED, SELECTED_COLOUR, TEXT_COLOUR, Chart

BAND_COLOUR = "rgba(0, 114, 178, 0.15)"
CANVAS_MARKS = 1000  # markers above which a trend is drawn on a canvas


def trend_figure(
    table: pl.DataFrame, item: Kpi, *, grouped: bool, selected: str | None = None
) -> Chart:
    """The KPI over time: one line per group, or one line with its 95 % interval as a band.

    A hollow marker is a period only partly inside the date range; a larger marker is a
    change from the previous period that is statistically significant. The selected period
    is shaded.
    """
    periods = table["period"].unique(maintain_order=True).to_list()
    groups = table["group"].unique(maintain_order=True).to_list() if grouped else [None]
    series: list[dict[str, Any]] = []
    drill: dict[int | tuple[int, str], list[list[str] | None]] = {}
    band = not grouped and item.has_interval
    if band:
        low = table["ci_low"].to_list()
        high = table["ci_high"].to_list()
        width = [None if a is None or b is None else b - a for a, b in zip(low, high, strict=True)]
        quiet = {"type": "line", "stack": "interval", "symbol": "none", "silent": True,
                 "lineStyle": {"opacity": 0}, "tooltip": {"show": False}}  # fmt: skip
        series.append({**quiet, "name": "interval low", "data": low})
        series.append({**quiet, "name": "95% interval", "data": width,
                       "areaStyle": {"color": BAND_COLOUR},
                       "itemStyle": {"color": BAND_COLOUR}})  # fmt: skip
    for group in groups:
        rows = table.filter(pl.col("group") == group) if grouped else table
        by_period = {row["period"]: row for row in rows.iter_rows(named=True)}
        points: list[Any] = []
        payloads: list[list[str] | None] = []
        for period in periods:
            row = by_period.get(period)
            if row is None:
                points.append(None)
                payloads.append(None)
                continue
            points.append(
                {
                    "value": row["value"],
                    "symbol": "emptyCircle" if row["partial"] else "circle",
                    "symbolSize": 11 if row["delta_significant"] else 7,
                    "tooltip": base.tooltip(*hover_lines(row, item)),
                }
            )
            payloads.append([str(period), group or ""])
        line: dict[str, Any] = {
            "type": "line",
            "name": group if grouped else item.label,
            "data": points,
            "selectedMode": "single",
            "connectNulls": False,
        }
        if not grouped:
            line["itemStyle"] = {"color": LINE_COLOUR}
            line["lineStyle"] = {"color": LINE_COLOUR}
        drill[len(series)] = payloads
        series.append(line)
    names = ([item.label, "95% interval"] if band else []) if not grouped else groups
    drawn = ["value"] if grouped or not item.has_interval else ["value", "ci_low", "ci_high"]
    y_axis: Any = _value_axis(item, table.select(drawn))
    if selected in periods:  # the selected period's column, lightly shaded, behind the lines
        series.append(
            {
                "type": "bar",
                "yAxisIndex": 1,
                "data": [1 if p == selected else None for p in periods],
                "barWidth": "100%",
                "silent": True,
                "z": 0,
                "itemStyle": {"color": SELECTED_COLOUR, "opacity": 0.08},
                "tooltip": {"show": False},
            }
        )
        y_axis = [y_axis, {"type": "value", "min": 0, "max": 1, "show": False}]
    option = base.option(
        legend={
            **base.legend(bool(names)),
            "data": [
                {"name": str(n), "icon": "rect"} if n == "95% interval" else str(n) for n in names
            ],
        },
        xAxis=base.category_axis([str(p) for p in periods]),
        yAxis=y_axis,
        series=series,
    )
    # A day grain over years is thousands of markers: quicker on a canvas than as SVG.
    return Chart(option, drill=drill, canvas=len(periods) * len(groups) > CANVAS_MARKS)


BARS_FLAT = 6  # more bars than this: their labels slant


def breakdown_figure(
    table: pl.DataFrame, item: Kpi, dimension_label: str, *, selected: str | None = None
) -> Chart:
    """One bar per group for one period, with the 95 % interval as an error bar; the
    selected group's bar stands out. A hidden value has no bar but the word "hidden"."""
    ordered = table.sort("value", descending=True, nulls_last=True)
    rows = list(ordered.iter_rows(named=True))
    labels = [str(row["group"]) for row in rows]
    bars = []
    for row in rows:
        colour = (
            SELECTED_COLOUR
            if row["group"] == selected
            else (LINE_COLOUR if selected is None else MUTED)
        )
        bars.append(
            {
                "value": row["value"],
                "itemStyle": {"color": colour},
                "tooltip": base.tooltip(*hover_lines(row, item)),
            }
        )
    marks: dict[str, Any] = {}
    if item.has_interval:
        marks["markLine"] = {
            "silent": True,
            "symbol": "none",
            "label": {"show": False},
            "lineStyle": {"color": TEXT_COLOUR, "width": 1.5, "type": "solid"},
            "data": [
                [{"coord": [label, row["ci_low"]]}, {"coord": [label, row["ci_high"]]}]
                for label, row in zip(labels, rows, strict=True)
                if row["ci_low"] is not None and row["ci_high"] is not None
            ],
        }
    hidden = [(label, row["hidden"]) for label, row in zip(labels, rows, strict=True)]
    if any(reason for _, reason in hidden):
        marks["markPoint"] = {
            "symbol": "rect",
            "symbolSize": 1,
            "label": {"show": True, "position": "top", "color": TEXT_COLOUR},
            "data": [
                {
                    "coord": [label, 0],
                    "value": "hidden",
                    "tooltip": {"formatter": base.escaped(str(reason).capitalize())},
                }
                for label, reason in hidden
                if reason
            ],
        }
    # Every bar keeps its label (ECharts would drop every other one when they crowd):
    # slanted when there are many, with room below for them and the axis title.
    many = len(labels) > BARS_FLAT
    label = {"interval": 0, "rotate": 30 if many else 0}
    axis = base.category_axis(labels, dimension_label, axisLabel=label)
    if many:
        axis["nameGap"] = 96
    option = base.option(
        xAxis=axis,
        yAxis=_value_axis(item, table.select("value", "ci_low", "ci_high"), bars=True),
        series=[
            {
                "type": "bar",
                "name": item.label,
                "data": bars,
                "selectedMode": "single",
                "barMaxWidth": 64,
                **marks,
            }
        ],
    )
    option["grid"] = {**option["grid"], "bottom": 112 if many else 36}
    payloads: list[list[str] | None] = [[str(row["period"]), str(row["group"])] for row in rows]
    return Chart(option, drill={0: payloads})


def _value_axis(item: Kpi, drawn: pl.DataFrame, *, bars: bool = False) -> dict[str, Any]:
    """The KPI's axis; `drawn` holds the numbers on the chart (one column each). Bars and
    totals start at zero, so that bar heights and slopes are not exaggerated; with no number
    to show (all hidden or missing), the axis has no scale."""
    shown = drawn.select(pl.concat_list(pl.all()).explode().drop_nulls())
    axis = base.value_axis(item.label, item.unit, scale=not bars and item.estimator != "total")
    if not shown.height:
        axis |= {"min": 0, "max": 1, "axisLabel": {"show": False}}
    return axis


def hover_lines(row: dict[str, Any], item: Kpi) -> list[str]:
    """Tooltip lines, the title first; values from the data are escaped (the review's files
    show the same in Plotly's hover)."""
    title = base.escaped(row["period"])
    if row.get("group"):
        title += f" · {base.escaped(row['group'])}"
    if row.get("hidden"):
        return [title, f"{item.label}: hidden, {base.escaped(row['hidden'])}"]
    lines = [title, f"{item.label}: {fmt.kpi_value(row['value'], item.unit)}"]
    if item.has_interval and row["value"] is not None:
        interval = fmt.interval(row["ci_low"], row["ci_high"], item.unit)
        lines.append(f"95% CI {interval} · n = {fmt.count(row['n'])}")
    if row.get("partial"):
        lines.append("Partial period (cut by the date range)")
    return lines
