"""The dashboard's data layer, and the only module that caches.

Results are cached under the warehouse's data version (which changes with every load and
rollback), never by hashing frames: after any load, every page shows the new data. Shared
objects (the warehouse, the query gateway) live in `cache_resource`, one per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import streamlit as st

from analytics import overview
from analytics.bootstrap import ensure_sample_loaded
from analytics.ingest.pipeline import LoadResult, guess_dataset
from analytics.ingest.readers import PROBLEM_COLUMN, ROW_COLUMN, RawTable, read_export
from analytics.settings import Settings, load_settings
from analytics.warehouse import QueryGateway, Warehouse, history_frame

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
PREVIEW_ROWS = 20


def settings() -> Settings:
    """Settings from the environment (cheap; read on every run so tests can change them)."""
    return load_settings(os.environ)


def warehouse(config: Settings) -> Warehouse:
    return _warehouse(str(config.warehouse), config.rollback_days)


@st.cache_resource(show_spinner=False)
def _warehouse(root: str, rollback_days: int) -> Warehouse:
    return Warehouse(Path(root), rollback_days=rollback_days)


@st.cache_resource(show_spinner=False)
def _gateway(root: str, rollback_days: int) -> QueryGateway:
    return QueryGateway(_warehouse(root, rollback_days))


@st.cache_resource(show_spinner=False)
def _sample_lock(root: str) -> threading.Lock:
    return threading.Lock()


def load_sample(
    config: Settings, progress: Callable[[str, float], None]
) -> list[LoadResult] | None:
    """Load the sample company into an empty warehouse, once even when sessions start together."""
    wh = warehouse(config)
    with _sample_lock(str(wh.root)):
        return ensure_sample_loaded(wh, SAMPLE_DIR, user=config.user, progress=progress)


# ----- results keyed by data version --------------------------------------------------------


def headline(wh: Warehouse) -> overview.Headline:
    return _headline(str(wh.root), wh.rollback_days, wh.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _headline(root: str, rollback_days: int, data_version: str) -> overview.Headline:
    return overview.headline(_gateway(root, rollback_days))


def last_loaded(wh: Warehouse) -> dict[str, datetime | None]:
    return _last_loaded(str(wh.root), wh.rollback_days, wh.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _last_loaded(root: str, rollback_days: int, data_version: str) -> dict[str, datetime | None]:
    return _warehouse(root, rollback_days).last_loaded()


def load_history(wh: Warehouse, dataset_name: str) -> pl.DataFrame:
    """History of one dataset, newest first, without the housekeeping vacuum entries."""
    return _load_history(str(wh.root), wh.rollback_days, wh.data_version(), dataset_name)


@st.cache_data(show_spinner=False, max_entries=64)
def _load_history(
    root: str, rollback_days: int, data_version: str, dataset_name: str
) -> pl.DataFrame:
    records = _warehouse(root, rollback_days).history(dataset_name)
    return history_frame(records).filter(pl.col("action") != "vacuum")


# ----- uploads: read once per uploaded file, kept for that browser session only ---------------


@dataclass(frozen=True)
class UploadedExport:
    """An uploaded file as read: the raw table, its first rows and the dataset it looks like."""

    raw: RawTable
    preview: pl.DataFrame
    guessed_dataset: str


def read_upload(file_id: str, content: bytes, file_name: str, sheet: str | None) -> UploadedExport:
    """Read an upload (raises the reader's ReadError for files that are not a table)."""
    return _read_upload(file_id, file_name, sheet, content)


@st.cache_resource(show_spinner="Reading the file…", scope="session", max_entries=16)
def _read_upload(
    file_id: str, file_name: str, sheet: str | None, _content: bytes
) -> UploadedExport:
    raw = read_export(_content, file_name=file_name, sheet=sheet)
    preview = raw.frame.head(PREVIEW_ROWS).collect()
    preview = preview.drop([c for c in (ROW_COLUMN, PROBLEM_COLUMN) if c in preview.columns])
    name, _ = guess_dataset(list(raw.headers))
    return UploadedExport(raw, preview, name)
