"""The append benchmark (bench/append.py) end to end at a tiny size, with every derived table:
the rollups brought up to date equal a full build, and right after the append the derived
pages are computed from the builds of the data before it; bench/all.py's table lists them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench_table import table_rows

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = {"customers": 2_000, "orders": 20_000, "surveys": 4_000, "tickets": 1_000,
        "events": 20_000, "seed": 7}  # fmt: skip
PAGES = ["segments", "journeys", "journeys: paths", "feedback"]


def test_the_pages_read_the_earlier_builds_until_the_new_ones_are_made(tmp_path):
    out = tmp_path / "append.json"
    sizes = [f"--{k}={v}" for k, v in TINY.items()]
    command = [sys.executable, str(BENCH / "append.py"), *sizes, "--appended", "200", "--repeat",
               "1", "--derived", "--work", str(tmp_path), "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())

    assert report["mismatches"] == 0
    assert list(report["earlier pages"]) == PAGES
    for page in report["earlier pages"].values():
        assert page["median"] > 0
    rebuilt = report["derived"]["update"]
    assert {"segments", "journeys", "feedback", "rollups by segment"} <= set(rebuilt)
    assert rebuilt["segments"]["median"] > 0 and rebuilt["journeys"]["median"] > 0
    assert rebuilt["feedback"]["median"] == 0.0  # orders only: the analysis stays current
    others = report["others"]
    assert list(others["update"]) == list(others["full"])
    assert list(others["update"]) == ["filter values", "records by customer"]
    assert all(r["median"] > 0 for side in others.values() for r in side.values())

    rows = table_rows(tmp_path)
    row = rows["append 10k orders: records by customer"]
    assert row[1:4] == (
        others["update"]["records by customer"]["median"],
        "built from nothing",
        others["full"]["records by customer"]["median"],
    )
    for page in PAGES:
        row = rows[f"append 10k orders: {page} page until rebuilt"]
        assert row[1] == report["earlier pages"][page]["median"]
