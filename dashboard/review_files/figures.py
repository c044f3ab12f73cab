"""The quarterly review's figures in its files: one per section of `analytics.review.story`
that has a chart, the same charts as the Review page's (`charts/review.py`), drawn with Plotly:
the files need a renderer that works without Streamlit (plotly.js inside the HTML file, the
PDF and the deck drawn from that HTML by Chromium). The pages draw with ECharts instead
(`charts/base.py`), which starts about 0.8 s sooner in a browser tab."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from analytics import kpis as kpi_module
from analytics.kpis import Kpi
from analytics.review import previous_quarter
from analytics.review.story import Section
from analytics.segments.rfm import SEGMENT_ORDER
from dashboard.charts import kpis as kpi_charts
from dashboard.charts.base import segment_colours
from dashboard.charts.review import BEFORE, BETTER, NOW, WORSE, drawn_as_chart

BAND_COLOUR = "rgba(0, 114, 178, 0.15)"
LINE_COLOUR = "#0072b2"
SELECTED_COLOUR = "#d55e00"
_TICK_FORMAT = {"currency": "$,.0f", "count": ",.0f", "percent": ".0f", "score": ".0f"}


def figure(section: Section, quarter: str) -> go.Figure | None:
    """The section's figure, or None when it has none (text and tables)."""
    if not drawn_as_chart(section):
        return None
    assert section.chart is not None and section.data is not None
    draw = {
        "kpi_trend": _kpi_trend,
        "groups": _groups,
        "themes": _themes,
        "tickets": _tickets,
        "migration": _migration,
        "pain_points": _pain_points,
    }[section.chart]
    drawn = draw(section.data, quarter)
    drawn.update_layout(title=None, paper_bgcolor="white", plot_bgcolor="white")
    drawn.update_xaxes(gridcolor="#e5e8eb")
    drawn.update_yaxes(gridcolor="#e5e8eb")
    return drawn


def _kpi_trend(trend: pl.DataFrame, quarter: str) -> go.Figure:
    item = kpi_module.kpi(trend["kpi"][0])
    return trend_figure(trend, item, grouped=False, selected=quarter)


def _groups(moved: pl.DataFrame, quarter: str) -> go.Figure:
    """NPS change from the quarter before of the groups that moved most, per dimension;
    a significant change in full colour."""
    nps = moved.filter(pl.col("kpi") == "nps").sort("delta")
    labels = [f"{g} ({d})" for g, d in nps.select("group", "dimension").iter_rows()]
    significant = nps["delta_significant"].fill_null(False).to_list()
    colours = [
        (WORSE if d < 0 else BETTER) if s else BEFORE
        for d, s in zip(nps["delta"].to_list(), significant, strict=True)
    ]
    figure = go.Figure(
        go.Bar(
            y=labels,
            x=nps["delta"].to_list(),
            orientation="h",
            marker_color=colours,
            text=[f"{d:+.1f}" for d in nps["delta"].to_list()],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: NPS %{x:+.1f} points<extra></extra>",
        )
    )
    figure.update_xaxes(title=f"NPS change in {quarter} (points; grey: within noise)")
    figure.update_layout(showlegend=False, margin={"l": 10, "r": 40, "t": 20, "b": 10})
    figure.update_layout(height=max(360, 38 * nps.height + 100))
    return figure


def _themes(themes: pl.DataFrame, quarter: str) -> go.Figure:
    """Each theme's share of the comments (largest on top), the quarter before beside it;
    hidden themes have no bar."""
    rows = themes.filter(
        pl.col("share").is_not_null()
        & ((pl.col("share") > 0) | (pl.col("share_previous").fill_null(0) > 0))
    ).sort("share")
    figure = _before_and_now(
        rows["label"].to_list(), rows["share_previous"].to_list(), rows["share"].to_list(),
        quarter, colour=NOW, what="%{x:.1%} of comments", axis="Share of comments",
        tick_format=".0%", row_height=70,
    )  # fmt: skip
    figure.update_layout(height=max(260, 70 * themes.height + 140))
    return figure


def _tickets(categories: pl.DataFrame, quarter: str) -> go.Figure:
    rows = categories.sort("share")
    return _before_and_now(
        rows["category"].to_list(), rows["share_previous"].to_list(), rows["share"].to_list(),
        quarter, colour=NOW, what="%{x:.1%} of tickets", axis="Share of tickets",
        tick_format=".0%", row_height=48,
    )  # fmt: skip


def _migration(table: pl.DataFrame, quarter: str) -> go.Figure:
    """Customers flowing from their segment at the end of the quarter before to the end of
    this one, in the Segments page's colours; hidden flows are left out."""
    colours = segment_colours(list(SEGMENT_ORDER))  # as on the Segments page
    before = previous_quarter(quarter)
    shown = table.filter(pl.col("customers").is_not_null() & (pl.col("customers") > 0))
    sources = list(dict.fromkeys(shown["from_segment"].to_list()))
    targets = list(dict.fromkeys(shown["to_segment"].to_list()))
    labels = [f"{s} ({before})" for s in sources] + [f"{t} ({quarter})" for t in targets]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": [colours.get(s, "#999999") for s in sources + targets],
                "pad": 12,
                "thickness": 14,
            },
            textfont={"color": "#262730", "size": 12},
            link={
                "source": [sources.index(s) for s in shown["from_segment"].to_list()],
                "target": [len(sources) + targets.index(t) for t in shown["to_segment"].to_list()],
                "value": shown["customers"].to_list(),
                "customdata": shown.select("from_segment", "to_segment").rows(),
                "color": [
                    _fade(colours.get(s, "#999999")) for s in shown["from_segment"].to_list()
                ],
                "hovertemplate": "%{customdata[0]} → %{customdata[1]}: %{value:,} customers"
                "<extra></extra>",
            },
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=max(420, 22 * max(len(sources), len(targets))),
    )
    return figure


def _fade(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, 0.35)"


def _pain_points(pains: pl.DataFrame, quarter: str) -> go.Figure:
    rows = pains.sort("change")
    places = [
        s + (f" › {t}" if t else "") for s, t in rows.select("stage", "touchpoint").iter_rows()
    ]
    return _before_and_now(
        places, rows["score_previous"].to_list(), rows["score"].to_list(), quarter,
        colour=WORSE, what="pain score %{x:.2f}",
        axis="Pain score (drop-off, dissatisfaction and tickets weighed)", tick_format=None,
        row_height=56,
    )  # fmt: skip


def _before_and_now(
    labels: list[str],
    before: list[float],
    now: list[float],
    quarter: str,
    *,
    colour: str,
    what: str,
    axis: str,
    tick_format: str | None,
    row_height: int,
) -> go.Figure:
    """Horizontal bars of each label's value in the quarter before (grey) and now."""
    figure = go.Figure()
    figure.add_bar(
        name="Previous quarter",
        y=labels,
        x=before,
        orientation="h",
        marker_color=BEFORE,
        hovertemplate=f"%{{y}}: {what}<extra>previous quarter</extra>",
    )
    figure.add_bar(
        name=quarter,
        y=labels,
        x=now,
        orientation="h",
        marker_color=colour,
        hovertemplate=f"%{{y}}: {what}<extra></extra>",
    )
    figure.update_xaxes(title=axis, tickformat=tick_format)
    figure.update_layout(
        barmode="group",
        height=max(360, row_height * len(labels) + 100),
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


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
    """Hover text: the page's tooltip lines (escaped), the first in bold."""
    title, *rest = kpi_charts.hover_lines(row, item)
    return "<br>".join([f"<b>{title}</b>", *rest])
