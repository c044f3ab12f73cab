"""The validation report of an upload: verdict, problems with examples, invalid rows."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.ingest.pipeline import quarantine_csv
from analytics.ingest.validate import ValidationReport
from dashboard import format as fmt
from dashboard.components import downloads


def show(report: ValidationReport, invalid: pl.DataFrame, dataset_name: str, key: str) -> None:
    if report.blocking:
        problems = "\n".join(f"- {fmt.plain_text(p.describe())}" for p in report.errors)
        st.error(f"Nothing can be loaded into {dataset_name}:\n\n{problems}")
    elif report.errors:
        valid = report.rows_valid
        st.warning(
            f"{fmt.count(report.rows_invalid)} of {fmt.rows(report.rows_read)} have problems "
            f"for {dataset_name}; {fmt.rows(valid)} {'is' if valid == 1 else 'are'} valid."
        )
    else:
        st.success(f"Every row is valid for {dataset_name} ({fmt.rows(report.rows_read)}).")
    if report.problems and not report.blocking:
        st.table(problem_table(report), hide_index=True)
    for note in report.notes:
        st.caption(f":material/info: {fmt.plain_text(note)}")
    if invalid.height:
        st.download_button(
            f"Download the {fmt.rows(invalid.height, 'invalid row')} (CSV)",
            data=quarantine_csv(invalid),
            file_name=f"{dataset_name}-invalid-rows.csv",
            mime="text/csv",
            on_click=downloads.record,
            args=(f"{dataset_name}-invalid-rows.csv", invalid.height),
            icon=":material/download:",
            key=f"invalid_{key}",
        )


def problem_table(report: ValidationReport) -> pl.DataFrame:
    """The report's problems for `st.table`, which wraps long messages (and renders Markdown,
    so text from the file is escaped)."""
    frame = report.to_frame()
    text = {
        name: [fmt.plain_text(v) for v in frame.get_column(name).to_list()]
        for name in ("severity", "column", "problem", "examples")
    }
    return pl.DataFrame(
        {
            "severity": text["severity"],
            "column": text["column"],
            "rows": [fmt.count(n) for n in frame.get_column("rows").to_list()],
            "problem": text["problem"],
            "first examples": text["examples"],
        }
    )
