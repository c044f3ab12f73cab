"""Segment charts: pure functions, frame in, `Chart` out (no Streamlit here).

Segments keep one colour wherever they appear (`segment_colours`), in the colour-blind-safe
Okabe-Ito order, so a cluster looks the same on every chart and after every load.

Two charts drill to customers: a migration flow's payload is [from segment, to segment]
(`drill[(0, "edge")]`, one per link), an RFM grid cell's is [R score, F score] (`drill[0]`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard import format as fmt
from dashboard.charts import base
from dashboard.charts.base import BLUES, MUTED, PALETTE, SELECTED_COLOUR, TEXT_COLOUR, Chart
from dashboard.charts.base import segment_colours as segment_colours

FEATURE_LABELS = {
    "log_recency": "Recency",
    "log_rate": "Purchase rate",
    "log_spend": "Spend per purchase",
    "log_tenure": "Tenure",
    "discount_share": "Discount share",
    "p_alive": "P(alive)",
}
# ColorBrewer's diverging RdBu, blue (below all customers) to red (above), as Plotly's
# reversed "RdBu"; and its sequential Blues, light (few) to dark (many).
RED_BLUE = [
    "#053061",
    "#2166ac",
    "#4393c3",
    "#92c5de",
    "#d1e5f0",
    "#f7f7f7",
    "#fddbc7",
    "#f4a582",
    "#d6604d",
    "#b2182b",
    "#67001f",
]
HIDDEN_COLOUR = "#e4e7eb"
NODE_LABEL_COLOUR = "#262730"
OTHER_COLOUR = "#999999"  # a segment without a colour of its own
Z_LIMIT = 2.5  # the profile's colours stop at ±2.5 standard deviations


def profile_heatmap(clusters: list[dict[str, Any]]) -> Chart:
    """Clusters down (the first on top), features across: each cell the cluster centre's
    z-score (how far the cluster's typical customer is from all customers, in standard
    deviations). A cluster whose size is hidden has no count after its name."""
    features = list(FEATURE_LABELS)
    columns = [FEATURE_LABELS[f] for f in features]
    rows = [
        c["name"] if c["customers"] is None else f"{c['name']} ({fmt.count(c['customers'])})"
        for c in clusters
    ]
    cells = []
    for y, (cluster, row) in enumerate(zip(clusters, rows, strict=True)):
        for x, (feature, column) in enumerate(zip(features, columns, strict=True)):
            z = cluster["profile"].get(feature)
            cells.append(
                {
                    "value": [x, y, z],
                    "label": {"formatter": f"{z:+.1f}"},
                    "tooltip": base.tooltip(
                        base.escaped(row), f"{column}: {z:+.2f} sd from all customers"
                    ),
                }
            )
    option = base.option(
        grid={"left": 12, "right": 72, "top": 12, "bottom": 12, "containLabel": True},
        xAxis=base.category_axis(
            columns, axisTick={"show": False}, axisLabel={"interval": 0, "rotate": 30}
        ),
        yAxis=base.category_axis(rows, inverse=True, axisTick={"show": False}),
        visualMap={
            "type": "continuous",
            "min": -Z_LIMIT,
            "max": Z_LIMIT,
            "calculable": False,
            "precision": 1,
            "text": [f"+{Z_LIMIT} sd", f"−{Z_LIMIT} sd"],
            "inRange": {"color": RED_BLUE},
            "right": 0,
            "top": "middle",
            "itemHeight": 160,
            "textStyle": {"color": TEXT_COLOUR},
        },
        series=[
            {
                "type": "heatmap",
                "name": "z-score",
                "data": cells,
                "label": {"show": True, "fontSize": 11},
                "itemStyle": {"borderColor": "#ffffff", "borderWidth": 1},
            }
        ],
    )
    return Chart(option, height=max(280, 40 * len(clusters) + 120))


def projection_scatter(points: pl.DataFrame, colours: dict[str, str]) -> Chart:
    """Customers on the first two principal components of the clustering features, one
    series per segment (in the order of `colours`)."""
    datasets: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    for name, colour in colours.items():
        part = points.filter(pl.col("segment") == name)
        if part.is_empty():
            continue
        series.append(
            {
                "type": "scatter",
                "name": name,
                "datasetIndex": len(datasets),
                "encode": {"x": "x", "y": "y"},
                "symbolSize": 4,
                "itemStyle": {"color": colour, "opacity": 0.6},
                # Thousands of customers: drawn as one path per segment, not one each.
                "large": True,
                "largeThreshold": 500,
                "tooltip": base.tooltip(base.escaped(name)),
            }
        )
        # A frame, not lists: Streamlit sends it to the browser as Arrow.
        datasets.append({"source": part.select("x", "y")})
    option = base.option(
        legend=base.legend(bool(series)),
        dataset=datasets,
        xAxis=_component_axis(1, gap=28),
        yAxis=_component_axis(2, gap=32),
        series=series,
    )
    option["grid"] = {**option["grid"], "left": 36, "bottom": 36}
    return Chart(option, height=420, canvas=True)  # thousands of points


def _component_axis(number: int, gap: int) -> dict[str, Any]:
    """A principal component's axis: no line at zero (a component's zero means nothing)."""
    axis = base.value_axis(scale=True, axisLine={"onZero": False})
    return axis | {
        "name": f"Component {number}",
        "nameLocation": "middle",
        "nameGap": gap,
    }


def silhouette_chart(silhouette: dict[str, float], chosen: int) -> Chart:
    """The silhouette of every k tried; the chosen k stands out."""
    ks = sorted(int(k) for k in silhouette)
    bars = [
        {
            "value": silhouette[str(k)],
            "itemStyle": {"color": SELECTED_COLOUR if k == chosen else MUTED},
            "tooltip": base.tooltip(f"k = {k}: silhouette {silhouette[str(k)]:.3f}"),
        }
        for k in ks
    ]
    option = base.option(
        xAxis=base.category_axis([str(k) for k in ks], "Clusters (k)"),
        yAxis=base.value_axis("Silhouette"),
        series=[{"type": "bar", "name": "Silhouette", "data": bars}],
    )
    option["grid"] = {**option["grid"], "bottom": 36}
    return Chart(option, height=300)


def migration_sankey(
    table: pl.DataFrame, colours: dict[str, str], before: str, after: str
) -> Chart:
    """Customers flowing from their segment at the end of `before` to the end of `after`;
    hidden flows are left out (never drawn as none). Each link's payload is
    [from, to] (`drill[(0, "edge")]`)."""
    shown = table.filter(pl.col("customers").is_not_null() & (pl.col("customers") > 0))
    flows = shown.select("from_segment", "to_segment", "customers").rows()
    sources = list(dict.fromkeys(source for source, _, _ in flows))
    targets = list(dict.fromkeys(target for _, target, _ in flows))
    leaving = {s: sum(n for f, _, n in flows if f == s) for s in sources}
    arriving = {t: sum(n for _, to, n in flows if to == t) for t in targets}
    nodes = [
        _node(f"{s} ({before})", colours.get(s, OTHER_COLOUR), leaving[s], 0) for s in sources
    ] + [_node(f"{t} ({after})", colours.get(t, OTHER_COLOUR), arriving[t], 1) for t in targets]
    links = [
        {
            "source": sources.index(source),
            "target": len(sources) + targets.index(target),
            "value": customers,
            "lineStyle": {"color": colours.get(source, OTHER_COLOUR), "opacity": 0.35},
            "tooltip": base.tooltip(
                f"{base.escaped(source)} → {base.escaped(target)}",
                f"{fmt.count(customers)} customers",
            ),
        }
        for source, target, customers in flows
    ]
    option = base.option(
        series=[
            {
                "type": "sankey",
                "name": "Migration",
                "data": nodes,
                "links": links,
                "selectedMode": "single",
                "left": 8,
                "right": 8,
                "top": 12,
                "bottom": 12,
                "nodeWidth": 14,
                "nodeGap": 12,
                "layoutIterations": 0,  # segments in their order, top to bottom
                "draggable": False,
                "emphasis": {"focus": "adjacency"},
                "label": {"color": NODE_LABEL_COLOUR, "fontSize": 12},
                "levels": [
                    {"depth": 0, "label": {"position": "right"}},
                    {"depth": 1, "label": {"position": "left"}},
                ],
            }
        ],
    )
    payloads: list[list[str] | None] = [[source, target] for source, target, _ in flows]
    return Chart(
        option,
        height=max(420, 22 * max(len(sources), len(targets))),
        drill={(0, "edge"): payloads},
    )


def _node(label: str, colour: str, customers: int, depth: int) -> dict[str, Any]:
    return {
        "name": label,
        "depth": depth,
        "itemStyle": {"color": colour, "borderWidth": 0},
        "tooltip": base.tooltip(base.escaped(label), f"{fmt.count(customers)} customers"),
    }


def rfm_grid_heatmap(grid: pl.DataFrame) -> Chart:
    """Buyers by recency score (rows, 5 on top) and frequency score (columns). Hidden cells
    are grey, say "hidden" and are not drilled into (series 1); a shown cell's payload is
    [r, f] (series 0): a click lists its buyers."""
    rs, fs = [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]  # a category axis runs upwards: 5 on top
    lookup = {(row["r"], row["f"]): row for row in grid.iter_rows(named=True)}
    shown: list[dict[str, Any]] = []
    hidden: list[dict[str, Any]] = []
    payloads: list[list[str] | None] = []
    for y, r in enumerate(rs):
        for x, f in enumerate(fs):
            cell = lookup.get((r, f), {"customers": 0, "hidden": None})
            if cell["hidden"]:
                hidden.append(
                    {
                        "value": [x, y, 0],  # the cell's place; its label says "hidden"
                        "tooltip": base.tooltip(
                            f"R {r} · F {f}", f"Hidden: {base.escaped(cell['hidden'])}"
                        ),
                    }
                )
                continue
            customers = cell["customers"] or 0
            shown.append(
                {
                    # A name of its own: ECharts selects by name, and a cell's default
                    # name is its column (a click would select the whole column).
                    "name": f"R {r} · F {f}",
                    "value": [x, y, customers],
                    "label": {"formatter": fmt.count(customers)},
                    "tooltip": base.tooltip(f"R {r} · F {f}", f"{fmt.count(customers)} customers"),
                }
            )
            payloads.append([str(r), str(f)])
    counts = [cell["value"][2] for cell in shown]
    gap = {"borderColor": "#ffffff", "borderWidth": 2}
    series: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "name": "Buyers",
            "data": shown,
            "label": {"show": True},
            "itemStyle": gap,
            "selectedMode": "single",  # a cell lists its buyers
            "select": {"itemStyle": {"borderColor": SELECTED_COLOUR, "borderWidth": 2}},
        }
    ]
    if hidden:
        series.append(
            {
                "type": "heatmap",
                "name": "Hidden",
                "data": hidden,
                "label": {"show": True, "formatter": "hidden", "color": TEXT_COLOUR},
                "itemStyle": {**gap, "color": HIDDEN_COLOUR},
            }
        )
    option = base.option(
        xAxis=base.category_axis([str(f) for f in fs], "Frequency score (F)"),
        yAxis=base.category_axis(
            [str(r) for r in rs], "Recency score (R)", nameLocation="middle", nameGap=28
        ),
        visualMap={
            "show": False,
            "seriesIndex": 0,  # the hidden cells keep their grey
            "min": min(counts, default=0),
            "max": max(max(counts, default=0), min(counts, default=0) + 1),
            "inRange": {"color": list(BLUES)},
        },
        series=series,
    )
    option["grid"] = {**option["grid"], "top": 12, "bottom": 36, "left": 28}
    return Chart(option, height=340, drill={0: payloads})


def holdout_chart(rows: list[dict[str, Any]]) -> Chart:
    """Mean repeat purchases in the holdout, predicted against actual, by the repeat
    purchases customers made before it (7 and more together). A missing mean has no bar."""
    labels = [f"{r['bucket']}+" if r["bucket"] == 7 else str(r["bucket"]) for r in rows]
    series = []
    bars_of = (("actual", "Actual", PALETTE[0]), ("predicted", "Predicted", PALETTE[1]))
    for key, name, colour in bars_of:
        bars: list[Any] = [
            None
            if row[key] is None
            else {
                "value": row[key],
                "tooltip": base.tooltip(
                    f"{label} repeat purchases before the holdout", f"{name}: {row[key]:.2f}"
                ),
            }
            for label, row in zip(labels, rows, strict=True)
        ]
        series.append({"type": "bar", "name": name, "data": bars, "itemStyle": {"color": colour}})
    option = base.option(
        legend=base.legend(),
        xAxis=base.category_axis(labels, "Repeat purchases before the holdout"),
        yAxis=base.value_axis("Mean repeat purchases in the holdout"),
        series=series,
    )
    option["grid"] = {**option["grid"], "top": 56, "bottom": 36}
    return Chart(option, height=320)
