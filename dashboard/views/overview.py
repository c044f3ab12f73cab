"""Overview: the headline numbers across everything loaded, and how fresh they are."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard import format as fmt
from dashboard.components import headline

warehouse = data.warehouse(data.settings())

st.title("Overview")
if warehouse.is_empty():
    headline.empty_state()
else:
    st.caption(fmt.freshness(data.last_loaded(warehouse)))
    headline.cards(data.headline(warehouse))
