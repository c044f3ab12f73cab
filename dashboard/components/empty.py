"""What a page shows before any data is loaded, or while what it reads is being built."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from analytics.errors import ConfigError
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard.components.segments import wait_until_built

T = TypeVar("T")


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


def built_or_stop(
    read: Callable[[], T | None],
    building: str,
    spinner: str,
    *,
    earlier: Callable[[], T | None] | None = None,
    shown: str = "",
) -> T:
    """What the page reads (built for the current data), or end the page: saying it is
    being built (and coming back when it is), or what is wrong with settings broken by
    hand. With `earlier`, while the current data's build is made after an append, the
    earlier data's build instead of stopping (`shown` says what it is: `earlier_note`)."""
    try:
        found = read()
        before = earlier() if found is None and earlier is not None else None
    except ConfigError as problem:
        st.error(f"{problem} Fix or remove the file to go on.", icon=":material/error:")
        st.stop()
    if found is None and before is not None:
        wait_until_built(lambda: read() is not None, earlier_note(shown), spinner)
        return before
    if found is None:
        wait_until_built(lambda: read() is not None, building, spinner)
        st.stop()
    return found


def earlier_note(shown: str) -> str:
    """The note over a page showing the build of the data before the latest append:
    `shown` begins it ("These are the segments")."""
    return (
        f"{shown} of the data before the latest load, which added rows. The update for the "
        "new data is being prepared, and the page shows it by itself when it is ready."
    )
