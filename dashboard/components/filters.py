"""The sidebar filters: one `Filters` value for every page, bound to the URL.

Each widget's key is its query parameter (`from`, `to`, `region`, ...), so a copied link reopens
the same view. Streamlit silently drops link values a widget cannot take; we read the link
first and say what was dropped, so nobody is shown a different view without knowing.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics.filters import DIMENSIONS, END_PARAM, START_PARAM, Filters
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard import format as fmt

_NOTICES = "filter_notices"
_CHECKED = "filter_link_checked"
_BOUNDS = "filter_data_bounds"


def sidebar(wh: Warehouse) -> Filters:
    """Draw the filters in the sidebar and return what they select."""
    bounds = data.bounds(wh)
    if bounds is None:
        return Filters()
    known = data.known_values(wh)
    _check_link(known, bounds)
    _follow_new_data(bounds)
    with st.sidebar:
        st.subheader("Filters")
        for notice in st.session_state.get(_NOTICES, []):
            st.warning(fmt.plain_text(notice), icon=":material/link_off:")
        start = st.date_input(
            "From",
            value=bounds[0],
            key=START_PARAM,
            bind="query-params",
            format="YYYY-MM-DD",
            on_change=_clear_notices,
            persist_state="session",
        )
        end = st.date_input(
            "To",
            value=bounds[1],
            key=END_PARAM,
            bind="query-params",
            format="YYYY-MM-DD",
            on_change=_clear_notices,
            persist_state="session",
        )
        chosen: dict[str, tuple[str, ...]] = {}
        for key, dimension in DIMENSIONS.items():
            if not known.get(key):
                continue
            values = st.multiselect(
                dimension.label,
                known[key],
                key=key,
                bind="query-params",
                placeholder="All",
                on_change=_clear_notices,
                persist_state="session",
            )
            chosen[key] = tuple(values)
        if any(chosen.values()) or (start, end) != bounds:
            st.button(
                "Clear filters", icon=":material/filter_alt_off:", on_click=_reset, args=(bounds,)
            )
    if not isinstance(start, date) or not isinstance(end, date) or start > end:
        st.sidebar.error("The date range ends before it starts; showing all dates.")
        start, end = bounds
    return Filters(start=start, end=end, **chosen)


def _check_link(known: dict[str, list[str]], bounds: tuple[date, date]) -> None:
    """On a session's first run, note every link value the filters are about to drop."""
    if st.session_state.get(_CHECKED):
        return
    st.session_state[_CHECKED] = True
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    _, notices = Filters.from_query(params, known)
    st.session_state[_NOTICES] = notices


def _follow_new_data(bounds: tuple[date, date]) -> None:
    """After a load widens the data, an end (or start) left at the old edge moves with it:
    "up to the latest day" stays the latest day. A date the reader chose stays put."""
    seen = st.session_state.get(_BOUNDS)
    st.session_state[_BOUNDS] = bounds
    if seen is None or seen == bounds:
        return
    for key, old, new in ((START_PARAM, seen[0], bounds[0]), (END_PARAM, seen[1], bounds[1])):
        if st.session_state.get(key) == old:
            st.session_state[key] = new


def _clear_notices() -> None:
    st.session_state[_NOTICES] = []


def _reset(bounds: tuple[date, date]) -> None:
    st.session_state[START_PARAM], st.session_state[END_PARAM] = bounds
    for key in DIMENSIONS:
        if key in st.session_state:
            st.session_state[key] = []
    _clear_notices()
