"""What a page shows before any data is loaded."""

from __future__ import annotations

import streamlit as st


def empty_state() -> None:
    st.info(
        "No data is loaded yet. Upload your customer, order and survey exports on the Data page "
        "and the numbers appear here.",
        icon=":material/upload_file:",
    )
    st.page_link("views/data.py", label="Go to the Data page", icon=":material/arrow_forward:")
