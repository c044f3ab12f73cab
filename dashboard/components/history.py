"""Load history with rollback, and the quarantined rows of past loads, for the Data page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl
import streamlit as st

from analytics.contract import DATASETS
from analytics.errors import TouchpointError
from analytics.ingest.pipeline import list_quarantines, quarantine_preview
from analytics.settings import Settings
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard import format as fmt
from dashboard.components import OPEN_DIALOG, downloads

ROLLBACK_OUTCOME = "rollback_outcome"
_QUARANTINE_NAME = re.compile(r"^(?P<dataset>[a-z]+)-v(?P<version>\d+)-(?P<stamp>\d{8}T\d{6})-")
_COLUMNS = {
    "version": "version",
    "when": "when",
    "action": "action",
    "source_file": "file",
    "rows_read": "read",
    "rows_loaded": "loaded",
    "rows_rejected": "rejected",
    "mapping": "mapping",
    "user": "user",
    "note": "note",
}


def history_section(config: Settings, wh: Warehouse) -> None:
    outcome = st.session_state.pop(ROLLBACK_OUTCOME, None)
    if outcome:
        st.success(outcome, icon=":material/history:")
    dataset_name = st.segmented_control(
        "Dataset", list(DATASETS), default="customers", required=True, key="history_dataset"
    )
    frame = data.load_history(wh, dataset_name)
    if frame.is_empty():
        st.info(f"{dataset_name} has not been loaded yet.", icon=":material/info:")
        return
    shown = [c for c in _COLUMNS if c != "note" or frame.get_column("note").str.len_chars().max()]
    st.dataframe(
        frame.with_columns(
            pl.col("when").dt.strftime("%-d %b %Y %H:%M UTC"),
            # "load (append)", "load (replace)", "rollback", "compact"
            pl.when(pl.col("mode").fill_null("") != "")
            .then(pl.format("{} ({})", "action", "mode"))
            .otherwise(pl.col("action"))
            .alias("action"),
        )
        .select(shown)
        .rename(_COLUMNS, strict=False),
        hide_index=True,
        column_config={
            "read": st.column_config.NumberColumn(format="localized", help="Rows in the file"),
            "loaded": st.column_config.NumberColumn(format="localized"),
            "rejected": st.column_config.NumberColumn(
                format="localized", help="Invalid rows set aside (see Quarantined rows)"
            ),
        },
    )
    _rollback_form(config, wh, dataset_name, frame)


def _rollback_form(config: Settings, wh: Warehouse, dataset_name: str, frame: pl.DataFrame) -> None:
    # Compactions rewrite files without changing the data, so they are no rollback target.
    current = wh.version(dataset_name)
    earlier = frame.filter((pl.col("version") < current) & (pl.col("action") != "compact"))
    if earlier.is_empty():
        st.caption(f"Rollback becomes possible after the second load of {dataset_name}.")
        return
    labels = {int(row["version"]): _version_label(row) for row in earlier.iter_rows(named=True)}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        version = st.selectbox(
            f"Roll {dataset_name} back to",
            list(labels),
            format_func=labels.get,
            key=f"rollback_version_{dataset_name}",
            width=520,
        )
        if st.button("Roll back…", key=f"rollback_{dataset_name}", icon=":material/undo:"):
            st.session_state[OPEN_DIALOG] = ("rollback", dataset_name, version)
    request = st.session_state.get(OPEN_DIALOG)
    if request and request[:2] == ("rollback", dataset_name):
        _confirm_rollback(dataset_name, request[2], labels.get(request[2], ""), config.user)


def _version_label(row: dict[str, object]) -> str:
    when = row["when"]
    stamp = fmt.timestamp(when) if isinstance(when, datetime) else ""
    what = row["action"]
    if row["source_file"]:
        what = f"{what} of {row['source_file']}"
    return f"version {row['version']} · {stamp} · {what}"


def _close_rollback_dialog() -> None:
    st.session_state.pop(OPEN_DIALOG, None)


@st.dialog("Confirm the rollback", on_dismiss=_close_rollback_dialog)
def _confirm_rollback(dataset_name: str, version: int, label: str, user: str) -> None:
    st.write(
        f"Restore {dataset_name} to {fmt.plain_text(label)}? The rollback is committed as a "
        "new version, so it can itself be undone the same way."
    )
    go, cancel = st.columns(2)
    if cancel.button("Cancel", key="rollback_cancel", width="stretch"):
        _close_rollback_dialog()
        st.rerun()
    if not go.button("Roll back", key="rollback_confirm", type="primary", width="stretch"):
        return
    try:
        wh = data.warehouse(data.settings())
        new_version = wh.rollback(dataset_name, version, user=user)
    except TouchpointError as exc:
        st.error(fmt.plain_text(str(exc)))
        return
    with st.spinner("Summarising for the dashboards…"):
        data.refresh_derived(wh)
    _close_rollback_dialog()
    st.session_state[ROLLBACK_OUTCOME] = (
        f"{dataset_name} is back to the data of version {version} (committed as version "
        f"{new_version}). Every page now shows it."
    )
    st.rerun()


def quarantine_section(wh: Warehouse) -> None:
    files = {path.name: path for path in list_quarantines(wh)}
    if not files:
        st.info(
            "No rows have been quarantined. When a load uses the quarantine policy, its invalid "
            "rows are kept here with a reason column.",
            icon=":material/info:",
        )
        return
    st.caption("Invalid rows set aside by loads, with the reason for each (newest first).")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        name = st.selectbox(
            "Quarantine file",
            list(files),
            format_func=_quarantine_label,
            key="quarantine",
            width=520,
        )
        path = files[name]
        st.download_button(
            "Download CSV",
            data=lambda: path.read_bytes(),
            file_name=path.name,
            mime="text/csv",
            on_click=downloads.record,
            args=(path.name,),
            icon=":material/download:",
            key="quarantine_download",
        )
    preview, total = quarantine_preview(path)
    if total == 1:
        shown = "the 1 quarantined row"
    elif preview.height == total:
        shown = f"all {fmt.count(total)} quarantined rows"
    else:
        shown = f"the first {fmt.count(preview.height)} of {fmt.count(total)} quarantined rows"
    st.caption(f"Showing {shown}; `row` is the line in the file.")
    st.dataframe(preview, hide_index=True, width="stretch")


def _quarantine_label(name: str) -> str:
    match = _QUARANTINE_NAME.match(name)
    if not match:
        return name
    when = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return f"{match['dataset']} · version {match['version']} · {fmt.timestamp(when)}"
