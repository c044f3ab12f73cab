"""The quarterly review's figures: one per section of `analytics.review.story` that has a
chart, the same on the Review page, in presentation mode and in the exported files."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from analytics import kpis as kpi_module
from analytics.review import previous_quarter
from analytics.review.story import Section
from analytics.segments.rfm import SEGMENT_ORDER
from dashboard.charts import feedback as feedback_charts
from dashboard.charts import kpis as kpi_charts
from dashboard.charts import segments as segment_charts

BEFORE = "#bdc3c7"
NOW = "#0072b2"
WORSE = "#d55e00"
BETTER = "#009e73"
TABLE_CHARTS = ("scorecard", "at_risk")  # sections shown as a table, not a figure


def figure(section: Section, quarter: str, *, large: bool = False) -> go.Figure | None:
    """The section's figure, or None when it has none (text and tables)."""
    if section.chart is None or section.chart in TABLE_CHARTS or section.data is None:
        return None
    draw = {
        "kpi_trend": _kpi_trend,
        "groups": _groups,
        "themes": _themes,
        "tickets": _tickets,
        "migration": _migration,
        "pain_points": _pain_points,
    }[section.chart]
    drawn = draw(section.data, quarter)
    if large:  # a slide: read from across the room (drawn without the app's theme)
        drawn.update_layout(template="plotly_white", font={"size": 18}, height=520)
    drawn.update_layout(title=None, paper_bgcolor="white", plot_bgcolor="white")
    drawn.update_xaxes(gridcolor="#e5e8eb")
    drawn.update_yaxes(gridcolor="#e5e8eb")
    return drawn


def _kpi_trend(trend: pl.DataFrame, quarter: str) -> go.Figure:
    item = kpi_module.kpi(trend["kpi"][0])
    return kpi_charts.trend_figure(trend, item, grouped=False, selected=quarter)


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
    drawn = feedback_charts.theme_shares(themes, compared=True)
    drawn.update_layout(height=max(260, 70 * themes.height + 140))
    return drawn


def _tickets(categories: pl.DataFrame, quarter: str) -> go.Figure:
    rows = categories.sort("share")
    return _before_and_now(
        rows["category"].to_list(), rows["share_previous"].to_list(), rows["share"].to_list(),
        quarter, colour=NOW, what="%{x:.1%} of tickets", axis="Share of tickets",
        tick_format=".0%", row_height=48,
    )  # fmt: skip


def _migration(table: pl.DataFrame, quarter: str) -> go.Figure:
    colours = segment_charts.segment_colours(list(SEGMENT_ORDER))  # as on the Segments page
    return segment_charts.migration_sankey(table, colours, previous_quarter(quarter), quarter)


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
