"""Touchpoint's entry point: page setup, sign-in, first-start sample data, filters and
navigation.

Run with `streamlit run dashboard/app.py` (or `make run`). Pages live in `dashboard/views/` and
are registered here with `st.navigation`. The folder must not be called `pages/`: Streamlit then
starts in its legacy multipage mode, where a deep link such as `/data` runs the page file alone,
without this entry point (no settings check, no wide layout, no navigation).
"""

from __future__ import annotations

import streamlit as st

from analytics.errors import TouchpointError
from analytics.warehouse import check_engine
from dashboard import data, navigation, state
from dashboard import format as fmt
from dashboard.components import filters, sample, signin


def run() -> None:
    st.set_page_config(
        page_title="Touchpoint",
        page_icon=":material/insights:",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    try:
        config = data.settings()
        # Spark asked for, but not there (or unable to read the warehouse's store)
        check_engine(config.engine, config.spark_master, config.warehouse_location)
        account = signin.current_account(config)  # a damaged accounts file stops here too
    except TouchpointError as exc:
        st.error(fmt.plain_text(str(exc)))
        st.stop()
    if account is None:
        # Nothing else is registered: every other URL leads here until sign-in.
        st.navigation(
            [st.Page(lambda: signin.page(config), title="Sign in", url_path=navigation.SIGN_IN)]
        ).run()
        return
    state.set_account(account)
    warehouse = data.warehouse(config)
    sample.load_sample_if_empty(config, warehouse)
    data.prepare_derived(warehouse)

    def page(spec: navigation.Page, **kwargs: bool) -> st.Page:
        return st.Page(
            spec.script, title=spec.title, icon=f":material/{spec.icon}:", url_path=spec.url,
            **kwargs,
        )  # fmt: skip

    first, *others = navigation.EXPLORE
    sections = {"Explore": [page(first, default=True), *(page(spec) for spec in others)]}
    # A page a role may not use is not registered at all, so its URL does not exist for them.
    manage = [
        page(spec) for spec in navigation.MANAGE if spec.role is None or account.can(spec.role)
    ]
    if manage:
        sections["Manage"] = manage
    current = st.navigation(sections)
    signin.sidebar(config, account)
    sample.show_notice()
    # Data loads everything and Customer 360 shows the whole customer: no filters there.
    if current.url_path not in ("data", "customer", "admin"):
        state.set_filters(filters.sidebar(warehouse))
    current.run()


run()
