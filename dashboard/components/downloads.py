"""A table with its downloads (CSV with formula cells neutralised, and Excel), each download
noted in the audit log."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics import audit
from analytics.exports import safe_csv_bytes, xlsx_bytes
from dashboard import data, state

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table(frame: pl.DataFrame, name: str, sheet: str) -> None:
    """Show `frame` and offer it as `name`.csv and `name`.xlsx."""
    st.dataframe(frame, hide_index=True)
    buttons(frame, name, sheet)


def buttons(frame: pl.DataFrame, name: str, sheet: str) -> None:
    """Offer `frame` as `name`.csv and `name`.xlsx."""
    one, two = st.columns(2)
    one.download_button(
        "Download CSV",
        safe_csv_bytes(frame),
        f"{name}.csv",
        "text/csv",
        icon=":material/download:",
        on_click=record,
        args=(f"{name}.csv", frame.height),
    )
    two.download_button(
        "Download Excel",
        xlsx_bytes(frame, sheet),
        f"{name}.xlsx",
        XLSX,
        icon=":material/download:",
        on_click=record,
        args=(f"{name}.xlsx", frame.height),
    )


def record(file_name: str, rows: int | None = None) -> None:
    """Note a download in the audit log (a download button's callback)."""
    details: dict[str, object] = {"file": file_name}
    if rows is not None:
        details["rows"] = rows
    audit.record(data.settings().warehouse, "export", state.account().name, details)
