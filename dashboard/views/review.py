"""Quarterly review: the quarter's story in reading order (the changes that matter, the
scorecard, each significant change with its chart, where it moved, what detractors and
tickets say, segment migration, journey pain points, customers at risk), presentation
mode for the meeting room, and the files to take away (HTML, PDF, PowerPoint).

In the URL: `quarter`; `present=1` and `slide` (from 1) in presentation mode."""

from __future__ import annotations

import streamlit as st

from analytics.review import story as review_story
from dashboard import data, state
from dashboard.components import empty, url
from dashboard.components import review as view

BUILDING = (
    "Preparing the segments, journeys and themes of the current data: the review reads "
    "them all. This page fills in by itself when they are ready."
)

warehouse = data.warehouse(data.settings())
presenting = view.presenting()
if not presenting:
    st.title("Quarterly review")
empty.stop_unless_data(warehouse)
# While the builds of a load that added rows are made: the review of the data before it.
pins = empty.built_or_stop(
    lambda: None if data.derived_pending(warehouse) else (),
    BUILDING,
    "Preparing…",
    earlier=lambda: data.earlier_review(warehouse),
    shown="This is the review",
)
quarters = data.review_quarters(warehouse, pins)
if presenting:
    quarter = st.query_params.get("quarter") or quarters[0]
    quarter = quarter if quarter in quarters else quarters[0]
else:
    left, _, right = st.columns([2, 3, 2], vertical_alignment="bottom")
    quarter = url.choice(
        left.selectbox, "Quarter", quarters, key="quarter", default=quarters[0],
        help="Compared with the quarter before and the same quarter a year before.",
    )  # fmt: skip
    if right.button("Present", icon=":material/slideshow:", type="primary", width="stretch"):
        view.start_presenting()
        st.rerun()

# The quarter sets the dates: the sidebar's date range does not apply here.
filters = state.filters().with_range(None, None)
found = data.quarterly_review(warehouse, quarter, filters, data.review_builds(warehouse), pins)
parts = review_story.sections(found)
if presenting:
    view.presentation(found, parts)
    st.stop()

st.caption(
    f"{review_story.subtitle(found)}. Computed from data versions "
    f"{review_story.versions_text(found)}; the file's last page says how to reproduce it."
    " The sidebar's date range does not apply: the quarter sets the dates."
)
for note in found.left_out:
    st.info(f"Left out: {note}.", icon=":material/info:")
with st.expander("Take it away: HTML, PDF or PowerPoint", icon=":material/download:"):
    view.files(found)
for part in parts:
    view.section(found, part)
