"""Benchmark: the same KPIs on DuckDB (embedded) and on Apache Spark (local), per engine.

    .venv/bin/python bench/engines.py                  # 1M customers, 10M orders (3 runs)
    .venv/bin/python bench/engines.py --customers 10000000 --orders 100000000 \\
        --surveys 20000000 --tickets 5000000 --repeat 1     # the 100M-order company

Reuses (or builds) the scale company of bench/scale.py under bench/out/ (gitignored) with
its rollups, and a hard-linked copy without them (no data duplicated) for the rows. Each
engine runs in a process of its own, `--repeat` times each, after one untimed warm-up:

- start: the engine ready (DuckDB's database; Spark's session, its JVM included);
- revenue, rollups: the revenue KPI by quarter, as the Overview asks, from the rollups;
- revenue, rows: the same from the orders' rows;
- 18 KPIs, rows: every KPI by quarter (`kpis --period quarter`) from the rows.

DuckDB is the baseline of each row. Prints medians (min-max), Spark's ratio to DuckDB and
peak memory (the Python process; Spark's JVM apart), and checks that Spark's values equal
DuckDB's (relative 1e-9): a mismatch is printed and the exit status is 1. Writes
bench/out/engines.json. Needs the spark extra and Java 17 (`make test` installs both).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scale import OUT, ScaleSpec, build_warehouse, size_args, spec_from

ENGINES = ("duckdb", "spark")
TASKS = ("revenue, rollups", "revenue, rows", "18 KPIs, rows")
RELATIVE_TOLERANCE = 1e-9


def side(engine: str, root: Path, rows: Path, repeat: int) -> dict[str, Any]:
    """One engine's timings and values (run in its own process)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from analytics.filters import Filters
    from analytics.kpis import KPI_BY_KEY, trend
    from analytics.warehouse import Warehouse, open_gateway

    started = time.perf_counter()
    gateways = {
        "rollups": open_gateway(Warehouse(root), engine, spark_master="local[*]"),
        "rows": open_gateway(Warehouse(rows), engine, spark_master="local[*]"),
    }
    gateways["rows"].query("SELECT 1 AS one")  # the engine ready (the JVM started)
    start = time.perf_counter() - started
    plan = {
        "revenue, rollups": ("rollups", ["revenue"]),
        "revenue, rows": ("rows", ["revenue"]),
        "18 KPIs, rows": ("rows", list(KPI_BY_KEY)),
    }
    result: dict[str, Any] = {"start": start, "runs": {}, "values": {}}
    for task, (source, keys) in plan.items():
        runs = []
        for attempt in range(repeat + 1):  # the first is the untimed warm-up
            began = time.perf_counter()
            table = trend(gateways[source], keys, Filters(), "quarter")
            if attempt:
                runs.append(time.perf_counter() - began)
        result["runs"][task] = runs
        result["values"][task] = [
            [r["kpi"], r["period"], r["value"]] for r in table.iter_rows(named=True)
        ]
    result["peak_mb"] = _peak_mb(os.getpid())
    result["jvm_peak_mb"] = max((_peak_mb(pid) for pid in _java_children()), default=0.0)
    return result


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _java_children() -> list[int]:
    """Spark's JVM: this process's java children."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text.split("(", 1)[1].rsplit(")", 1)[0], text.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid() and name == "java":
            found.append(int(stat.parent.name))
    return found


def run_side(engine: str, root: Path, rows: Path, repeat: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--side", engine, "--root", str(root),
               "--rows", str(rows), "--repeat", str(repeat)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the {engine} side failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def mismatches(duck: dict[str, Any], spark: dict[str, Any]) -> tuple[int, list[str]]:
    problems, compared = [], 0
    for task in TASKS:
        expected = {(k, p): v for k, p, v in duck["values"][task]}
        got = {(k, p): v for k, p, v in spark["values"][task]}
        if expected.keys() != got.keys():
            problems.append(f"{task}: other KPI-quarter rows")
        for key, value in expected.items():
            compared += 1
            other = got.get(key)
            same = (value is None and other is None) or (
                value is not None
                and other is not None
                and math.isclose(value, other, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)
            )
            if not same:
                problems.append(f"{task} {key}: duckdb {value!r} != spark {other!r}")
    return compared, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, ScaleSpec(), events=False)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per task")
    parser.add_argument("--work", type=Path, default=OUT, help="where the company is kept")
    parser.add_argument("--out", type=Path, default=OUT / "engines.json")
    parser.add_argument("--side", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1. Got {args.repeat} instead.")
    if args.side:
        print(json.dumps(side(args.side, args.root, args.rows, args.repeat)))
        return
    spec = spec_from(args)
    root = args.work / spec.folder_name
    built = build_warehouse(root, spec)
    state = "reused" if built["reused"] else f"generated in {built['total_seconds']} s"
    print(
        f"scale company: {spec.customers:,} customers, {spec.orders:,} orders, "
        f"{spec.surveys:,} surveys, {spec.tickets:,} tickets ({state}: {root})"
    )
    from kpis import rows_copy

    from analytics import rollups
    from analytics.warehouse import Warehouse

    rollups.refresh(Warehouse(root))
    rows = rows_copy(root)
    results = {engine: run_side(engine, root, rows, args.repeat) for engine in ENGINES}
    duck, spark = results["duckdb"], results["spark"]
    report: dict[str, Any] = {"spec": spec.__dict__, "repeat": args.repeat, "tasks": {}}
    print(f"\n{'task':<18} {'duckdb (baseline)':>26} {'spark':>26} {'spark/duckdb':>13}")
    print(f"{'start':<18} {duck['start']:>24.2f} s {spark['start']:>24.2f} s")
    report["start"] = {"duckdb": round(duck["start"], 3), "spark": round(spark["start"], 3)}
    for task in TASKS:
        d, s = _summary(duck["runs"][task]), _summary(spark["runs"][task])
        ratio = s["median"] / d["median"]
        report["tasks"][task] = {"duckdb": d, "spark": s, "ratio": round(ratio, 1)}
        print(
            f"{task:<18} {d['median']:>9.3f} s ({d['min']:.3f}-{d['max']:.3f}) "
            f"{s['median']:>9.3f} s ({s['min']:.3f}-{s['max']:.3f}) {ratio:>12.1f}x"
        )
    print(
        f"peak memory: duckdb {duck['peak_mb']:.0f} MB; spark {spark['peak_mb']:.0f} MB "
        f"in Python and {spark['jvm_peak_mb']:.0f} MB in its JVM"
    )
    report["peak_mb"] = {"duckdb": round(duck["peak_mb"]), "spark": round(spark["peak_mb"]),
                         "spark_jvm": round(spark["jvm_peak_mb"])}  # fmt: skip
    compared, problems = mismatches(duck, spark)
    report |= {"compared": compared, "mismatches": problems}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    if problems:
        print(f"\nCROSS-CHECK FAILED: {len(problems)} of {compared} values differ:")
        for problem in problems[:20]:
            print(f"  MISMATCH {problem}")
        raise SystemExit(1)
    print(f"cross-check: all {compared} values (task x KPI x quarter) agree")


def _summary(runs: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(runs), 3),
        "min": round(min(runs), 3),
        "max": round(max(runs), 3),
        "runs": [round(r, 3) for r in runs],
    }


if __name__ == "__main__":
    main()
