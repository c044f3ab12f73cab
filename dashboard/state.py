"""What the current browser session is looking at: the filters, shared by every page."""

from __future__ import annotations

import streamlit as st

from analytics.filters import Filters

_FILTERS = "current_filters"


def set_filters(filters: Filters) -> None:
    st.session_state[_FILTERS] = filters


def filters() -> Filters:
    """The sidebar's filters for this run (everything when none are drawn)."""
    value = st.session_state.get(_FILTERS)
    return value if isinstance(value, Filters) else Filters()
