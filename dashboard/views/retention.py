"""Retention: cohort heat maps (customers and revenue), compared side by side, and the
retention and churn trends. A cell drills to the customers behind it."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from analytics.kpis import KPI_BY_KEY
from dashboard import data, state
from dashboard import format as fmt
from dashboard.charts import cohorts as cohort_charts
from dashboard.charts import kpis as kpi_charts
from dashboard.components import charts as draw
from dashboard.components import drill, empty, url

GRAINS = {"month": "Month", "quarter": "Quarter"}
MEASURES = {"customers": "Customers", "revenue": "Revenue"}
COMPARE = {
    "none": "Nothing",
    "acquisition_channel": "Acquisition channel",
    "region": "Region",
    "segment": "RFM segment",
    "cluster": "Cluster",
}
MAX_SIDE_BY_SIDE = 4

warehouse = data.warehouse(data.settings())
filters = state.filters()
st.title("Retention")
empty.stop_unless_data(warehouse)

left, middle, right = st.columns(3)
grain = url.choice(
    left.segmented_control,
    "Cohorts by",
    list(GRAINS),
    key="grain",
    default="month",
    format_func=GRAINS.__getitem__,
)
measure = url.choice(
    middle.segmented_control,
    "Measure",
    list(MEASURES),
    key="measure",
    default="customers",
    format_func=MEASURES.__getitem__,
)
compare = url.choice(
    right.selectbox,
    "Compare by",
    list(COMPARE),
    key="compare",
    default="none",
    format_func=COMPARE.__getitem__,
)
by = None if compare == "none" else compare
st.caption(
    "Customers are grouped by the period of their first completed order. "
    + (
        "Each cell is the share of the cohort that ordered again in that period."
        if measure == "customers"
        else "Each cell is the cohort's revenue in that period as a share of its first period's."
    )
)

table = data.cohort_table(warehouse, filters, grain, measure, by)
if table.height == 0:
    st.info("No completed orders in the chosen filters.")
    st.stop()
groups = table["group"].unique(maintain_order=True).to_list()
if by and len(groups) > MAX_SIDE_BY_SIDE:
    largest = (
        table.filter(pl.col("period_index") == 0)
        .group_by("group")
        .agg(pl.col("size").sum())
        .sort("size", descending=True)["group"]
        .to_list()[:MAX_SIDE_BY_SIDE]
    )
    st.caption(f"The {MAX_SIDE_BY_SIDE} largest of {len(groups)} groups, side by side.")
    groups = largest
cell: list[str] | None = None
cell_group: str | None = None
slots = [c for _ in range(0, len(groups), 2) for c in st.columns(2)] if by else [st.container()]
for column, group in zip(slots, groups, strict=False):
    part = table.filter(pl.col("group") == group) if by else table
    if by:
        column.markdown(f"**{fmt.plain_text(str(group))}**")
    picked = draw.clicks(
        cohort_charts.cohort_heatmap(part, measure, grain, compact=by is not None),
        key=drill.chart_key(f"cohorts_{group}"),
        where=column,
    )
    if picked:
        cell, cell_group = picked, group

note = fmt.hidden_note(table["hidden"].to_list())
if note:
    st.caption(f"{note} They show in grey.")

if cell:
    cohort_start, k = date.fromisoformat(cell[0]), int(cell[1])
    row = table.filter(
        (pl.col("cohort_start") == cohort_start)
        & (pl.col("period_index") == k)
        & ((pl.col("group") == cell_group) if by else pl.lit(True))
    )
    label = table.filter(pl.col("cohort_start") == cohort_start)["cohort"][0]
    where = f" · {cell_group}" if by else ""
    st.subheader(f"Cohort {label}{where}, {grain} {k}")
    hidden = row["hidden"][0] if row.height else None
    people = (
        data.cohort_customers(warehouse, filters, grain, cohort_start, k, by, cell_group)
        if not hidden
        else None
    )
    if people is None:
        st.caption(f"No customer list: {hidden}.")
    elif people.height == 0:
        st.caption(f"No customers to list for that {grain} (none, or too few to show).")
    else:
        st.caption(f"{fmt.rows(people.height, 'customer')} with a completed order in that {grain}.")
        chosen = st.dataframe(
            people,
            key=drill.chart_key("cohort_people"),
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            column_config={
                "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
                "customer_id": "Customer",
                "name": "Name",
                "segment": "RFM segment",
                "first_order": st.column_config.DateColumn("First order"),
            },
        )
        if chosen and chosen["selection"]["rows"]:
            customer = people["customer_id"][chosen["selection"]["rows"][0]]
            st.switch_page("views/customer.py", query_params={"customer": customer})

st.subheader("Retention and churn")
one, two = st.columns(2)
for column, key in ((one, "retention_rate"), (two, "churn_rate")):
    item = KPI_BY_KEY[key]
    trend = data.trend(warehouse, (key,), filters, grain, None)
    column.markdown(f"**{item.label}** · {item.definition}")
    draw.show(kpi_charts.trend_figure(trend, item, grouped=False), key=f"trend_{key}", where=column)
