"""Feedback charts: pure functions, frame in, `Chart` out (no Streamlit here).

Shares are drawn in percent (a share of 0.599 as 59.9), so that axes and labels read "60%"
from ECharts' templates. A hidden value (too few comments for a viewer) is left out, never
drawn as zero. One chart drills: a theme's bar carries [theme id] (`drill[series]`), which the
page opens as the theme's comments.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard import format as fmt
from dashboard.charts import base
from dashboard.charts.base import BLUES, PALETTE, TEXT_COLOUR, Chart

GROUP_COLOURS = {"detractor": "#c0392b", "passive": "#95a5a6", "promoter": "#27ae60"}
QUADRANT_COLOURS = {
    "fix first": "#c0392b",
    "keep up": "#27ae60",
    "nice to have": "#95a5a6",
    "over-invested": "#2980b9",
}
PREVIOUS_COLOUR = "#bdc3c7"
NEGATIVE_COLOUR = "#c0392b"
NPS_COLOUR = "#2c3e50"
QUADRANT_LINE_COLOUR = "#7f8c8d"
CELL_TEXT_COLOUR = "#262730"  # on the light half of the heat map; white on the dark half
NPS_GROUPS = ("detractor", "passive", "promoter")
SIGNIFICANT = 0.05
Box = tuple[float, float, float, float]  # a label's or marker's estimated extent, in pixels


def theme_shares(table: pl.DataFrame, *, compared: bool) -> Chart:
    """Each theme's share of the comments as a horizontal bar (largest on top); with
    `compared`, the previous quarter's beside it (below it, in grey). Hidden themes have no
    bar. A bar of this quarter drills: its payload is [theme id]."""
    rows = table.filter(
        pl.col("share").is_not_null()
        & ((pl.col("share") > 0) | (pl.col("share_previous").fill_null(0) > 0))
    ).sort("share")
    labels = rows["label"].to_list()
    # ECharts draws a category's first series on top: this quarter's, as the chart is read.
    series = [
        _share_bars(
            "This quarter" if compared else "Share of comments",
            labels,
            rows["share"].to_list(),
            PALETTE[0],
            "this quarter" if compared else None,
        )
        | {"selectedMode": "single"}
    ]
    if compared:
        series.append(
            _share_bars(
                "Previous quarter",
                labels,
                rows["share_previous"].to_list(),
                PREVIOUS_COLOUR,
                "previous quarter",
            )
        )
    option = base.option(
        legend=base.legend(compared) | {"data": ["Previous quarter", "This quarter"]},
        grid={
            "left": 12,
            "right": 24,
            "top": 40 if compared else 12,
            "bottom": 36,
            "containLabel": True,
        },
        xAxis=base.value_axis(unit="percent")
        | {"name": "Share of comments", "nameLocation": "middle", "nameGap": 28},
        yAxis=base.category_axis(labels, axisTick={"show": False}),
        series=series,
    )
    payloads: list[list[str] | None] = [[str(theme)] for theme in rows["theme"].to_list()]
    return Chart(option, height=max(base.HEIGHT, 40 * rows.height + 80), drill={0: payloads})


def _share_bars(
    name: str, labels: list[str], shares: list[float | None], colour: str, which: str | None
) -> dict[str, Any]:
    """One bar series of shares (in percent); a missing share has no bar."""
    bars: list[Any] = []
    for label, share in zip(labels, shares, strict=True):
        if share is None:
            bars.append(None)
            continue
        lines = [base.escaped(label), f"{fmt.percent(100 * share)} of comments"]
        if which:
            lines.append(which.capitalize())
        bars.append({"value": 100 * share, "tooltip": base.tooltip(*lines)})
    return {
        "type": "bar",
        "name": name,
        "data": bars,
        "itemStyle": {"color": colour},
        "barMaxWidth": 28,
        "barGap": "10%",
    }


def theme_trend(trend: pl.DataFrame) -> Chart:
    """Each theme's share of the comments per period as a line; a filled, larger marker
    where the change from the period before is significant (p < 0.05), a hollow one
    elsewhere. A hidden share (too few comments in the period) breaks the line."""
    labels = [
        label
        for label in trend["label"].unique(maintain_order=True).to_list()
        if (trend.filter(pl.col("label") == label)["comments"].fill_null(0) > 0).any()
    ]
    periods = [str(p) for p in trend["period"].unique().sort().to_list()]
    series = []
    for i, label in enumerate(labels):
        by_period = {
            str(row["period"]): row
            for row in trend.filter(pl.col("label") == label).iter_rows(named=True)
        }
        points: list[Any] = []
        for period in periods:
            row = by_period.get(period)
            if row is None or row["share"] is None:
                points.append(None)
                continue
            significant = row["p_value"] is not None and row["p_value"] < SIGNIFICANT
            points.append(
                {
                    "value": 100 * row["share"],
                    "symbol": "circle" if significant else "emptyCircle",
                    "symbolSize": 10 if significant else 6,
                    "tooltip": base.tooltip(
                        base.escaped(label),
                        f"{base.escaped(period)}: {fmt.percent(100 * row['share'])} of comments",
                    ),
                }
            )
        colour = PALETTE[i % len(PALETTE)]
        series.append(
            {
                "type": "line",
                "name": label,
                "data": points,
                "connectNulls": False,
                "itemStyle": {"color": colour},
                "lineStyle": {"color": colour},
            }
        )
    option = base.option(
        legend=base.legend(bool(labels)),
        grid={"left": 12, "right": 24, "top": 64, "bottom": 12, "containLabel": True},
        xAxis=base.category_axis(periods),
        yAxis=base.value_axis("Share of comments", "percent", min=0),
        series=series,
    )
    return Chart(option)


def theme_heatmap(grid: pl.DataFrame) -> Chart:
    """Themes down (in the frame's order, the first on top) by NPS group across: the share
    of each group's comments on each theme, as a colour and a label. A hidden share has no
    cell."""
    labels = grid["label"].unique(maintain_order=True).to_list()
    columns = [g.capitalize() + "s" for g in NPS_GROUPS]
    shares = {(row["label"], row["nps_group"]): row["share"] for row in grid.iter_rows(named=True)}
    shown = [v for v in shares.values() if v is not None]
    highest = 100 * max(shown) if shown else 1.0
    cells = []
    for y, label in enumerate(labels):
        for x, (group, column) in enumerate(zip(NPS_GROUPS, columns, strict=True)):
            share = shares.get((label, group))
            if share is None:
                continue
            dark = highest > 0 and 100 * share > 0.5 * highest
            cells.append(
                {
                    "value": [x, y, 100 * share],
                    "label": {
                        "formatter": f"{share:.0%}",
                        "color": "#ffffff" if dark else CELL_TEXT_COLOUR,
                    },
                    "tooltip": base.tooltip(
                        base.escaped(label),
                        f"{fmt.percent(100 * share)} of {column.lower()}' comments",
                    ),
                }
            )
    option = base.option(
        grid={"left": 12, "right": 24, "top": 12, "bottom": 12, "containLabel": True},
        xAxis=base.category_axis(
            columns, position="top", axisTick={"show": False}, splitArea={"show": False}
        ),
        yAxis=base.category_axis(labels, inverse=True, axisTick={"show": False}),
        visualMap={
            "show": False,
            "type": "continuous",
            "min": 0,
            "max": highest if highest > 0 else 1.0,
            "dimension": 2,
            "inRange": {"color": list(BLUES)},
        },
        series=[
            {
                "type": "heatmap",
                "name": "Share of the group's comments",
                "data": cells,
                "label": {"show": True},
                "itemStyle": {"borderColor": "#ffffff", "borderWidth": 1},
            }
        ],
    )
    return Chart(option, height=max(base.HEIGHT, 40 * len(labels) + 80))


def sentiment_chart(trend: pl.DataFrame) -> Chart:
    """Mean sentiment of the comments (bars, red when negative, left axis from -1 to 1) and
    NPS (line, right axis from -100 to 100), per period. A hidden value has no bar or point."""
    periods = [str(p) for p in trend["period"].to_list()]
    bars: list[Any] = []
    points: list[Any] = []
    for period, sentiment, nps in zip(
        periods, trend["sentiment"].to_list(), trend["nps"].to_list(), strict=True
    ):
        name = base.escaped(period)
        bars.append(
            None
            if sentiment is None
            else {
                "value": sentiment,
                "itemStyle": {"color": NEGATIVE_COLOUR if sentiment < 0 else PALETTE[0]},
                "tooltip": base.tooltip(name, f"Mean sentiment: {sentiment:.2f}"),
            }
        )
        points.append(
            None
            if nps is None
            else {"value": nps, "tooltip": base.tooltip(name, f"NPS: {fmt.score(nps)}")}
        )
    left = base.value_axis("Mean sentiment", min=-1, max=1, interval=0.5)
    right = base.value_axis("NPS", min=-100, max=100, interval=50, splitLine={"show": False})
    right["nameTextStyle"] = {"align": "right"}
    option = base.option(
        legend=base.legend(),
        grid={"left": 12, "right": 12, "top": 56, "bottom": 12, "containLabel": True},
        xAxis=base.category_axis(periods),
        yAxis=[left, right],
        series=[
            {
                "type": "bar",
                "name": "Mean sentiment (−1 to 1)",
                "data": bars,
                "itemStyle": {"color": PALETTE[0]},
                "barMaxWidth": 40,
            },
            {
                "type": "line",
                "name": "NPS",
                "yAxisIndex": 1,
                "data": points,
                "connectNulls": False,
                "symbol": "circle",
                "symbolSize": 6,
                "itemStyle": {"color": NPS_COLOUR},
                "lineStyle": {"color": NPS_COLOUR},
            },
        ],
    )
    return Chart(option)


def driver_quadrant(table: pl.DataFrame, labels: list[str]) -> Chart:
    """Importance (share of the explained variance) against performance (0-1), one marker
    per driver coloured by its quadrant, the drivers' averages as the quadrant lines (dotted).
    A driver without a performance (a category) has no quadrant and no marker."""
    widest = max(table.select(pl.col("importance").max()).item() or 0.0, 0.01)
    quadrants = table["quadrant"].to_list()
    places = _label_places(table, labels, widest)
    series: list[dict[str, Any]] = []
    for quadrant, colour in QUADRANT_COLOURS.items():
        rows = [i for i, q in enumerate(quadrants) if q == quadrant]
        if not rows:
            continue
        points = []
        for i in rows:
            importance, performance = table["importance"][i], table["performance"][i]
            label = base.escaped(labels[i])
            points.append(
                {
                    "name": labels[i],
                    "value": [100 * importance, 100 * performance],
                    "label": places[i],
                    "tooltip": base.tooltip(
                        label,
                        f"Importance {importance:.0%}, performance {performance:.0%}",
                    ),
                }
            )
        series.append(
            {
                "type": "scatter",
                "name": quadrant.capitalize(),
                "data": points,
                "symbolSize": 14,
                "itemStyle": {"color": colour},
                "label": {"show": True, "formatter": "{b}", "color": TEXT_COLOUR},
            }
        )
    mean_importance = table["importance"].mean()
    mean_performance = table["performance"].mean()
    lines = [{"xAxis": 100 * v} for v in [mean_importance] if isinstance(v, float)] + [
        {"yAxis": 100 * v} for v in [mean_performance] if isinstance(v, float)
    ]
    if series and lines:
        series[0]["markLine"] = {
            "silent": True,
            "symbol": "none",
            "label": {"show": False},
            "lineStyle": {"color": QUADRANT_LINE_COLOUR, "type": "dotted", "width": 1.5},
            "data": lines,
        }
    option = base.option(
        legend=base.legend(),
        grid={"left": 24, "right": 24, "top": 40, "bottom": 36, "containLabel": True},
        xAxis=base.value_axis(
            unit="percent",
            min=round(-3 * widest, 4),
            max=round(108 * widest, 4),
            axisLabel={**base.axis_label("percent"), "showMinLabel": False, "showMaxLabel": False},
        )
        | {
            "name": "Importance (share of what the drivers explain)",
            "nameLocation": "middle",
            "nameGap": 28,
        },
        yAxis=base.value_axis(unit="percent", scale=True)
        | {
            "name": "Performance (0 = worst possible, 100% = best)",
            "nameLocation": "middle",
            "nameGap": 44,
            "nameRotate": 90,
        },
        series=series,
    )
    return Chart(option, height=440)


def _label_places(table: pl.DataFrame, labels: list[str], widest: float) -> list[dict[str, Any]]:
    """Each driver's label, placed where it covers no other marker or label: beside its
    marker, pointing inwards (so that those at the edges stay inside the plot), else above
    it or below it, running inwards. The boxes are estimates in pixels of a typical plot
    (880 x 340, 6.5 px a character); the most important drivers choose first."""
    rows = list(table.select("importance", "performance", "quadrant").iter_rows())
    heights = [y for _, y, q in rows if q is not None and y is not None]
    low, high = min(heights, default=0.0), max(heights, default=1.0)
    bottom, span = low - 0.05, max(high - low + 0.1, 0.1)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x + 0.03 * widest) / (1.11 * widest) * 880, (y - bottom) / span * 340

    marks = [at(x, y) for x, y, q in rows if q is not None and y is not None]
    taken = [(px - 7, py - 7, px + 7, py + 7) for px, py in marks]
    places: list[dict[str, Any]] = []
    for (x, y, quadrant), label in zip(rows, labels, strict=True):
        leftwards = x > widest / 2
        side = "left" if leftwards else "right"
        if quadrant is None or y is None:
            places.append({"position": side})
            continue
        px, py = at(x, y)
        width, sign = 6.5 * len(label), -1 if leftwards else 1
        align = "right" if leftwards else "left"  # the text runs inwards from the marker
        beside = (px + sign * 12, py - 7, px + sign * (12 + width), py + 7)
        above = (px, py + 11, px + sign * width, py + 25)
        below = (px, py - 25, px + sign * width, py - 11)
        options: list[tuple[dict[str, Any], Box]] = [
            ({"position": side}, beside),
            ({"position": "top", "align": align, "distance": 4}, above),
            ({"position": "bottom", "align": align, "distance": 4}, below),
        ]
        own = (px - 7, py - 7, px + 7, py + 7)
        place, box = next(
            (
                (place, box)
                for place, box in options
                if not any(_overlap(box, other) for other in taken if other != own)
            ),
            options[0],
        )
        places.append(place)
        taken.append(box)
    return places


def _overlap(one: Box, two: Box) -> bool:
    """Whether two boxes (x0, y0, x1, y1, either corner first) overlap."""
    a0, a1 = sorted((one[0], one[2]))
    b0, b1 = sorted((two[0], two[2]))
    c0, c1 = sorted((one[1], one[3]))
    d0, d1 = sorted((two[1], two[3]))
    return a0 < b1 and b0 < a1 and c0 < d1 and d0 < c1
