"""First start: load the sample company into an empty warehouse, visibly, and say so."""

from __future__ import annotations

import streamlit as st

from analytics.errors import TouchpointError
from analytics.ingest.pipeline import LoadResult
from analytics.settings import Settings
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard import format as fmt

NOTICE_KEY = "sample_notice"
_WHAT = {"surveys": "survey responses", "tickets": "support tickets", "events": "touchpoint events"}


def load_sample_if_empty(config: Settings, wh: Warehouse) -> None:
    """On an empty warehouse (and unless turned off), load the sample with a progress bar."""
    if not config.sample_on_empty or not wh.is_empty():
        return
    with st.status("Loading the sample company so you can explore…", expanded=True) as status:
        bar = st.progress(0.0, text="Preparing the sample exports")

        def progress(stage: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=stage)

        try:
            results = data.load_sample(config, progress)
        except TouchpointError as exc:
            status.update(label="The sample company could not be loaded", state="error")
            st.error(fmt.plain_text(str(exc)))
            return
        status.update(label="Sample company loaded", state="complete", expanded=False)
    if results:
        st.session_state[NOTICE_KEY] = notice_text(results)


def notice_text(results: list[LoadResult]) -> str:
    customers = sum(r.rows_loaded for r in results if r.dataset == "customers")
    others = [_WHAT.get(r.dataset, r.dataset) for r in results if r.dataset != "customers"]
    return (
        f"Touchpoint loaded the sample company ({fmt.count(customers)} customers with their "
        f"{_join(others)}) so you can explore; upload your own exports on the Data page."
    )


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def show_notice() -> None:
    if NOTICE_KEY in st.session_state:
        st.info(st.session_state[NOTICE_KEY], icon=":material/science:")
