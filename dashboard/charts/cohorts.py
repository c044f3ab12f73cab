"""Cohort heat maps: pure functions, frame in, `go.Figure` out."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard import format as fmt

HIDDEN_GREY = "#d9dde3"
_MEASURE_TEXT = {
    "customers": "Active customers, % of the cohort",
    "revenue": "Revenue, % of the cohort's first period",
}


def cohort_heatmap(
    table: pl.DataFrame, measure: str, grain: str, *, compact: bool = False
) -> go.Figure:
    """Cohorts down, periods since the first order across; each cell's colour and text is the
    measure's value in percent, its hover the counts behind it. A cell carries
    `customdata` = [cohort start (ISO), period index] for drill-down. Colours span 0 to the
    largest value after period 0, so the first column simply shows as the darkest.
    `compact` (maps side by side) drops the colour bar and the titles, which the page states
    once instead."""
    cohorts = table.select("cohort", "cohort_start", "size").unique().sort("cohort_start")
    indices = sorted(table["period_index"].unique().to_list())
    lookup = {(r["cohort_start"], r["period_index"]): r for r in table.iter_rows(named=True)}
    z, text, hover, custom = [], [], [], []
    for cohort in cohorts.iter_rows(named=True):
        z_row, text_row, hover_row, custom_row = [], [], [], []
        for k in indices:
            cell = lookup.get((cohort["cohort_start"], k))
            value = None if cell is None else cell["value"]
            z_row.append(value)
            text_row.append("" if value is None else f"{value:.0f}")
            hover_row.append(_hover(cohort, k, cell, grain))
            custom_row.append([cohort["cohort_start"].isoformat(), str(k)])
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
        custom.append(custom_row)
    labels = [f"{c['cohort']} ({_size(c['size'])})" for c in cohorts.iter_rows(named=True)]
    hidden = [
        [
            1
            if (cell := lookup.get((c["cohort_start"], k))) is not None and cell["hidden"]
            else None
            for k in indices
        ]
        for c in cohorts.iter_rows(named=True)
    ]
    figure = go.Figure()
    figure.add_trace(
        go.Heatmap(
            z=z,
            x=[str(k) for k in indices],
            y=labels,
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            customdata=custom,
            colorscale="Blues",
            zmin=0,
            zmax=_colour_top(table),
            colorbar={"title": "%", "ticksuffix": "%"},
            showscale=not compact,
            xgap=1,
            ygap=1,
        )
    )
    figure.add_trace(  # hidden cells in grey, where the values have gaps
        go.Heatmap(
            z=hidden,
            x=[str(k) for k in indices],
            y=labels,
            colorscale=[[0, HIDDEN_GREY], [1, HIDDEN_GREY]],
            showscale=False,
            hoverinfo="skip",
            xgap=1,
            ygap=1,
        )
    )
    figure.update_yaxes(
        autorange="reversed", title=None if compact else f"Cohort (first order {grain}, size)"
    )
    figure.update_xaxes(title=f"{grain.capitalize()}s since the first order", type="category")
    figure.update_layout(
        title=None if compact else {"text": _MEASURE_TEXT[measure], "font": {"size": 14}},
        height=max(320, 26 * len(labels) + 140),
        margin={"l": 10, "r": 10, "t": 10 if compact else 40, "b": 10},
    )
    return figure


def _colour_top(table: pl.DataFrame) -> float:
    """The top of the colour scale: the largest value after the first period (which is 100 %
    by definition), so the later periods, where cohorts differ, get the whole colour range."""
    later = table.filter(pl.col("period_index") > 0)["value"].drop_nulls()
    return max(float(later.max()), 1.0) if later.len() else 100.0  # type: ignore[arg-type]


def _hover(cohort: dict[str, Any], k: int, cell: dict[str, Any] | None, grain: str) -> str:
    title = f"<b>{html.escape(str(cohort['cohort']))}</b> · {grain} {k}"
    if cell is None:
        return title + "<br>No data yet"
    if cell["hidden"]:
        return title + f"<br>Hidden: {html.escape(cell['hidden'])}"
    return "<br>".join(
        [
            title + f" ({html.escape(str(cell['period']))})",
            f"Active: {fmt.count(int(cell['customers']))} of {_size(cohort['size'])}",
            f"Revenue: {fmt.money_exact(float(cell['revenue']))}",
            f"Value: {fmt.kpi_value(cell['value'], 'percent')}",
        ]
    )


def _size(size: int | None) -> str:
    return "size hidden" if size is None else fmt.count(size)
