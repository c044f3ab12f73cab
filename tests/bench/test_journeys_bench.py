"""The journeys benchmark's build sides (bench/journeys.py) at a tiny size, and their rows
in bench/all.py's table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import polars as pl

from analytics.journeys import steps
from tests.bench.bench_table import table_rows

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))  # the benchmark imports its sibling `scale`
_spec = importlib.util.spec_from_file_location("bench_journeys", BENCH / "journeys.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_journeys"] = bench
_spec.loader.exec_module(bench)


def test_the_build_in_batches_and_in_one_batch_make_the_same_steps(tmp_path, monkeypatch):
    spec = bench.ScaleSpec(customers=300, orders=2_000, surveys=400, tickets=100, events=3_000)
    root = tmp_path / "company"
    bench.build_warehouse(root, spec)
    monkeypatch.setattr(steps, "BATCH_ROWS", 1_000)  # about 6 batches of 50 customers
    batched = bench.worker("build", root)
    folder = next((root / "_journeys").glob("*.steps.parquet"))
    parts = len(list(folder.glob("part-*.parquet")))
    made = pl.read_parquet(folder)
    whole = bench.worker("build in one batch", root)  # sets BATCH_ROWS past the rows
    monkeypatch.undo()
    again = list((root / "_journeys").glob("*.steps.parquet"))

    assert parts > 3  # a part per batch
    assert len(again) == 1 and len(list(again[0].glob("part-*.parquet"))) == 1
    assert made.height == pl.read_parquet(again[0]).height > 5_000
    assert made.equals(pl.read_parquet(again[0]))
    assert batched["peak_mb"] > 0 and whole["seconds"] > 0


def test_the_table_shows_the_build_beside_the_build_in_one_batch(tmp_path):
    report = {
        "spec": {"customers": 1_000_000, "events": 20_000_000},
        "build": {"median": 60.0, "min": 59.0, "max": 61.0, "peak_mb": 3_500.0},
        "build in one batch": {"median": 66.0, "min": 65.0, "max": 70.0, "peak_mb": 8_400.0},
    }
    (tmp_path / "journeys.json").write_text(json.dumps(report))
    rows = table_rows(tmp_path)

    assert rows["journeys build (1M customers, 20M events)"] == (
        "journeys build (1M customers, 20M events)", 60.0, "all customers at once", 66.0,
        3_500.0, "-", None,
    )  # fmt: skip
    assert rows["journeys build, all customers at once"] == (
        "journeys build, all customers at once", 66.0, "-", None, 8_400.0, "-", None,
    )  # fmt: skip
