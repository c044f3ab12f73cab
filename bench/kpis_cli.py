"""Benchmark: `python -m analytics kpis --period quarter` as a whole process, against pandas.

    .venv/bin/python bench/kpis_cli.py                  # 1M customers, 10M orders, 2M surveys
    .venv/bin/python bench/kpis_cli.py --customers 100000 --orders 1000000 --surveys 200000 \\
        --tickets 50000 --repeat 3                       # quicker

Builds the scale company once (bench/scale.py, cached under bench/out/, gitignored) and its
derived tables (`analytics.rollups.refresh`, what a load does), then times, each as a new
process with a warm OS file cache, `--repeat` runs of each side in rotation:

- cli: `python -m analytics kpis --period quarter --format json`, every KPI for every quarter
  of the data, as a user types it;
- pandas: `bench/pandas_kpis.py`, the same 18 KPIs per quarter from the Delta tables' Parquet
  files, written independently of Touchpoint;
- startup: the command line's imports and parser for `kpis` only (`analytics.cli._parser`
  with the command named), and, as its baseline, the parser of every command (what the
  command line imported before it loaded only the group run).

Prints medians (min-max), each side's ratio to the cli, peak memory (max RSS of each process)
and checks every value the cli prints against pandas (relative 1e-9): a mismatch is printed
and the exit status is 1. Writes bench/out/kpis_cli.json (`--out`). Targets (issue): cli <=
1.5 s median and >= 10x pandas at 10M orders.

`--skip pandas` leaves the pandas side out (at 100M orders pandas needs more memory than
the machine has: bench/SCALE_100M.md); the values are then not cross-checked.
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

from scale import OUT, ScaleSpec, build_warehouse, compile_sources, size_args, spec_from

BENCH = Path(__file__).resolve().parent
TARGET_SECONDS = 1.5
TARGET_RATIO = 10.0
RELATIVE_TOLERANCE = 1e-9
KPIS_COMMAND = ["kpis", "--period", "quarter", "--format", "json"]
STARTUP = "from analytics.cli import _parser; _parser({})"


def commands(root: Path, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    python = sys.executable
    every = {
        "cli": [python, "-m", "analytics", "--warehouse", str(root), *KPIS_COMMAND],
        "pandas": [python, str(BENCH / "pandas_kpis.py"), str(root)],
        "startup": [python, "-c", STARTUP.format("['kpis']")],
        "startup, every group": [python, "-c", STARTUP.format("")],
    }
    return {name: command for name, command in every.items() if name not in skip}


def run(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and standard output of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with status {process.returncode}")
    return seconds, usage.ru_maxrss / 1024, out


def measure(root: Path, repeat: int, skip: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    sides = commands(root, skip)
    results: dict[str, dict[str, Any]] = {s: {"runs": [], "peak_mb": 0.0} for s in sides}
    for name, command in sides.items():  # one untimed warm-up each: the OS file cache
        results[name]["output"] = run(command)[2]
    names = list(sides)
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, peak, _ = run(sides[name])
            results[name]["runs"].append(seconds)
            results[name]["peak_mb"] = max(results[name]["peak_mb"], peak)
    return results


def cross_check(cli_output: str, pandas_output: str) -> tuple[int, list[str]]:
    """How many values were compared, and every one that differs."""
    theirs = json.loads(pandas_output)
    problems, compared = [], 0
    for row in json.loads(cli_output):
        expected = theirs.get(row["kpi"], {}).get(row["period"])
        got = row["value"]
        compared += 1
        same = (got is None and expected is None) or (
            got is not None
            and expected is not None
            and math.isclose(got, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)
        )
        if not same:
            problems.append(f"{row['kpi']} {row['period']}: cli {got!r} != pandas {expected!r}")
    return compared, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, ScaleSpec(), events=False)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side")
    parser.add_argument("--work", type=Path, default=OUT, help="where the company is kept")
    parser.add_argument("--out", type=Path, default=OUT / "kpis_cli.json")
    parser.add_argument("--skip", nargs="+", choices=["pandas"], default=[], help="sides left out")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1. Got {args.repeat} instead.")
    spec = spec_from(args)
    root = args.work / spec.folder_name
    built = build_warehouse(root, spec)
    compile_sources()
    state = "reused" if built["reused"] else f"generated in {built['total_seconds']} s"
    print(
        f"scale company: {spec.customers:,} customers, {spec.orders:,} orders, "
        f"{spec.surveys:,} surveys, {spec.tickets:,} tickets ({state}: {root})"
    )
    from analytics import rollups
    from analytics.warehouse import Warehouse

    started = time.perf_counter()
    rollups.refresh(Warehouse(root))
    print(f"derived tables ready in {time.perf_counter() - started:.1f} s")

    results = measure(root, args.repeat, tuple(args.skip))
    cli = statistics.median(results["cli"]["runs"])
    report: dict[str, Any] = {"spec": spec.__dict__, "repeat": args.repeat, "sides": {}}
    print(f"\n{'side':<22} {'median (min-max)':>24} {'ratio to cli':>13} {'peak MB':>9}")
    for name, found in results.items():
        runs = found["runs"]
        median = statistics.median(runs)
        ratio = median / cli
        report["sides"][name] = {
            "median": round(median, 3),
            "min": round(min(runs), 3),
            "max": round(max(runs), 3),
            "runs": [round(r, 3) for r in runs],
            "ratio": round(ratio, 2),
            "peak_mb": round(found["peak_mb"]),
        }
        print(
            f"{name:<22} {median:>9.3f} s ({min(runs):.3f}-{max(runs):.3f}) {ratio:>12.2f}x "
            f"{found['peak_mb']:>9.0f}"
        )
    pandas_ratio = report["sides"]["pandas"]["ratio"] if "pandas" in results else math.nan
    startup = report["sides"]["startup"]["median"]
    every = report["sides"]["startup, every group"]["median"]
    print(
        f"\nstartup of `kpis` {startup:.3f} s against {every:.3f} s with every command group "
        f"({every / startup:.2f}x)"
    )
    met = cli <= TARGET_SECONDS and pandas_ratio >= TARGET_RATIO
    against = "not measured" if math.isnan(pandas_ratio) else _met(pandas_ratio >= TARGET_RATIO)
    print(
        f"targets: cli median <= {TARGET_SECONDS} s: {_met(cli <= TARGET_SECONDS)} "
        f"({cli:.3f} s); >= {TARGET_RATIO:g}x pandas: {against} ({pandas_ratio}x)"
    )
    if "pandas" in results:
        compared, problems = cross_check(results["cli"]["output"], results["pandas"]["output"])
    else:
        compared, problems = 0, []
        print("pandas left out (--skip pandas): the values are not cross-checked")
    report |= {"targets_met": met, "compared": compared, "mismatches": problems}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    if not compared:
        return
    if problems:
        print(f"\nCROSS-CHECK FAILED: {len(problems)} of {compared} values differ:")
        for problem in problems:
            print(f"  MISMATCH {problem}")
        raise SystemExit(1)
    print(f"cross-check: all {compared} values (KPI x quarter) agree with pandas")


def _met(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
