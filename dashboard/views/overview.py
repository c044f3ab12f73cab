"""Overview: the scorecard of headline KPIs for one period, and how fresh the data is."""

from __future__ import annotations

import streamlit as st

from analytics.periods import parse_period, period_label, periods_between
from dashboard import data, state
from dashboard import format as fmt
from dashboard.components import empty, scorecard, url

GRAINS = {"month": "Month", "quarter": "Quarter", "year": "Year"}

warehouse = data.warehouse(data.settings())
filters = state.filters()

st.title("Overview")
empty.stop_unless_data(warehouse)
st.caption(fmt.freshness(data.last_loaded(warehouse)))

left, right = st.columns([1, 2])
grain = url.choice(
    left.segmented_control,
    "Period",
    list(GRAINS),
    key="grain",
    default="quarter",
    format_func=GRAINS.__getitem__,
)
assert filters.start is not None and filters.end is not None
labels = [period_label(p, grain) for p in periods_between(filters.start, filters.end, grain)]
chosen = right.selectbox(
    "Showing",
    list(reversed(labels)),
    key="period",
    bind="query-params",
    help="The scorecard compares this period with the one before it.",
)
table = data.scorecard(warehouse, filters, grain, parse_period(chosen, grain))
st.caption(
    f"{chosen} against the previous {grain}. A change in grey is not statistically "
    "significant (two-sided test at 5%); totals are counts of everything that happened, so "
    "their changes are not tested."
)
scorecard.cards(table, filters, grain)
