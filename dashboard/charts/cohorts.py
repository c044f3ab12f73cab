"""Cohort heat maps: pure functions, frame in, `Chart` out (no Streamlit here).

A cell's payload is [cohort start (ISO), period index] as text, so a selection tells the page
which cohort and period was clicked (`selection.picked`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard import format as fmt
from dashboard.charts import base
from dashboard.charts.base import BLUES, SELECTED_COLOUR, TEXT_COLOUR, Chart

HIDDEN_GREY = "#d9dde3"
# From this share of the colour scale on, a cell is dark enough for white text.
_WHITE_TEXT_FROM = 0.55
# About how wide the cells can be drawn, in pixels (the page's width, or half of it side by
# side, less the cohort labels), and how wide a cell must be for its number ("100" at 10 px).
_PLOT_PIXELS = {False: 820, True: 380}
_LABEL_PIXELS = 18
_MEASURE_TEXT = {
    "customers": "Active customers, % of the cohort",
    "revenue": "Revenue, % of the cohort's first period",
}


def cohort_heatmap(
    table: pl.DataFrame, measure: str, grain: str, *, compact: bool = False
) -> Chart:
    """Cohorts down, periods since the first order across; each cell's colour and text is the
    measure's value in percent (the number only where the cells are wide enough for it), its
    tooltip the counts behind it. Colours span 0 to the largest value after period 0, so the
    first column simply shows as the darkest.

    Series 0 holds the cells with a value (coloured by the visual map), series 1 the cells
    without one: grey where the value is hidden from the viewer, white where there is none to
    compute (never a colour, so never read as zero). Both drill: a hidden cell's click says
    why it lists no one. A period the cohort has not reached yet has no cell.
    `compact` (maps side by side) drops the colour scale and the titles, which the page
    states once instead."""
    cohorts = table.select("cohort", "cohort_start", "size").unique().sort("cohort_start")
    indices = sorted(table["period_index"].unique().to_list())
    lookup = {(r["cohort_start"], r["period_index"]): r for r in table.iter_rows(named=True)}
    top = _colour_top(table)
    shown: list[dict[str, Any]] = []
    blank: list[dict[str, Any]] = []
    drill: dict[int | tuple[int, str], list[list[str] | None]] = {0: [], 1: []}
    for y, cohort in enumerate(cohorts.iter_rows(named=True)):
        for x, k in enumerate(indices):
            cell = lookup.get((cohort["cohort_start"], k))
            if cell is None:
                continue
            drawn = cell["value"] is not None and not cell["hidden"]
            mark: dict[str, Any] = {
                # A name of its own: ECharts selects by name, and would otherwise select the
                # whole column (a cell's default name is its period).
                "name": f"{cohort['cohort']} · {grain} {k}",
                "tooltip": base.tooltip(*_hover(cohort, k, cell, grain)),
            }
            if drawn:
                value = cell["value"]
                dark = min(value / top, 1.0) >= _WHITE_TEXT_FROM
                mark["value"] = [x, y, value]
                mark["label"] = {
                    "formatter": f"{value:.0f}",
                    "color": "#ffffff" if dark else TEXT_COLOUR,
                }
            else:
                # The third number only places the cell (a heat map draws no cell without
                # one); the series is not on the colour scale and has no labels.
                mark["value"] = [x, y, 0]
                mark["itemStyle"] = {"color": HIDDEN_GREY if cell["hidden"] else "#ffffff"}
            (shown if drawn else blank).append(mark)
            drill[0 if drawn else 1].append([cohort["cohort_start"].isoformat(), str(k)])
    labels = [f"{c['cohort']} ({_size(c['size'])})" for c in cohorts.iter_rows(named=True)]
    cells = {
        "type": "heatmap",
        "selectedMode": "single",
        "itemStyle": {"borderColor": "#ffffff", "borderWidth": 1},
        "select": {"itemStyle": {"borderColor": SELECTED_COLOUR, "borderWidth": 2}},
    }
    numbers = _PLOT_PIXELS[compact] / len(indices) >= _LABEL_PIXELS
    series = [
        {**cells, "name": _MEASURE_TEXT[measure], "data": shown,
         "label": {"show": numbers, "fontSize": 10}},
        {**cells, "name": "No value", "data": blank, "label": {"show": False}},
    ]  # fmt: skip
    y_name = None if compact else f"Cohort (first order {grain}, size)"
    option = base.option(
        xAxis=base.category_axis(
            [str(k) for k in indices], f"{grain.capitalize()}s since the first order"
        ),
        yAxis={
            **base.category_axis(labels),
            "inverse": True,  # the first cohort on top
            **({"name": y_name, "nameLocation": "middle", "nameRotate": 90} if y_name else {}),
        },
        visualMap={
            "type": "continuous",
            "seriesIndex": 0,
            "dimension": 2,
            "min": 0,
            "max": top,
            "inRange": {"color": list(BLUES)},
            "show": not compact,
            "calculable": False,
            "orient": "vertical",
            "right": 0,
            "top": 40,  # beside the first cohorts, the rows read first
            "itemHeight": 160,
            "text": [f"{top:.0f}%", "0%"],
            "textStyle": {"color": TEXT_COLOUR},
        },
        series=series,
    )
    option["grid"] = {
        **option["grid"],
        "top": 12 if compact else 40,
        "bottom": 36,
        "right": 12 if compact else 80,
        # The y-axis title sits left of the cohort labels: the grid keeps room for both.
        "containLabel": False,
        "outerBoundsMode": "same",
        "outerBoundsContain": "all",
    }
    if not compact:
        option["title"] = {
            "text": _MEASURE_TEXT[measure],
            "left": 0,
            "top": 0,
            "textStyle": {"fontSize": 14, "fontWeight": 600, "color": TEXT_COLOUR},
        }
    # Hundreds of cells, each with its number: quicker to draw on a canvas than as SVG.
    return Chart(option, height=max(320, 26 * len(labels) + 140), drill=drill, canvas=True)


def _colour_top(table: pl.DataFrame) -> float:
    """The top of the colour scale: the largest value after the first period (which is 100 %
    by definition), so the later periods, where cohorts differ, get the whole colour range."""
    later = table.filter(pl.col("period_index") > 0)["value"].drop_nulls()
    return max(float(later.max()), 1.0) if later.len() else 100.0  # type: ignore[arg-type]


def _hover(cohort: dict[str, Any], k: int, cell: dict[str, Any], grain: str) -> list[str]:
    """Tooltip lines; values from the data are escaped."""
    title = f"{base.escaped(cohort['cohort'])} · {grain} {k}"
    if cell["hidden"]:
        return [title, f"Hidden: {base.escaped(cell['hidden'])}"]
    return [
        title + f" ({base.escaped(cell['period'])})",
        f"Active: {fmt.count(int(cell['customers']))} of {_size(cohort['size'])}",
        f"Revenue: {fmt.money_exact(float(cell['revenue']))}",
        f"Value: {fmt.kpi_value(cell['value'], 'percent')}",
    ]


def _size(size: int | None) -> str:
    return "size hidden" if size is None else fmt.count(size)
