"""Touchpoint's entry point: page setup, first-start sample data and navigation.

Run with `streamlit run dashboard/app.py` (or `make run`). Pages live in `dashboard/views/` and
are registered here with `st.navigation`. The folder must not be called `pages/`: Streamlit then
starts in its legacy multipage mode, where a deep link such as `/data` runs the page file alone,
without this entry point (no settings check, no wide layout, no navigation).
"""

from __future__ import annotations

import streamlit as st

from analytics.errors import TouchpointError
from dashboard import data
from dashboard import format as fmt
from dashboard.components import sample


def run() -> None:
    st.set_page_config(
        page_title="Touchpoint",
        page_icon=":material/insights:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    try:
        config = data.settings()
    except TouchpointError as exc:
        st.error(fmt.plain_text(str(exc)))
        st.stop()
    warehouse = data.warehouse(config)
    sample.load_sample_if_empty(config, warehouse)

    overview = st.Page(
        "views/overview.py",
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    )
    data_page = st.Page(
        "views/data.py", title="Data", icon=":material/upload_file:", url_path="data"
    )
    page = st.navigation({"Explore": [overview], "Manage": [data_page]})
    sample.show_notice()
    page.run()


run()
