"""What a page shows before any data is loaded."""

from __future__ import annotations

import streamlit as st

from analytics.warehouse import Warehouse
from dashboard import data


def empty_state() -> None:
    st.info(
        "No data is loaded yet. Upload your customer, order and survey exports on the Data page "
        "and the numbers appear here.",
        icon=":material/upload_file:",
    )
    st.page_link("views/data.py", label="Go to the Data page", icon=":material/arrow_forward:")


def stop_unless_data(wh: Warehouse) -> None:
    """End the page with the empty state when there is nothing to compute KPIs from."""
    if wh.is_empty() or data.bounds(wh) is None:
        empty_state()
        st.stop()
