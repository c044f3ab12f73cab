"""Journey charts: pure functions, frame in, `Chart` out (no Streamlit here).

A funnel bar's payload is [group, stage] (the stage as stored, lower case), so a click tells
the page whose customers stopped where (`selection.picked`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from analytics.journeys import ALL
from dashboard import format as fmt
from dashboard.charts import base
from dashboard.charts.base import PALETTE, TEXT_COLOUR, Chart

LINK_MEASURES = {
    "conversion_step": "Went on from the touchpoint",
    "converted": "Purchase rate",
    "detractors": "Detractor share",
}
THIN_LINK = 0.01  # links of fewer journeys than this share are left out of the Sankey
LABELLED_GROUPS = 3  # bars carry their share of the entrants up to this many groups
NODE_COLOUR = "#5f6b7a"
NODE_TEXT = "#262730"
OUTLINE = {"borderColor": NODE_TEXT, "borderWidth": 2}  # the selected funnel bar
TICK_ICON = "path://M0,0H24V4H0Z"  # the legend's mark for the 90th percentile: a tick
# Bars of a stage side by side, touching; the pictorial ticks of `timing_chart` share them.
_BAR_GAPS = {"barGap": "0%", "barCategoryGap": "20%"}
_MEDIAN = "Median {:.1f} days from the previous stage"
_P90 = "90% within {:.1f} days"


def funnel_chart(table: pl.DataFrame, *, selected: Sequence[str] | None = None) -> Chart:
    """Customers reaching each stage, one bar group per stage and one colour per group; the
    bar's label is its share of the group's entrants (up to `LABELLED_GROUPS` groups). Each
    bar's payload is [group, stage] for drill-down; a hidden row has no bar (and no payload).
    The `selected` bar ([group, stage], the one whose customers are shown) is outlined."""
    stages = table["stage"].unique(maintain_order=True).to_list()
    groups = table["group"].unique(maintain_order=True).to_list()
    series: list[dict[str, Any]] = []
    drill: dict[int | tuple[int, str], list[list[str] | None]] = {}
    for index, group in enumerate(groups):
        rows = _by_stage(table, group)
        bars: list[Any] = []
        payloads: list[list[str] | None] = []
        for stage in stages:
            row = rows.get(stage)
            if row is None or row["customers"] is None:
                bars.append(None)
                payloads.append(None)
                continue
            share = _share(row["conversion_from_start"])
            payload = [str(group), str(stage)]
            bars.append(
                {
                    "value": row["customers"],
                    **({"itemStyle": OUTLINE} if selected and list(selected) == payload else {}),
                    "label": {"formatter": share} if share else {"show": False},
                    "tooltip": base.tooltip(
                        _title(stage, group),
                        f"{fmt.count(row['customers'])} customers reached {base.escaped(stage)}",
                        *([f"{share} of entrants"] if share else []),
                    ),
                }
            )
            payloads.append(payload)
        drill[index] = payloads
        series.append(
            {
                "type": "bar",
                "name": str(group),
                "data": bars,
                "itemStyle": {"color": PALETTE[index % len(PALETTE)]},
                "label": {
                    "show": len(groups) <= LABELLED_GROUPS,
                    "position": "top",
                    "fontSize": 12,
                    "color": TEXT_COLOUR,
                },
                "selectedMode": "single",
                **_BAR_GAPS,
            }
        )
    option = base.option(
        legend=base.legend(len(groups) > 1),
        xAxis=base.category_axis([s.capitalize() for s in stages]),
        yAxis=base.value_axis("Customers", minInterval=1),
        series=series,
    )
    return Chart(option, drill=drill)


def timing_chart(table: pl.DataFrame) -> Chart:
    """Days from reaching the previous stage to reaching each stage: the median as a bar,
    the 90th percentile as a tick above it, per group (one legend entry per group when
    groups are compared, else "Median" and "90th percentile")."""
    timed = table.filter(pl.col("step") > 1)
    stages = timed["stage"].unique(maintain_order=True).to_list()
    groups = table["group"].unique(maintain_order=True).to_list()
    several = len(groups) > 1
    series: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        rows = _by_stage(timed, group)
        colour = PALETTE[index % len(PALETTE)]
        median: list[Any] = []
        p90: list[Any] = []
        for stage in stages:
            row = rows.get(stage, {})
            title = _title(stage, group)
            median.append(_days(row.get("median_days_from_previous"), title, _MEDIAN))
            p90.append(_days(row.get("p90_days_from_previous"), title, _P90))
        # Compared groups: a group's bar and tick share its name, so the legend lists the groups
        # (as the funnel's does) and a click on one shows or hides both.
        series.append(
            {
                "type": "bar",
                "name": str(group) if several else "Median",
                "data": median,
                "itemStyle": {"color": colour},
                **_BAR_GAPS,
            }
        )
        # A pictorial bar is laid out as the bars are: the tick sits on its own group's bar.
        series.append(
            {
                "type": "pictorialBar",
                "name": str(group) if several else "90th percentile",
                "data": p90,
                "symbol": "rect",
                "symbolSize": ["100%", 3],
                "symbolPosition": "end",
                "itemStyle": {"color": colour},
                "z": 3,
                **_BAR_GAPS,
            }
        )
    names = None if several else ["Median", {"name": "90th percentile", "icon": TICK_ICON}]
    option = base.option(
        legend=base.legend() | ({"data": names} if names else {}),
        xAxis=base.category_axis([s.capitalize() for s in stages]),
        yAxis=base.value_axis("Days from the previous stage"),
        series=series,
    )
    return Chart(option, height=320)


def satisfaction_curve(stages: pl.DataFrame) -> Chart:
    """Mean NPS answer (0-10), mean CSAT (1-5) and mean comment sentiment (-1 to 1, labelled
    on its points) of the answers given at each stage; a stage without enough answers is a
    gap in the line."""
    names = [stage.capitalize() for stage in stages["stage"].to_list()]
    sentiment = "avg_sentiment" in stages.columns and stages["avg_sentiment"].is_not_null().any()

    def points(column: str, what: str, shown: str, label: bool) -> list[Any]:
        return [
            None
            if value is None
            else {
                "value": value,
                "tooltip": base.tooltip(base.escaped(name), f"{what}: {value:{shown}}"),
                **({"label": {"formatter": f"{value:{shown}}"}} if label else {}),
            }
            for name, value in zip(names, stages[column].to_list(), strict=True)
        ]

    line = {"type": "line", "connectNulls": False, "symbol": "circle", "symbolSize": 7}
    series: list[dict[str, Any]] = [
        {
            **line,
            "name": "Mean NPS answer (0–10)",
            "data": points("avg_nps", "Mean NPS answer", ".1f", True),
            "label": {"show": True, "position": "top", "color": TEXT_COLOUR},
            "itemStyle": {"color": PALETTE[0]},
            "lineStyle": {"color": PALETTE[0], "width": 3},
        },
        {
            **line,
            "name": "Mean CSAT (1–5)",
            "data": points("avg_csat", "Mean CSAT", ".2f", False),
            "yAxisIndex": 1,
            "itemStyle": {"color": PALETTE[1]},
            "lineStyle": {"color": PALETTE[1], "type": "dotted"},
        },
    ]
    if sentiment:
        series.append(
            {
                **line,
                "name": "Mean comment sentiment (−1 to 1)",
                "data": points("avg_sentiment", "Mean comment sentiment", "+.2f", True),
                "yAxisIndex": 2,
                "label": {"show": True, "position": "bottom", "color": TEXT_COLOUR},
                "itemStyle": {"color": PALETTE[2]},
                "lineStyle": {"color": PALETTE[2], "type": "dashed"},
            }
        )
    # The axes reach a little above 10 and 5 for the labels on the points, not for a tick.
    ticks = {**base.axis_label(None), "showMaxLabel": False}
    option = base.option(
        legend=base.legend(),
        xAxis=base.category_axis(names),
        yAxis=[
            base.value_axis("NPS answer", min=0, max=10.5, interval=2, axisLabel=ticks),
            {
                **base.value_axis(
                    min=1, max=5.2, interval=1, axisLabel=ticks, splitLine={"show": False}
                ),
                "name": "CSAT",
                "nameLocation": "end",
                "nameTextStyle": {"align": "right"},
                "position": "right",
            },
            {"type": "value", "min": -1.1, "max": 1.1, "show": False},
        ],
        series=series,
    )
    return Chart(option, height=280)


def paths_sankey(links: pl.DataFrame, measure: str) -> Chart:
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
    inflow = [0] * len(nodes)
    outflow = [0] * len(nodes)
    edges = []
    what = LINK_MEASURES[measure].lower()
    rows = links.select("step", "source", "target", "customers").iter_rows()
    for (step, source, target, customers), value in zip(rows, values, strict=True):
        start, end = nodes[(step, source)], nodes[(step + 1, target)]
        outflow[start] += customers
        inflow[end] += customers
        edges.append(
            {
                "source": start,
                "target": end,
                "value": customers,
                "lineStyle": {"color": _shade((value - low) / spread)},  # lightest: lowest
                "tooltip": base.tooltip(
                    f"{base.escaped(source)} → {base.escaped(target)}",
                    f"{fmt.count(customers)} customers, {what} {value:.0%}",
                ),
            }
        )
    data = [
        {
            "id": f"{step}:{name}",  # a touchpoint is one node per step it appears at
            "name": name,
            "depth": step - 1,
            "tooltip": base.tooltip(
                f"{base.escaped(name)} (step {step})",
                f"{fmt.count(max(inflow[i], outflow[i]))} customers",
            ),
        }
        for (step, name), i in nodes.items()
    ]
    steps = max((step for step, _ in nodes), default=2) - 1  # the last link's step
    option = base.option(
        series=[
            {
                "type": "sankey",
                "data": data,
                "links": edges,
                "left": 8,
                "right": 120,
                "top": 8,
                "bottom": 8,
                "nodeWidth": 12,
                "nodeGap": 14,
                "nodeAlign": "left",
                "draggable": False,
                "itemStyle": {"color": NODE_COLOUR, "borderWidth": 0},
                "lineStyle": {"opacity": 1, "curveness": 0.5},
                # The label is the node's name, not its id (a sankey's default).
                # Haloed, to stay legible where a label lies across the links.
                "label": {
                    "color": NODE_TEXT,
                    "fontSize": 13,
                    "formatter": "{b}",
                    "textBorderColor": "rgba(255, 255, 255, 0.85)",
                    "textBorderWidth": 3,
                },
                "emphasis": {"focus": "adjacency", "lineStyle": {"opacity": 1}},
            }
        ]
    )
    return Chart(option, height=max(420, 60 * steps + 300))


def _by_stage(table: pl.DataFrame, group: str) -> dict[str, dict[str, Any]]:
    """The group's rows by stage."""
    rows = table.filter(pl.col("group") == group).iter_rows(named=True)
    return {row["stage"]: row for row in rows}


def _days(days: float | None, title: str, said: str) -> dict[str, Any] | None:
    """A timing mark: the days, with `said` (a format of them) in its tooltip; None for none."""
    if days is None:
        return None
    return {"value": days, "tooltip": base.tooltip(title, said.format(days))}


def _title(stage: str, group: str) -> str:
    """A tooltip's first line: the stage, and the group when groups are compared."""
    title = base.escaped(stage.capitalize())
    return title if group == ALL else f"{title} · {base.escaped(group)}"


def _share(value: float | None) -> str | None:
    return None if value is None else f"{value:.0%}"


def _shade(share: float) -> str:
    """A blue from light (0) to dark (1)."""
    share = min(max(share, 0.0), 1.0)
    light, dark = (198, 219, 239), (8, 48, 107)
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(light, dark, strict=True))
    return f"rgba({red}, {green}, {blue}, 0.75)"
