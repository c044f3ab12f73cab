"""KPI figures: pure functions, frame in, `go.Figure` out (no Streamlit here).

Every clickable mark carries `customdata` = [period label, group] as text, so a selection
tells the page exactly which period and group was clicked (see `selection.clicked`).
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
import polars as pl

from analytics.kpis import Kpi
from dashboard import format as fmt

BAND_COLOUR = "rgba(0, 114, 178, 0.15)"
LINE_COLOUR = "#0072b2"
SELECTED_COLOUR = "#d55e00"  # Okabe-Ito vermillion: the reader's current choice
MUTED = "#9ab8d3"
_TICK_FORMAT = {"currency": "$,.0f", "count": ",.0f", "percent": ".0f", "score": ".0f"}


def trend_figure(
    table: pl.DataFrame, item: Kpi, *, grouped: bool, selected: str | None = None
) -> go.Figure:
    """The KPI over time: one line per group, or one line with its 95 % interval as a band.

    A hollow marker is a period only partly inside the date range; a ring marks a change
    from the previous period that is statistically significant.
    """
    figure = go.Figure()
    groups = table["group"].unique(maintain_order=True).to_list() if grouped else [None]
    for group in groups:
        series = table.filter(pl.col("group") == group) if grouped else table
        x = series["period"].to_list()
        if not grouped and item.has_interval:
            figure.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=series["ci_high"].to_list() + series["ci_low"].to_list()[::-1],
                    fill="toself",
                    mode="lines",
                    fillcolor=BAND_COLOUR,
                    line={"width": 0},
                    hoverinfo="skip",
                    name="95% interval",
                )
            )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=series["value"].to_list(),
                mode="lines+markers",
                name=group if grouped else item.label,
                line={"color": LINE_COLOUR} if not grouped else None,
                marker={
                    "size": [11 if s else 7 for s in series["delta_significant"].to_list()],
                    "symbol": [
                        "circle-open" if partial else "circle"
                        for partial in series["partial"].to_list()
                    ],
                    "line": {"width": 2},
                },
                customdata=[[p, group or ""] for p in series["period"].to_list()],
                hovertext=[_hover(row, item) for row in series.iter_rows(named=True)],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    drawn = ["value"] if grouped or not item.has_interval else ["value", "ci_low", "ci_high"]
    _axes(figure, item, table.select(drawn))
    periods = table["period"].unique(maintain_order=True).to_list()
    if selected in periods:
        index = periods.index(selected)
        figure.add_vrect(
            x0=index - 0.5, x1=index + 0.5, fillcolor=SELECTED_COLOUR, opacity=0.12, line_width=0
        )
    figure.update_layout(showlegend=grouped or item.has_interval, hovermode="closest")
    return figure


def breakdown_figure(
    table: pl.DataFrame, item: Kpi, dimension_label: str, *, selected: str | None = None
) -> go.Figure:
    """One bar per group for one period, with the 95 % interval as an error bar; the
    selected group's bar stands out."""
    ordered = table.sort("value", descending=True, nulls_last=True)
    values = ordered["value"].to_list()
    error: dict[str, object] | None = None
    if item.has_interval:
        error = {
            "type": "data",
            "symmetric": False,
            "array": [
                (hi - v) if hi is not None and v is not None else 0
                for hi, v in zip(ordered["ci_high"].to_list(), values, strict=True)
            ],
            "arrayminus": [
                (v - lo) if lo is not None and v is not None else 0
                for lo, v in zip(ordered["ci_low"].to_list(), values, strict=True)
            ],
            "color": "#56606b",
        }
    figure = go.Figure(
        go.Bar(
            x=ordered["group"].to_list(),
            y=values,
            error_y=error,
            marker={
                "color": [
                    SELECTED_COLOUR
                    if g == selected
                    else (LINE_COLOUR if selected is None else MUTED)
                    for g in ordered["group"].to_list()
                ]
            },
            customdata=[[p, g] for p, g in ordered.select("period", "group").iter_rows()],
            hovertext=[_hover(row, item) for row in ordered.iter_rows(named=True)],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    for row in ordered.filter(pl.col("hidden").is_not_null()).iter_rows(named=True):
        figure.add_annotation(
            x=row["group"],
            y=0,
            text="hidden",
            showarrow=False,
            yanchor="bottom",
            font={"color": "#56606b"},
            hovertext=html.escape(str(row["hidden"]).capitalize()),
        )
    _axes(figure, item, table.select("value", "ci_low", "ci_high"))
    figure.update_layout(xaxis_title=dimension_label, showlegend=False)
    return figure


def _axes(figure: go.Figure, item: Kpi, drawn: pl.DataFrame) -> None:
    """Axes for the KPI; `drawn` holds the numbers on the chart (one column each)."""
    suffix = "%" if item.unit == "percent" else (" h" if item.unit == "hours" else "")
    shown = drawn.select(pl.concat_list(pl.all()).explode().drop_nulls())
    span = float(shown.max().item() - shown.min().item()) if shown.height else 0.0
    tick_format = _TICK_FORMAT.get(item.unit, ".1f")
    if span < 5 and item.unit != "count":  # whole-number ticks would repeat
        tick_format = tick_format.replace(".0f", ".1f")
    if not shown.height:  # every value hidden or missing: no scale to read
        figure.update_yaxes(showticklabels=False, range=[0, 1])
    figure.update_yaxes(
        title=item.label,
        tickformat=tick_format,
        ticksuffix=suffix,
        # Totals start at zero so that bar heights and slopes are not exaggerated.
        rangemode="tozero" if item.estimator == "total" else "normal",
    )
    figure.update_xaxes(type="category")
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=380)


def _hover(row: dict[str, Any], item: Kpi) -> str:
    """Hover text; values from the data are escaped (Plotly renders a subset of HTML)."""
    title = f"<b>{html.escape(str(row['period']))}</b>"
    if row.get("group"):
        title += f" · {html.escape(str(row['group']))}"
    if row.get("hidden"):
        return "<br>".join([title, f"{item.label}: hidden, {html.escape(row['hidden'])}"])
    lines = [title, f"{item.label}: {fmt.kpi_value(row['value'], item.unit)}"]
    if item.has_interval and row["value"] is not None:
        interval = fmt.interval(row["ci_low"], row["ci_high"], item.unit)
        lines.append(f"95% CI {interval} · n = {fmt.count(row['n'])}")
    if row.get("partial"):
        lines.append("Partial period (cut by the date range)")
    return "<br>".join(lines)
