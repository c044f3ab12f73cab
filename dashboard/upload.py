"""The Data page's upload flow, one panel per file: read -> map -> check -> confirm -> load.

The confirmation dialog's open state lives in session state (`OPEN_DIALOG`), not in a button's
return value, so that it survives reruns, including AppTest's whole-script reruns.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from analytics.contract import DATASETS
from analytics.errors import TouchpointError
from analytics.ingest.mapping import apply_overrides
from analytics.ingest.pipeline import check_export, ingest, suggest_mapping
from analytics.ingest.readers import SourceInfo
from analytics.ingest.validate import ValidationReport
from analytics.settings import Settings
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard import format as fmt
from dashboard.components import OPEN_DIALOG, mapping_editor, validation_report

EXTENSIONS = ["csv", "tsv", "txt", "xlsx", "xlsm", "parquet", "jsonl", "ndjson", "json"]
CHECKS = "upload_checks"  # file key -> Check
OUTCOMES = "upload_outcomes"  # file key -> message of a finished load
_FORMATS = {"csv": "CSV", "excel": "Excel workbook", "parquet": "Parquet", "jsonl": "JSON Lines"}
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_MODES = {"append": "Append: add the rows", "replace": "Replace what is loaded"}
_POLICIES = {
    "reject": "Reject the file if any row is invalid",
    "quarantine": "Load valid rows, quarantine the rest",
}


@dataclass(frozen=True)
class Check:
    """A validation run, valid while the choices it was made with (its signature) still hold."""

    signature: tuple[object, ...]
    report: ValidationReport
    invalid: pl.DataFrame


@dataclass(frozen=True)
class LoadPlan:
    """Everything the confirmation dialog needs to load one file."""

    key: str
    content: bytes
    file_name: str
    sheet: str | None
    dataset: str
    overrides: dict[str, str]
    mode: str
    policy: str
    question: str
    user: str


# The browser holds an upload in memory; bigger loads go through the CLI, which streams.
MAX_UPLOAD_ROWS = 5_000_000


def uploader(config: Settings) -> list[UploadedFile]:
    files = st.file_uploader(
        "Exports to load",
        type=EXTENSIONS,
        accept_multiple_files=True,
        max_upload_size=config.max_upload_mb,
        key="uploads",
        help="CSV or TSV (any encoding and delimiter), Excel, Parquet or JSON Lines, up to "
        f"{config.max_upload_mb} MB each. Each file is checked before anything is loaded.",
    )
    return list(files or [])


def file_panel(upload: UploadedFile, config: Settings, wh: Warehouse) -> None:
    """One uploaded file, from what was detected to the loaded result."""
    key = upload.file_id
    with st.container(border=True):
        st.subheader(fmt.plain_text(upload.name), anchor=False)
        outcome = st.session_state.get(OUTCOMES, {}).get(key)
        if outcome:
            st.success(outcome, icon=":material/check_circle:")
            return
        if upload.size > config.max_upload_mb * 1024 * 1024:
            st.error(
                f"{fmt.plain_text(upload.name)} is {fmt.file_size(upload.size)}, more than the "
                f"{config.max_upload_mb} MB the Data page accepts. Load it with the command "
                "line instead: `python -m analytics ingest FILE --dataset NAME`."
            )
            return
        try:
            _file_body(upload, key, config, wh)
        except TouchpointError as exc:
            st.error(fmt.plain_text(str(exc)))


def _file_body(upload: UploadedFile, key: str, config: Settings, wh: Warehouse) -> None:
    content = upload.getvalue()
    export = data.read_upload(key, content, upload.name, None)
    info = export.raw.info
    sheet = None
    if len(info.sheets) > 1:
        sheet = st.selectbox(
            "Sheet", info.sheets, index=list(info.sheets).index(info.sheet), key=f"sheet_{key}"
        )
        if sheet != info.sheet:
            export = data.read_upload(key, content, upload.name, sheet)
            info = export.raw.info
    st.caption(_describe_source(info, upload.size))
    for note in info.notes:
        st.caption(f":material/info: {fmt.plain_text(note)}")
    with st.expander(f"Preview: first {export.preview.height} rows"):
        st.dataframe(export.preview, hide_index=True)

    names = list(DATASETS)
    dataset_name = st.selectbox(
        "Dataset",
        names,
        index=names.index(export.guessed_dataset),
        format_func=lambda n: f"{n} — {DATASETS[n].description}",
        key=f"dataset_{key}_{sheet}",  # a sheet holds its own dataset
        help="Guessed from the headers; change it if the file holds another dataset.",
    )
    proposal = suggest_mapping(export.raw, dataset_name, wh)
    if proposal.note:
        st.info(fmt.plain_text(proposal.note), icon=":material/bookmark:")
    overrides = mapping_editor.editor(
        f"{key}_{sheet}", dataset_name, proposal.matches, export.preview
    )
    matches = apply_overrides(proposal.matches, overrides, dataset_name)
    st.caption(mapping_editor.required_line(dataset_name, matches))
    mapping_editor.save_profile_form(key, dataset_name, matches, wh)

    left, right = st.columns(2)
    mode = left.radio("Mode", list(_MODES), format_func=_MODES.get, key=f"mode_{key}")
    policy = right.radio(
        "Invalid rows", list(_POLICIES), format_func=_POLICIES.get, key=f"policy_{key}"
    )
    signature = (dataset_name, sheet, tuple(sorted(overrides.items())), mode, wh.data_version())
    checks: dict[str, Check] = st.session_state.setdefault(CHECKS, {})
    if st.button("Check", key=f"check_{key}", icon=":material/fact_check:"):
        checked = check_export(export.raw, dataset_name, matches, wh, mode=mode)
        checks[key] = Check(signature, checked.report, checked.invalid)
    check = checks.get(key)
    if check is None or check.signature != signature:
        st.caption("Check the file to see its validation report before loading.")
        return
    validation_report.show(check.report, check.invalid, dataset_name, key)
    if check.report.rows_read > MAX_UPLOAD_ROWS:
        st.error(
            f"{fmt.plain_text(upload.name)} has {fmt.rows(check.report.rows_read)}; the Data "
            f"page loads up to {fmt.rows(MAX_UPLOAD_ROWS)}. Load it with the command line: "
            f"`python -m analytics ingest FILE --dataset {dataset_name}`."
        )
        return
    question = _load_question(check.report, dataset_name, mode, policy, wh)
    if question is None:
        return
    plan = LoadPlan(
        key,
        content,
        upload.name,
        sheet,
        dataset_name,
        overrides,
        mode,
        policy,
        question,
        config.user,
    )
    if st.button("Load…", key=f"load_{key}", type="primary", icon=":material/publish:"):
        st.session_state[OPEN_DIALOG] = ("load", key)
    if st.session_state.get(OPEN_DIALOG) == ("load", key):
        _confirm_load(plan)


def _describe_source(info: SourceInfo, size: int) -> str:
    parts = [_FORMATS.get(info.format, info.format), fmt.file_size(size)]
    if info.encoding:
        parts.append(f"encoding {info.encoding}")
    if info.delimiter:
        parts.append(f"delimiter: {_DELIMITERS.get(info.delimiter, repr(info.delimiter))}")
    if info.sheet:
        parts.append(f"sheet {fmt.plain_text(info.sheet)}")
    if info.header_row is not None:
        parts.append(f"headers on row {info.header_row}")
    return "Detected: " + " · ".join(parts)


def _load_question(
    report: ValidationReport, dataset_name: str, mode: str, policy: str, wh: Warehouse
) -> str | None:
    """The confirmation question, or None (with the reason shown) when the file cannot load."""
    if report.blocking or report.rows_valid == 0:
        return None
    if report.errors and policy == "reject":
        st.caption(
            "Some rows are invalid and the policy rejects the file: choose “Load valid rows, "
            "quarantine the rest”, or fix the file and upload it again."
        )
        return None
    rows = fmt.rows(report.rows_valid)
    if mode == "replace":
        question = (
            f"Replace {dataset_name} with {rows} (replace)? The "
            f"{fmt.rows(wh.row_count(dataset_name))} loaded now stay restorable for "
            f"{wh.rollback_days} days."
        )
    else:
        question = f"Load {rows} into {dataset_name} (append)?"
    if report.rows_invalid:
        invalid = fmt.rows(report.rows_invalid, "invalid row")
        question += f" {invalid} will be quarantined."
    return question


def _close_load_dialog() -> None:
    st.session_state.pop(OPEN_DIALOG, None)


@st.dialog("Confirm the load", on_dismiss=_close_load_dialog)
def _confirm_load(plan: LoadPlan) -> None:
    st.write(plan.question)
    wh = data.warehouse(data.settings())
    go, cancel = st.columns(2)
    if cancel.button("Cancel", key="load_cancel", width="stretch"):
        _close_load_dialog()
        st.rerun()
    if not go.button("Load", key="load_confirm", type="primary", width="stretch"):
        return
    bar = st.progress(0.0, text="Starting")
    try:
        result = ingest(
            plan.content,
            dataset_name=plan.dataset,
            warehouse=wh,
            file_name=plan.file_name,
            sheet=plan.sheet,
            overrides=plan.overrides,
            mode=plan.mode,  # type: ignore[arg-type]
            on_error=plan.policy,  # type: ignore[arg-type]
            user=plan.user,
            progress=lambda stage, fraction: bar.progress(min(max(fraction, 0.0), 1.0), stage),
        )
    except TouchpointError as exc:
        st.error(fmt.plain_text(str(exc)))
        return
    if not result.loaded:
        st.error(fmt.plain_text(result.message))
        return
    bar.progress(1.0, "Summarising for the dashboards")
    data.refresh_derived(wh)
    _close_load_dialog()
    st.session_state.setdefault(OUTCOMES, {})[plan.key] = (
        f"{result.message} The Overview and every other page now show it."
    )
    st.rerun()
