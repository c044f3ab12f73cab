"""bench/all.py's table of the speed figures, read from a folder of benchmark reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_all(reports: Path) -> Any:
    """bench/all.py as a module, reading the reports in `reports`."""
    spec = importlib.util.spec_from_file_location("bench_all", BENCH / "all.py")
    assert spec is not None and spec.loader is not None
    summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(summary)
    summary.OUT = reports
    return summary


def table_rows(reports: Path) -> dict[str, tuple[Any, ...]]:
    """The rows `bench/all.py --table` prints from the reports in `reports`, by figure."""
    return {row[0]: row for row in bench_all(reports).rows()}
