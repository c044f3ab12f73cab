"""KPIs: any KPI over time with its interval, broken down, and drilled to the customers.

Drill path, all in the URL: `kpi`/`grain`/`by` (the trend) -> `at` (a clicked period, shown
broken down by `split`) -> `group` (a clicked bar) -> the customers behind it -> Customer 360.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS
from analytics.kpis import KPI_BY_KEY, KPIS
from analytics.periods import parse_period
from dashboard import data, state
from dashboard import format as fmt
from dashboard.charts import kpis as charts
from dashboard.components import charts as draw
from dashboard.components import downloads, drill, empty, url

GRAINS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}
NO_BREAKDOWN = "none"

warehouse = data.warehouse(data.settings())
filters = state.filters()
st.title("KPIs")
empty.stop_unless_data(warehouse)

left, middle, right = st.columns([2, 3, 2])
key = url.choice(
    left.selectbox,
    "KPI",
    [k.key for k in KPIS],
    key="kpi",
    default="revenue",
    format_func=lambda k: KPI_BY_KEY[k].label,
)
item = KPI_BY_KEY[key]
grain = url.choice(
    middle.segmented_control,
    "Period",
    list(GRAINS),
    key="grain",
    default="month",
    format_func=GRAINS.__getitem__,
)
dimensions = [d for d in DIMENSIONS.values() if all(d.applies_to(n) for n in item.datasets)]
by_choice = url.choice(
    right.selectbox,
    "Break down by",
    [NO_BREAKDOWN] + [d.key for d in dimensions],
    key="by",
    default=NO_BREAKDOWN,
    format_func=lambda k: "Nothing" if k == NO_BREAKDOWN else DIMENSIONS[k].label,
)
by = None if by_choice == NO_BREAKDOWN else by_choice
st.caption(item.definition)
ignored = [label for name in item.datasets for label in filters.ignored_by(name)]
if ignored:
    st.caption(f"Not narrowed by {', '.join(ignored).lower()}: {item.label} has no such column.")

table = data.trend(warehouse, (key,), filters, grain, by)
at, group, split = drill.param("at"), drill.param("group"), drill.param("split") or by
trail: list[tuple[str, dict[str, str | None]]] = [
    (f"{item.label} by {grain}", {"at": None, "group": None, "split": None})
]
if at:
    trail.append((at, {"group": None}))
if at and group:
    trail.append((group, {}))
if at:
    drill.breadcrumb(trail)

point = draw.clicks(
    charts.trend_figure(table, item, grouped=by is not None, selected=at),
    key=drill.chart_key("trend"),
)
note = fmt.hidden_note(table["hidden"].to_list())
if note:
    st.caption(note)
if point and point[0] != at:
    drill.go_to(at=point[0], group=point[1] or None, split=by if point[1] else None)
    st.rerun()

if by and not at and table.height:
    latest = table["period"].max()
    st.subheader(f"{item.label} in {latest} by {fmt.in_sentence(DIMENSIONS[by].label)}")
    st.caption("Click a bar (or a point above) to see the customers behind it.")
    picked = draw.clicks(
        charts.breakdown_figure(
            table.filter(pl.col("period") == latest), item, DIMENSIONS[by].label
        ),
        key=drill.chart_key("latest"),
    )
    if picked:
        drill.go_to(at=picked[0], group=picked[1], split=by)
        st.rerun()

if at:
    try:
        period = parse_period(at, grain)
    except ConfigError:
        st.warning(f"{fmt.plain_text(at)} is not a {grain}; pick a point on the chart.")
        st.stop()
    st.subheader(f"{item.label} in {at}" + (f" · {group}" if group else ""))
    if not split:
        split = st.selectbox(
            "Break the period down by",
            [d.key for d in dimensions],
            format_func=lambda k: DIMENSIONS[k].label,
            key="split_choice",
        )
    assert split is not None
    parts = data.trend(warehouse, (key,), filters, grain, split).filter(pl.col("period") == at)
    picked = draw.clicks(
        charts.breakdown_figure(parts, item, DIMENSIONS[split].label, selected=group),
        key=drill.chart_key("breakdown"),
    )
    if picked and picked[1] != group:
        drill.go_to(group=picked[1], split=split)
        st.rerun()
    search = st.text_input("Find a customer", placeholder="Customer id or name", key="who")
    result = data.kpi_customers(
        warehouse, key, filters, grain, period, split if group else None, group, search
    )
    origin = {"kpi": key, "grain": grain, "at": at} | (
        {"group": group, "split": split} if group else {}
    )
    drill.customer_table(result, drill.chart_key("customers"), origin=origin)

# Drawn only when opened (a closed expander's table would still load the grid's script).
numbers = st.expander("The numbers behind the chart", key="kpi_numbers", on_change="rerun")
if numbers.open:
    with numbers:
        shown = table.select(
            "period",
            "group",
            "value",
            "n",
            "ci_low",
            "ci_high",
            "previous",
            "delta",
            "delta_significant",
            "year_ago",
            "yoy_delta",
            "yoy_significant",
            "hidden",
        )
        if by is None:
            shown = shown.drop("group")
        downloads.table(shown, f"touchpoint-{key}-by-{grain}", item.label)
