"""The engines benchmark (bench/engines.py) end to end at a tiny size: Spark's KPIs equal
DuckDB's on a generated company, from the rollups and from the rows, and bench/all.py's
table shows them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = {"customers": 2_000, "orders": 20_000, "surveys": 4_000, "tickets": 1_000, "seed": 7}


def test_spark_agrees_with_duckdb_on_every_task(spark_engine, tmp_path):
    out = tmp_path / "engines.json"
    sizes = [f"--{k}={v}" for k, v in TINY.items()]
    command = [sys.executable, str(BENCH / "engines.py"), *sizes, "--repeat", "1",
               "--work", str(tmp_path), "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mismatches"] == []
    assert report["compared"] == (1 + 1 + 18) * 12  # revenue twice, then every KPI; 12 quarters
    assert list(report["tasks"]) == ["revenue, rollups", "revenue, rows", "18 KPIs, rows"]
    for task in report["tasks"].values():
        for engine in ("duckdb", "spark"):
            assert 0 < task[engine]["min"] <= task[engine]["median"] <= task[engine]["max"]
    assert report["peak_mb"]["spark_jvm"] > 0  # the JVM was found and measured

    spec = importlib.util.spec_from_file_location("bench_all", BENCH / "all.py")
    assert spec is not None and spec.loader is not None
    bench_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_all)
    bench_all.OUT = tmp_path
    figures = [row[0] for row in bench_all.rows()]
    assert "spark: 18 KPIs, rows (0.02M orders)" in figures
