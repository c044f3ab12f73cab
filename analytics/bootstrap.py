"""First start: load the sample company into an empty warehouse."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from analytics import filter_values, rollups
from analytics.ingest.pipeline import LoadResult, ingest
from analytics.sample import SAMPLE_FILES, SampleFile, write_sample_company
from analytics.warehouse import Warehouse


def load_sample_files(
    warehouse: Warehouse,
    files: list[SampleFile],
    *,
    user: str,
    progress: Callable[[str, float], None] | None = None,
) -> list[LoadResult]:
    """Load the sample exports (customers first) with the reject policy, replacing each dataset."""
    results = []
    for i, sample in enumerate(files):
        if progress:
            progress(f"Loading {sample.dataset}", i / len(files))
        results.append(
            ingest(
                sample.path,
                dataset_name=sample.dataset,
                warehouse=warehouse,
                mode="replace",
                on_error="quarantine",
                user=user,
            )
        )
    if progress:
        progress("Summarising for the dashboards", 0.99)
    rollups.refresh(warehouse)
    filter_values.refresh(warehouse)
    if progress:
        progress("Sample company loaded", 1.0)
    return results


def ensure_sample_loaded(
    warehouse: Warehouse,
    sample_dir: Path,
    *,
    user: str,
    progress: Callable[[str, float], None] | None = None,
) -> list[LoadResult] | None:
    """Load the sample company when the warehouse is empty; None when there was data already.

    Uses the committed exports in `sample_dir` when they are all there, else generates them.
    """
    if not warehouse.is_empty():
        return None
    committed = [SampleFile(sample_dir / name, ds) for name, ds in SAMPLE_FILES.items()]
    if all(f.path.is_file() for f in committed):
        return load_sample_files(warehouse, committed, user=user, progress=progress)
    with tempfile.TemporaryDirectory(prefix="touchpoint-sample-") as tmp:
        files = write_sample_company(Path(tmp))
        return load_sample_files(warehouse, files, user=user, progress=progress)
