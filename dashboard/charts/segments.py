"""Segment figures: pure functions, frame in, `go.Figure` out.

Segments keep one colour wherever they appear (`segment_colours`), in the colour-blind-safe
Okabe-Ito order, so a cluster looks the same on every chart and after every load.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard import format as fmt

PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999999",
    "#7f3c8d",
    "#11a579",
    "#3969ac",
)
FEATURE_LABELS = {
    "log_recency": "Recency",
    "log_rate": "Purchase rate",
    "log_spend": "Spend per purchase",
    "log_tenure": "Tenure",
    "discount_share": "Discount share",
    "p_alive": "P(alive)",
}


def segment_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per segment, in the given (stable) order."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _layout(figure: go.Figure, height: int = 380) -> go.Figure:
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=height)
    return figure


def profile_heatmap(clusters: list[dict[str, Any]]) -> go.Figure:
    """Clusters down, features across: each cell the cluster centre's z-score (how far the
    cluster's typical customer is from all customers, in standard deviations)."""
    features = list(FEATURE_LABELS)
    z = [[c["profile"].get(f) for f in features] for c in clusters]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[FEATURE_LABELS[f] for f in features],
            y=[
                c["name"]
                if c["customers"] is None
                else f"{c['name']} ({fmt.count(c['customers'])})"
                for c in clusters
            ],
            text=[[f"{v:+.1f}" for v in row] for row in z],
            texttemplate="%{text}",
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-2.5,
            zmax=2.5,
            colorbar={"title": "z"},
            hovertemplate="%{y}<br>%{x}: %{z:+.2f} sd from all customers<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, max(280, 40 * len(clusters) + 120))


def projection_scatter(points: pl.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Customers on the first two principal components of the clustering features."""
    figure = go.Figure()
    for name, colour in colours.items():
        part = points.filter(pl.col("segment") == name)
        if part.is_empty():
            continue
        figure.add_trace(
            go.Scattergl(
                # Arrays, not lists: Plotly takes them without checking every point and
                # sends them packed (thousands of customers).
                x=part["x"].to_numpy(),
                y=part["y"].to_numpy(),
                mode="markers",
                name=name,
                marker={"color": colour, "size": 4, "opacity": 0.6},
                hovertemplate=f"{html.escape(name)}<extra></extra>",
            )
        )
    figure.update_xaxes(title="Component 1", zeroline=False)
    figure.update_yaxes(title="Component 2", zeroline=False)
    figure.update_layout(legend={"itemsizing": "constant"})
    return _layout(figure, 420)


def silhouette_chart(silhouette: dict[str, float], chosen: int) -> go.Figure:
    """The silhouette of every k tried; the chosen k stands out."""
    ks = sorted(int(k) for k in silhouette)
    figure = go.Figure(
        go.Bar(
            x=ks,
            y=[silhouette[str(k)] for k in ks],
            marker={"color": ["#d55e00" if k == chosen else "#9ab8d3" for k in ks]},
            hovertemplate="k = %{x}: silhouette %{y:.3f}<extra></extra>",
        )
    )
    figure.update_xaxes(title="Clusters (k)", dtick=1)
    figure.update_yaxes(title="Silhouette", tickformat=".2f")
    return _layout(figure, 300)


def migration_sankey(
    table: pl.DataFrame, colours: dict[str, str], before: str, after: str
) -> go.Figure:
    """Customers flowing from their segment at the end of `before` to the end of `after`;
    hidden flows are left out. Each link carries `customdata` [from, to] for drill-down."""
    shown = table.filter(pl.col("customers").is_not_null() & (pl.col("customers") > 0))
    sources = list(dict.fromkeys(shown["from_segment"].to_list()))
    targets = list(dict.fromkeys(shown["to_segment"].to_list()))
    labels = [f"{s} ({before})" for s in sources] + [f"{t} ({after})" for t in targets]
    colour = [colours.get(s, "#999999") for s in sources + targets]
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colour, "pad": 12, "thickness": 14},
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
    return _layout(figure, max(420, 22 * max(len(sources), len(targets))))


def _fade(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, 0.35)"


def rfm_grid_heatmap(grid: pl.DataFrame) -> go.Figure:
    """Buyers by recency score (rows, 5 on top) and frequency score (columns); hidden cells
    are grey and say so on hover. A cell carries `customdata` [r, f]."""
    rs, fs = [5, 4, 3, 2, 1], [1, 2, 3, 4, 5]
    lookup = {(r["r"], r["f"]): r for r in grid.iter_rows(named=True)}
    z, text, hover = [], [], []
    for r in rs:
        cells = [lookup.get((r, f), {"customers": 0, "hidden": None}) for f in fs]
        z.append([c["customers"] for c in cells])
        text.append(["hidden" if c["hidden"] else fmt.count(c["customers"] or 0) for c in cells])
        hover.append(
            [
                f"R {r} · F {f}<br>"
                + (
                    f"Hidden: {html.escape(c['hidden'])}"
                    if c["hidden"]
                    else f"{fmt.count(c['customers'] or 0)} customers"
                )
                for f, c in zip(fs, cells, strict=True)
            ]
        )
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(f) for f in fs],
            y=[str(r) for r in rs],
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            customdata=[[[r, f] for f in fs] for r in rs],
            colorscale="Blues",
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title="Frequency score (F)", type="category")
    figure.update_yaxes(
        title="Recency score (R)",
        type="category",
        categoryorder="array",
        categoryarray=["1", "2", "3", "4", "5"],  # 5, the most recent, on top
    )
    return _layout(figure, 340)


def holdout_chart(rows: list[dict[str, Any]]) -> go.Figure:
    """Mean repeat purchases in the holdout, predicted against actual, by the repeat
    purchases customers made before it."""
    labels = [f"{r['bucket']}+" if r["bucket"] == 7 else str(r["bucket"]) for r in rows]
    figure = go.Figure()
    for key, name, colour in (
        ("actual", "Actual", "#0072b2"),
        ("predicted", "Predicted", "#e69f00"),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[r[key] for r in rows],
                name=name,
                marker={"color": colour},
                hovertemplate=f"{name}: %{{y:.2f}}<extra></extra>",
            )
        )
    figure.update_xaxes(title="Repeat purchases before the holdout", type="category")
    figure.update_yaxes(title="Mean repeat purchases in the holdout")
    figure.update_layout(barmode="group")
    return _layout(figure, 320)
