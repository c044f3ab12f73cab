"""Journey figures: pure functions, frame in, `go.Figure` out."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.segments import PALETTE

LINK_MEASURES = {
    "conversion_step": "Went on from the touchpoint",
    "converted": "Purchase rate",
    "detractors": "Detractor share",
}
_HEIGHT = 380
THIN_LINK = 0.01  # links of fewer journeys than this share are left out of the Sankey


def _layout(figure: go.Figure, height: int = _HEIGHT) -> go.Figure:
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=height,
        legend={"orientation": "h", "y": -0.15},
    )
    return figure


def funnel_chart(table: pl.DataFrame) -> go.Figure:
    """Customers reaching each stage, one bar group per stage and one colour per group; the
    bar's label is its share of the group's entrants. Each bar carries `customdata`
    [group, stage] for drill-down; hidden rows have no bar."""
    figure = go.Figure()
    groups = list(dict.fromkeys(table["group"].to_list()))
    for i, group in enumerate(groups):
        rows = table.filter((pl.col("group") == group) & pl.col("customers").is_not_null())
        figure.add_bar(
            name=group,
            x=[stage.capitalize() for stage in rows["stage"].to_list()],
            y=rows["customers"].to_list(),
            marker_color=PALETTE[i % len(PALETTE)],
            text=[f"{v:.0%}" if v is not None else "" for v in rows["conversion_from_start"]],
            textposition="outside" if len(groups) <= 3 else "none",
            textfont={"size": 12},
            customdata=[[group, s] for s in rows["stage"].to_list()],
            hovertemplate="%{customdata[0]}: %{y:,} reached %{x} (%{text} of entrants)"
            "<extra></extra>",
        )
    figure.update_layout(
        barmode="group", yaxis_title="Customers", showlegend=len(groups) > 1, clickmode="event"
    )
    figure.update_xaxes(
        categoryorder="array", categoryarray=table["stage"].unique(maintain_order=True).to_list()
    )
    return _layout(figure)


def timing_chart(table: pl.DataFrame) -> go.Figure:
    """Days from reaching the previous stage to reaching each stage: the median as a bar,
    the 90th percentile as a tick above it, per group."""
    figure = go.Figure()
    groups = list(dict.fromkeys(table["group"].to_list()))
    timed = table.filter(pl.col("step") > 1)
    for i, group in enumerate(groups):
        rows = timed.filter(pl.col("group") == group)
        colour = PALETTE[i % len(PALETTE)]
        figure.add_bar(
            name=f"{group}: median" if len(groups) > 1 else "Median",
            x=[stage.capitalize() for stage in rows["stage"].to_list()],
            y=rows["median_days_from_previous"].to_list(),
            marker_color=colour,
            hovertemplate="Median %{y:.1f} days to %{x}<extra></extra>",
        )
        figure.add_scatter(
            name=f"{group}: 90th percentile" if len(groups) > 1 else "90th percentile",
            x=[stage.capitalize() for stage in rows["stage"].to_list()],
            y=rows["p90_days_from_previous"].to_list(),
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 22, "color": colour, "line": {"width": 3}},
            hovertemplate="90% within %{y:.1f} days<extra></extra>",
        )
    figure.update_layout(barmode="group", yaxis_title="Days from the previous stage")
    return _layout(figure, 320)


def satisfaction_curve(stages: pl.DataFrame) -> go.Figure:
    """Mean NPS answer (0-10), mean CSAT (1-5) and mean comment sentiment (-1 to 1, labelled
    on its points) of the answers given at each stage."""
    figure = go.Figure()
    figure.add_scatter(
        name="Mean NPS answer (0–10)",
        x=[stage.capitalize() for stage in stages["stage"].to_list()],
        y=stages["avg_nps"].to_list(),
        mode="lines+markers+text",
        text=[f"{v:.1f}" if v is not None else "" for v in stages["avg_nps"]],
        textposition="top center",
        line={"color": PALETTE[0], "width": 3},
        connectgaps=False,
    )
    figure.add_scatter(
        name="Mean CSAT (1–5)",
        x=[stage.capitalize() for stage in stages["stage"].to_list()],
        y=stages["avg_csat"].to_list(),
        mode="lines+markers",
        yaxis="y2",
        line={"color": PALETTE[1], "dash": "dot"},
        connectgaps=False,
    )
    if "avg_sentiment" in stages.columns and stages["avg_sentiment"].is_not_null().any():
        figure.add_scatter(
            name="Mean comment sentiment (−1 to 1)",
            x=[stage.capitalize() for stage in stages["stage"].to_list()],
            y=stages["avg_sentiment"].to_list(),
            mode="lines+markers+text",
            text=[f"{v:+.2f}" if v is not None else "" for v in stages["avg_sentiment"]],
            textposition="bottom center",
            yaxis="y3",
            line={"color": PALETTE[2], "dash": "dash"},
            connectgaps=False,
        )
    figure.update_layout(
        yaxis={"title": "NPS answer", "range": [0, 10.5]},
        yaxis2={"title": "CSAT", "range": [1, 5.2], "overlaying": "y", "side": "right"},
        yaxis3={"range": [-1.1, 1.1], "overlaying": "y", "visible": False},
    )
    return _layout(figure, 280)


def paths_sankey(links: pl.DataFrame, measure: str) -> go.Figure:
    """The paths' links from step to step; each node is a touchpoint at a step, each link
    coloured by `measure` (a share, from light for the lowest shown to dark for the
    highest). Links of fewer than `THIN_LINK` of the journeys are left out, so the common
    paths stand out."""
    links = links.filter(pl.col("conversion_overall") >= THIN_LINK)
    nodes: dict[tuple[int, str], int] = {}
    for step, source, target in links.select("step", "source", "target").iter_rows():
        nodes.setdefault((step, source), len(nodes))
        nodes.setdefault((step + 1, target), len(nodes))
    values = links[measure].fill_null(0.0).to_list()
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    spread = high - low or 1.0
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{name}" for (_, name) in nodes],
                "customdata": [f"step {step}" for (step, _) in nodes],
                "hovertemplate": "%{label} (%{customdata}): %{value:,} customers<extra></extra>",
                "pad": 14,
                "thickness": 12,
                "color": "#5f6b7a",
                "line": {"width": 0},
            },
            textfont={"color": "#262730", "size": 13, "shadow": "none"},
            link={
                "source": [nodes[(s, a)] for s, a in links.select("step", "source").iter_rows()],
                "target": [
                    nodes[(s + 1, b)] for s, b in links.select("step", "target").iter_rows()
                ],
                "value": links["customers"].to_list(),
                "color": [_shade((v - low) / spread) for v in values],  # lightest: lowest
                "customdata": [f"{v:.0%}" for v in values],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,} customers, "
                f"{LINK_MEASURES[measure].lower()} %{{customdata}}<extra></extra>",
            },
        )
    )
    steps = links["step"].max() if links.height else 1
    return _layout(figure, max(420, 60 * int(steps or 1) + 300))


def _shade(share: float) -> str:
    """A blue from light (0) to dark (1)."""
    share = min(max(share, 0.0), 1.0)
    light, dark = (198, 219, 239), (8, 48, 107)
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(light, dark, strict=True))
    return f"rgba({red}, {green}, {blue}, 0.75)"
