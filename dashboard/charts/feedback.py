"""Feedback figures: pure functions, frame in, `go.Figure` out."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard.charts.segments import PALETTE

_HEIGHT = 380
GROUP_COLOURS = {"detractor": "#c0392b", "passive": "#95a5a6", "promoter": "#27ae60"}
QUADRANT_COLOURS = {
    "fix first": "#c0392b",
    "keep up": "#27ae60",
    "nice to have": "#95a5a6",
    "over-invested": "#2980b9",
}


def _layout(figure: go.Figure, height: int = _HEIGHT) -> go.Figure:
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=height,
        legend={"orientation": "h", "y": -0.18},
    )
    return figure


def theme_shares(table: pl.DataFrame, *, compared: bool) -> go.Figure:
    """Each theme's share of the comments as a horizontal bar (largest on top); with
    `compared`, the previous quarter's beside it. Hidden themes have no bar."""
    rows = table.filter(
        pl.col("share").is_not_null()
        & ((pl.col("share") > 0) | (pl.col("share_previous").fill_null(0) > 0))
    ).sort("share")
    figure = go.Figure()
    if compared:
        figure.add_bar(
            name="Previous quarter",
            y=rows["label"].to_list(),
            x=rows["share_previous"].to_list(),
            orientation="h",
            marker_color="#bdc3c7",
            hovertemplate="%{y}: %{x:.1%} of comments<extra>previous quarter</extra>",
        )
    figure.add_bar(
        name="This quarter" if compared else "Share of comments",
        y=rows["label"].to_list(),
        x=rows["share"].to_list(),
        orientation="h",
        marker_color=PALETTE[0],
        customdata=rows["theme"].to_list(),
        hovertemplate="%{y}: %{x:.1%} of comments<extra></extra>",
    )
    figure.update_layout(barmode="group", showlegend=compared, clickmode="event")
    figure.update_xaxes(tickformat=".0%", title="Share of comments")
    return _layout(figure, max(_HEIGHT, 40 * rows.height + 80))


def theme_trend(trend: pl.DataFrame) -> go.Figure:
    """Each theme's share of the comments per period as a line; a filled marker where the
    change from the period before is significant (p < 0.05)."""
    figure = go.Figure()
    labels = [
        label
        for label in trend["label"].unique(maintain_order=True).to_list()
        if (trend.filter(pl.col("label") == label)["comments"].fill_null(0) > 0).any()
    ]
    for i, label in enumerate(labels):
        rows = trend.filter(pl.col("label") == label).sort("period")
        significant = [p is not None and p < 0.05 for p in rows["p_value"].to_list()]
        figure.add_scatter(
            name=label,
            x=rows["period"].to_list(),
            y=rows["share"].to_list(),
            mode="lines+markers",
            line={"color": PALETTE[i % len(PALETTE)]},
            marker={
                "size": [10 if s else 6 for s in significant],
                "symbol": ["circle" if s else "circle-open" for s in significant],
            },
            hovertemplate="%{x}: %{y:.1%} of comments<extra>" + label + "</extra>",
        )
    figure.update_yaxes(tickformat=".0%", title="Share of comments", rangemode="tozero")
    return _layout(figure)


def theme_heatmap(grid: pl.DataFrame) -> go.Figure:
    """Themes by NPS group: the share of each group's comments on each theme."""
    labels = grid["label"].unique(maintain_order=True).to_list()
    groups = ["detractor", "passive", "promoter"]
    values = [
        [
            grid.filter((pl.col("label") == label) & (pl.col("nps_group") == group))["share"].item()
            for group in groups
        ]
        for label in labels
    ]
    text = [["" if v is None else f"{v:.0%}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=[g.capitalize() + "s" for g in groups],
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            showscale=False,
            hovertemplate="%{y}: %{z:.1%} of %{x}' comments<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, max(_HEIGHT, 40 * len(labels) + 80))


def sentiment_chart(trend: pl.DataFrame) -> go.Figure:
    """Mean sentiment of the comments (bars, left axis) and NPS (line, right axis)."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_bar(
        x=trend["period"].to_list(),
        y=trend["sentiment"].to_list(),
        name="Mean sentiment (−1 to 1)",
        marker_color=[
            "#c0392b" if v is not None and v < 0 else PALETTE[0] for v in trend["sentiment"]
        ],
        hovertemplate="%{x}: sentiment %{y:.2f}<extra></extra>",
    )
    figure.add_scatter(
        x=trend["period"].to_list(),
        y=trend["nps"].to_list(),
        name="NPS",
        mode="lines+markers",
        line={"color": "#2c3e50"},
        hovertemplate="%{x}: NPS %{y:.1f}<extra></extra>",
        secondary_y=True,
    )
    figure.update_yaxes(title_text="Mean sentiment", range=[-1, 1], secondary_y=False)
    figure.update_yaxes(title_text="NPS", range=[-100, 100], secondary_y=True)
    return _layout(figure)


def driver_quadrant(table: pl.DataFrame, labels: list[str]) -> go.Figure:
    """Importance (share of the explained variance) against performance (0-1), one marker
    per driver coloured by its quadrant, the drivers' averages as the quadrant lines."""
    figure = go.Figure()
    widest = max(table["importance"].max() or 0.0, 0.01)
    for quadrant, colour in QUADRANT_COLOURS.items():
        rows = [i for i, q in enumerate(table["quadrant"].to_list()) if q == quadrant]
        if not rows:
            continue
        figure.add_scatter(
            x=[table["importance"][i] for i in rows],
            y=[table["performance"][i] for i in rows],
            text=[labels[i] for i in rows],
            mode="markers+text",
            # Labels point inwards, so those at the edges stay inside the plot.
            textposition=[
                "middle left" if table["importance"][i] > widest / 2 else "middle right"
                for i in rows
            ],
            marker={"size": 14, "color": colour},
            name=quadrant.capitalize(),
            hovertemplate="%{text}: importance %{x:.0%}, performance %{y:.0%}<extra></extra>",
        )
    figure.add_vline(x=table["importance"].mean(), line_dash="dot", line_color="#7f8c8d")
    figure.add_hline(y=table["performance"].mean(), line_dash="dot", line_color="#7f8c8d")
    figure.update_xaxes(
        title="Importance (share of what the drivers explain)",
        tickformat=".0%",
        range=[-0.03 * widest, 1.08 * widest],
    )
    figure.update_yaxes(title="Performance (0 = worst possible, 100% = best)", tickformat=".0%")
    return _layout(figure, 440)
