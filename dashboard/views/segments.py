"""Segments: who our groups are (RFM segments or behavioural clusters), what each is worth,
how customers move between them and who is slipping away. A segment drills to its customers
and Customer 360.

In the URL: `method` (rfm or cluster); a selected row sets the sidebar filter `segment` (or
`cluster`), which narrows every page; the open tab (`stab`); the migration tab's
`before`/`after` quarters."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import streamlit as st

from analytics import segments
from dashboard import data, state
from dashboard import format as fmt
from dashboard.charts import segments as charts
from dashboard.components import charts as draw
from dashboard.components import drill, empty, url
from dashboard.components import segments as parts

METHODS = {"rfm": "RFM segments", "cluster": "Behavioural clusters"}

warehouse = data.warehouse(data.settings())
filters = state.filters()
st.title("Segments")
empty.stop_unless_data(warehouse)
segmentation = empty.built_or_stop(
    lambda: data.segmentation(warehouse),
    parts.BUILDING,
    "Segmenting…",
    earlier=lambda: data.earlier_segmentation(warehouse),
    shown="These are the segments",
)
value = data.value_settings()

method = url.choice(
    st.segmented_control,
    "Segment by",
    list(METHODS),
    key="method",
    default="rfm",
    format_func=METHODS.__getitem__,
)
horizon = f"the next {fmt.count(value.horizon_days)} days"
st.caption(
    f"As of {fmt.day(segmentation.as_of)}, the end of the data. "
    + (
        "RFM scores recency, frequency and monetary value 1–5 by quintiles, and one rule "
        "table (docs/segments.md) names the segments."
        if method == "rfm"
        else "Clusters group customers by how they buy (recency, rate, spend, tenure, "
        "discounts, P(alive)); names come from each cluster's profile."
    )
    + f" CLV is the expected value over {horizon}, discounted at "
    f"{value.annual_discount:.0%} a year, with its 95% interval on each segment's total."
)
# The table shows every segment of the method; the one selected narrows the rest of the app.
dimension = "segment" if method == "rfm" else "cluster"
others = replace(filters, **{dimension: ()})
summary = data.segment_summary(warehouse, value, others, method)
trend = data.segment_trend(warehouse, value, others) if method == "rfm" else None
parts.summary_table(summary, trend, drill.chart_key(f"segments_{method}"), dimension)
note = fmt.hidden_note(summary["hidden"].to_list())
if note:
    st.caption(note)
picked = getattr(filters, dimension)
names = summary["segment"].to_list()
colours = charts.segment_colours(names)
can_export = state.account().can("export_customers")
if len(picked) == 1 and picked[0] in names:
    segment = picked[0]
    st.subheader(segment)
    st.caption("Every page now shows this segment only (the sidebar's filter).")
    parts.show_all(dimension)
    people = data.segment_members(warehouse, value, segment, others, method)
    parts.customer_list(people, segment, can_export=can_export)

# Only the open tab runs and is drawn (choosing another reruns the page): the projection,
# the Sankey and the grid are not built for a tab nobody looks at.
profile, moves, grid, calls, check = st.tabs(
    ["Profiles", "Migration", "RFM grid", "Who to call", "Model check"],
    key="stab",
    bind="query-params",
)
with profile:
    if profile.open:
        points = data.segment_projection(warehouse, value, filters)
        cluster_colours = charts.segment_colours([c["name"] for c in segmentation.clusters])
        sizes = data.segment_summary(warehouse, value, filters, "cluster")
        parts.profiles(segmentation, sizes, points, cluster_colours)
with moves:
    if moves.open:
        quarters = data.quarter_labels(warehouse, value)
        if len(quarters) < 2:
            st.info("Migration needs two quarters of orders.")
        else:
            left, right = st.columns(2)
            after = url.choice(
                right.selectbox,
                "To the end of",
                quarters[1:][::-1],
                key="after",
                default=quarters[-1],
            )
            before_options = [q for q in quarters if q < after][::-1]
            before = url.choice(
                left.selectbox,
                "From the end of",
                before_options,
                key="before",
                default=before_options[0],
            )
            table = data.segment_migration(warehouse, value, before, after, filters)
            flow = parts.migration_view(
                table, charts.segment_colours(list(segments.SEGMENT_ORDER)), before, after
            )
            if flow:
                moved = table.filter(
                    (pl.col("from_segment") == flow[0]) & (pl.col("to_segment") == flow[1])
                )
                count = moved["customers"][0] if moved.height else None
                st.subheader(f"{fmt.count(count or 0)} {flow[0]} customers became {flow[1]}")
                people = data.flow_members(
                    warehouse, value, before, after, flow[0], flow[1], filters
                )
                parts.customer_list(people, f"{flow[0]}-{flow[1]}", can_export=can_export)
with grid:
    if grid.open:
        st.caption(
            "Buyers by recency score (5: most recent) and frequency score (5: most orders). "
            "Select a cell to list its customers."
        )
        cell = draw.clicks(
            charts.rfm_grid_heatmap(data.rfm_grid(warehouse, value, filters)),
            key=drill.chart_key("rfm_grid"),
        )
        if cell:
            r, f = int(cell[0]), int(cell[1])
            st.subheader(f"Recency {r} · frequency {f}")
            people = data.grid_members(warehouse, value, r, f, filters)
            parts.customer_list(people, f"rfm-{r}-{f}", can_export=can_export)
with calls:
    if calls.open:
        st.caption(
            "Customers whose chance of still buying (P(alive)) fell over the last month, ranked "
            f"by value at risk: what they would be worth over {horizon} if still buying, times "
            "the chance that they have stopped."
        )
        parts.customer_list(
            data.fading_customers(warehouse, value, filters),
            "fading",
            can_export=can_export,
            order="highest value at risk",
        )
with check:
    if check.open:
        parts.model_check(segmentation, limited=bool(state.account().limits))
