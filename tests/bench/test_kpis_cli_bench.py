"""The whole-process KPI benchmark (bench/kpis_cli.py) end to end at a tiny size: every KPI of
every quarter printed by `python -m analytics kpis` (through the rollups) equals an
independent pandas computation of a company nobody tuned the code for, and bench/all.py's
table shows the result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench_table import bench_all

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = {"customers": 2_000, "orders": 20_000, "surveys": 4_000, "tickets": 1_000, "seed": 7}


def test_the_command_agrees_with_pandas_on_every_kpi_and_quarter(tmp_path):
    out = tmp_path / "kpis_cli.json"
    sizes = [f"--{k}={v}" for k, v in TINY.items()]
    command = [sys.executable, str(BENCH / "kpis_cli.py"), *sizes, "--repeat", "1",
               "--work", str(tmp_path), "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mismatches"] == []
    assert report["compared"] == 18 * 12  # every KPI, every quarter of 2023-2025
    assert set(report["sides"]) == {"cli", "pandas", "startup", "startup, every group"}
    for side in report["sides"].values():
        assert 0 < side["min"] <= side["median"] <= side["max"]
        assert side["peak_mb"] > 50  # the process's own peak

    summary = bench_all(tmp_path)
    rows = {row[0]: row for row in summary.rows()}
    cli = rows["kpis --period quarter (whole process)"]
    assert cli[1] == report["sides"]["cli"]["median"]
    assert cli[3] == report["sides"]["pandas"]["median"]
    assert "kpis --period quarter (whole process)" in summary.table(list(rows.values()))
