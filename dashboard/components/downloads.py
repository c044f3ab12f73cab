"""A table with its downloads: CSV (formula cells neutralised) and Excel."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.exports import safe_csv_bytes, xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table(frame: pl.DataFrame, name: str, sheet: str) -> None:
    """Show `frame` and offer it as `name`.csv and `name`.xlsx."""
    st.dataframe(frame, hide_index=True)
    one, two = st.columns(2)
    one.download_button(
        "Download CSV",
        safe_csv_bytes(frame),
        f"{name}.csv",
        "text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    two.download_button(
        "Download Excel",
        xlsx_bytes(frame, sheet),
        f"{name}.xlsx",
        XLSX,
        icon=":material/download:",
        on_click="ignore",
    )
