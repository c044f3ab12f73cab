"""Benchmark: the Overview's KPIs at scale, Touchpoint's scorecard against pandas 3.

    .venv/bin/python bench/kpis.py                  # 1M customers, 10M orders, 2M surveys
    .venv/bin/python bench/kpis.py --repeat 3 --customers 100000 --orders 1000000 \\
        --surveys 200000 --tickets 50000            # quicker

Builds the scale company once (bench/scale.py, cached under bench/out/kpis_<customers>_<seed>/,
gitignored), then builds its monthly rollups from scratch (`analytics.rollups.refresh`, what
every load and rollback does) `--builds` times and reports that median too: it is the price
of the fast scorecard, paid once per load. Each side then runs in its own worker process, so
that its peak memory (max RSS) is its own; the runs rotate between the sides (and which goes
first), so that load from other work on the machine falls on all alike. After one untimed
warm-up per side and filter setting (region EMEA; no filter; three channels: web and app orders,
Email surveys and tickets), `--repeat` timed runs each of

- touchpoint: `analytics.kpis.scorecard(gateway, filters, grain="quarter", period=P)` as the
  Overview runs it, uncached: every run clears the Delta file-list cache and builds a fresh
  `Warehouse` and `QueryGateway` (a new DuckDB database), so it includes reading the Delta
  logs, DuckDB reading the rollups' Parquet files, and the scorecard's own work (8-quarter
  sparklines, intervals and significance); no result of an earlier run is reused;
- rows: the same, over a hard-linked copy of the warehouse without `_rollups/`, so every
  statistic comes from the datasets' rows (what the scorecard did before the rollups, and
  still does for questions they cannot answer);
- pandas: listing the same Delta tables' files, `pd.read_parquet` of the columns needed
  (pyarrow engine and dtypes, the faster of pandas' two backends here), and the same KPIs for
  quarter P and the quarter before, written independently of Touchpoint's code.

The OS file cache is warm for all. Prints medians (min-max), the ratios against touchpoint,
CPU seconds (all threads: less sensitive to other load on the machine), peak memory and the
load average, and cross-checks every value and previous value of each Touchpoint side against
pandas (relative 1e-9): a mismatch is a bug on one side, printed loudly, and the exit status
is 1. Results are also written to bench/out/kpis.json. Targets (issue): touchpoint <= 0.5 s
median, >= 10x pandas.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from scale import OUT, ScaleSpec, build_warehouse, size_args, spec_from

# (label, filter selections): the settings timed, the one first. Channels narrow each
# dataset by its own channel column: orders to web and app, surveys and tickets to Email.
Selection = dict[str, tuple[str, ...]]
SETTINGS: tuple[tuple[str, Selection], ...] = (
    ("region=EMEA", {"region": ("EMEA",)}),
    ("all customers", {}),
    ("3 channels", {"channel": ("web", "app", "Email")}),
)
# The KPIs of the issue, all computed by both sides and cross-checked.
CHECKED: tuple[str, ...] = (
    "revenue",
    "orders",
    "aov",
    "active_customers",
    "new_customers",
    "retention_rate",
    "repeat_purchase_rate",
    "return_rate",
    "nps",
    "csat",
    "tickets",
)
RELATIVE_TOLERANCE = 1e-9
SIDES = ("touchpoint", "rows", "pandas")
TARGET_SECONDS = 0.5
TARGET_RATIO = 10.0

INCLUDED = {
    "touchpoint": (
        "analytics.kpis.scorecard(grain='quarter') with the Overview's headline KPIs plus "
        "repeat_purchase_rate and return_rate; per run: Delta file-list cache cleared, fresh "
        "Warehouse and QueryGateway (new DuckDB database), Delta log reads, DuckDB reads of "
        "the monthly rollups, 8-quarter sparklines, intervals and significance"
    ),
    "rows": (
        "the same scorecard over the same tables without rollups: DuckDB reads and "
        "aggregates every order, survey and ticket row"
    ),
    "pandas": (
        "per run: Delta file listing (deltalake), pd.read_parquet of the needed columns "
        "(dtype_backend='pyarrow'), filtering and the 11 KPIs for quarter P and P-1 only "
        "(no sparklines or intervals)"
    ),
    "all": (
        "OS file cache warm; one untimed warm-up run per side and setting; each side in its "
        "own process; runs rotate between the sides"
    ),
}

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
KpiValues = dict[str, tuple[float | None, float | None]]
Runner = Callable[[Selection], KpiValues]


# ----- Touchpoint -----------------------------------------------------------------------------


def touchpoint_runner(root: Path, period: date) -> Runner:
    """One uncached scorecard run; imported here so the pandas worker's memory stays its own."""
    from analytics.filters import Filters
    from analytics.kpis import HEADLINE, scorecard
    from analytics.warehouse import QueryGateway, Warehouse, _table_files

    keys = tuple(dict.fromkeys((*HEADLINE, *CHECKED)))

    def run(selection: Selection) -> KpiValues:
        _table_files.cache_clear()
        gateway = QueryGateway(Warehouse(root))
        card = scorecard(gateway, Filters(**selection), grain="quarter", period=period, keys=keys)
        return {r["kpi"]: (r["value"], r["prev_value"]) for r in card.iter_rows(named=True)}

    return run


# ----- pandas ---------------------------------------------------------------------------------


def pandas_runner(root: Path, period: date) -> Runner:
    return lambda selection: pandas_kpis(root, selection, period)


def pandas_kpis(root: Path, selection: Selection, period: date) -> KpiValues:
    """The issue's KPIs for quarter `period` and the quarter before, from the Delta tables'
    Parquet files, with pandas. Rates are percent (0-100), as Touchpoint reports them."""
    import pandas as pd
    from deltalake import DeltaTable

    def read(name: str, columns: list[str]) -> pd.DataFrame:
        files = DeltaTable(str(root / name)).file_uris()
        parts = [pd.read_parquet(f, columns=columns, dtype_backend="pyarrow") for f in files]
        return pd.concat(parts, ignore_index=True)

    regions, channels = selection.get("region", ()), selection.get("channel", ())
    extra = ["channel"] if channels else []
    customers = read("customers", ["customer_id", "region"])
    orders = read("orders", ["customer_id", "order_date", "amount", "status", *extra])
    surveys = read("surveys", ["customer_id", "responded_at", "nps", "csat", *extra])
    tickets = read("tickets", ["customer_id", "opened_at", *extra])
    if regions:
        chosen = customers.loc[customers["region"].isin(regions), "customer_id"]
        orders = orders[orders["customer_id"].isin(chosen)]
        surveys = surveys[surveys["customer_id"].isin(chosen)]
        tickets = tickets[tickets["customer_id"].isin(chosen)]
    if channels:
        orders = orders[orders["channel"].isin(channels)]
        surveys = surveys[surveys["channel"].isin(channels)]
        tickets = tickets[tickets["channel"].isin(channels)]

    starts = [_quarter_shift(period, k) for k in (-2, -1, 0, 1)]
    moments = [pd.Timestamp(s) for s in starts]  # the same bounds for datetime columns
    completed = orders[~orders["status"].isin(["returned", "cancelled"])]
    first_order = completed.groupby("customer_id")["order_date"].min()

    def between(values: pd.Series, k: int, bounds: list[Any]) -> pd.Series:
        return (values >= bounds[k]) & (values < bounds[k + 1])

    active = [
        completed.loc[between(completed["order_date"], k, starts), "customer_id"].unique()
        for k in range(3)
    ]
    per_quarter = []
    for k in (1, 2):  # the previous quarter, then P
        done = completed[between(completed["order_date"], k, starts)]
        revenue, count = float(done["amount"].sum()), len(done)
        returned = int(
            (orders["status"].eq("returned") & between(orders["order_date"], k, starts)).sum()
        )
        to_date = completed.loc[
            completed["order_date"] < starts[k + 1], "customer_id"
        ].value_counts()
        repeaters = int(to_date.index[to_date >= 2].isin(active[k]).sum())
        retained = int(pd.Index(active[k]).isin(active[k - 1]).sum())
        new = int(between(first_order, k, starts).sum())
        answers = surveys[between(surveys["responded_at"], k, moments)]
        scored = answers["nps"].dropna()
        rated = answers["csat"].dropna()
        per_quarter.append(
            {
                "revenue": revenue,
                "orders": float(count),
                "aov": _ratio(revenue, count, 1.0),
                "active_customers": float(len(active[k])),
                "new_customers": float(new),
                "retention_rate": _ratio(retained, len(active[k - 1])),
                "repeat_purchase_rate": _ratio(repeaters, len(active[k])),
                "return_rate": _ratio(returned, count + returned),
                "nps": _ratio(int((scored >= 9).sum()) - int((scored <= 6).sum()), len(scored)),
                "csat": _ratio(int((rated >= 4).sum()), len(rated)),
                "tickets": float(between(tickets["opened_at"], k, moments).sum()),
            }
        )
    previous, current = per_quarter
    return {key: (current[key], previous[key]) for key in CHECKED}


def _ratio(part: float, whole: int, scale: float = 100.0) -> float | None:
    return scale * part / whole if whole else None


def _quarter_shift(start: date, quarters: int) -> date:
    index = start.year * 12 + start.month - 1 + 3 * quarters
    return date(index // 12, index % 12 + 1, 1)


# ----- running and reporting ------------------------------------------------------------------


def serve(side: str, root: Path, period: date) -> None:
    """The worker: for each setting label read from stdin, run once and reply with one JSON
    line (seconds and values); reply to `peak` with this process's peak RSS."""
    run = (pandas_runner if side == "pandas" else touchpoint_runner)(root, period)
    selections = dict(SETTINGS)
    for line in sys.stdin:
        command = line.strip()
        if command == "peak":
            peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
            reply: dict[str, Any] = {"peak_rss_gb": round(peak_gb, 2)}
        else:
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            values = run(selections[command])
            reply = {
                "seconds": time.perf_counter() - wall,
                "cpu_seconds": time.process_time() - cpu,
                "values": values,
            }
        print(json.dumps(reply), flush=True)


class Worker:
    """A side's worker process, asked one question at a time."""

    def __init__(self, side: str, root: Path, period: date) -> None:
        self.side = side
        command = [sys.executable, __file__, "--worker", side, "--root", str(root)]
        command += ["--period", _label(period)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, question: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(question + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit(f"The {self.side} worker failed (its error is printed above).")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def measure(roots: dict[str, Path], period: date, repeat: int) -> dict[str, dict[str, Any]]:
    """Per side: wall and CPU seconds of every timed run and values per setting, peak RSS."""
    workers = [Worker(side, roots[side], period) for side in SIDES]
    try:
        results: dict[str, dict[str, Any]] = {
            w.side: {
                "seconds": {label: [] for label, _ in SETTINGS},
                "cpu_seconds": {label: [] for label, _ in SETTINGS},
                "values": {},
            }
            for w in workers
        }
        for label, _ in SETTINGS:
            for worker in workers:
                results[worker.side]["values"][label] = worker.ask(label)["values"]
        for round_ in range(repeat):
            for label, _ in SETTINGS:
                shift = round_ % len(workers)
                for worker in workers[shift:] + workers[:shift]:
                    reply = worker.ask(label)
                    result = results[worker.side]
                    result["seconds"][label].append(reply["seconds"])
                    result["cpu_seconds"][label].append(reply["cpu_seconds"])
                    first = result["values"][label]
                    drift = [k for k in first if not _same_pair(reply["values"][k], first[k])]
                    if drift:
                        raise SystemExit(
                            f"{worker.side}, {label}: runs disagree on {', '.join(drift)}: a bug"
                        )
        for worker in workers:
            results[worker.side]["peak_rss_gb"] = worker.ask("peak")["peak_rss_gb"]
    finally:
        for worker in workers:
            worker.close()
    return results


def cross_check(touchpoint: dict[str, KpiValues], pandas: dict[str, KpiValues]) -> list[str]:
    """Every value and previous value that differs by more than the tolerance, described."""
    problems = []
    for label, _ in SETTINGS:
        for key in CHECKED:
            if key not in touchpoint[label]:
                problems.append(f"{label}: {key} missing from Touchpoint's scorecard")
                continue
            for index, which in enumerate(("value", "prev_value")):
                ours, theirs = touchpoint[label][key][index], pandas[label][key][index]
                if not _same(ours, theirs):
                    problems.append(
                        f"{label}: {key} {which}: touchpoint {ours!r} != pandas {theirs!r}"
                    )
    return problems


def _same_pair(a: tuple[float | None, ...], b: tuple[float | None, ...]) -> bool:
    return all(_same(x, y) for x, y in zip(a, b, strict=True))


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE)


def report_timings(measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Print wall-clock medians (min-max), CPU medians and the ratios of each side to
    touchpoint, per setting; return them."""
    timings: dict[str, Any] = {}
    print(
        f"\n{'setting':<15} {'side':<11} {'median (min-max)':>26} {'CPU median':>11} "
        f"{'side/touchpoint':>16}"
    )
    for label, _ in SETTINGS:
        summaries = {side: _summary(measured[side]["seconds"][label]) for side in SIDES}
        cpu = {side: statistics.median(measured[side]["cpu_seconds"][label]) for side in SIDES}
        ours = summaries["touchpoint"]["median_s"]
        ratios = {side: summaries[side]["median_s"] / ours for side in SIDES}
        timings[label] = {
            **summaries,
            "ratio": round(ratios["pandas"], 2),
            "rows_ratio": round(ratios["rows"], 2),
            "cpu_median_s": {side: round(v, 3) for side, v in cpu.items()},
            "cpu_ratio": round(cpu["pandas"] / cpu["touchpoint"], 2),
        }
        for side in SIDES:
            run = summaries[side]
            print(
                f"{label if side == SIDES[0] else '':<15} {side:<11} "
                f"{run['median_s']:>9.3f} s ({run['min_s']:.3f}-{run['max_s']:.3f}) "
                f"{cpu[side]:>9.3f} s {ratios[side]:>15.2f}x"
            )
    return timings


def report_values(ours: KpiValues, theirs: KpiValues, label: str) -> None:
    """Print both sides' values and previous values of one setting."""
    print(
        f"\n{'kpi':<21} {'touchpoint':>18} {'pandas':>18} {'prev touchpoint':>18} "
        f"{'prev pandas':>18}   ({label})"
    )
    for key in CHECKED:
        mine = ours.get(key, (None, None))
        other = theirs[key]
        print(
            f"{key:<21} {_fmt(mine[0]):>18} {_fmt(other[0]):>18} {_fmt(mine[1]):>18} "
            f"{_fmt(other[1]):>18}"
        )


def _summary(runs: list[float]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(runs), 3),
        "min_s": round(min(runs), 3),
        "max_s": round(max(runs), 3),
        "runs_s": [round(s, 3) for s in runs],
    }


def _parse_quarter(text: str) -> date:
    match = _QUARTER.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a quarter; write it like 2025-Q4.")
    return date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)


def _label(start: date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4f}"


def time_rollup_builds(root: Path, builds: int) -> dict[str, Any]:
    """Build the warehouse's rollups from scratch `builds` times (in this process)."""
    from analytics import rollups
    from analytics.warehouse import Warehouse

    runs, base_runs, parts = [], [], {}
    for _ in range(builds):
        shutil.rmtree(root / rollups.FOLDER, ignore_errors=True)
        started = time.perf_counter()
        parts = rollups.refresh(Warehouse(root), records=False)
        base_runs.append(time.perf_counter() - started)
        parts |= rollups.refresh(Warehouse(root))
        runs.append(time.perf_counter() - started)
    return _summary(runs) | {
        "base": _summary(base_runs),
        "parts_s": {k: round(v, 3) for k, v in parts.items()},
    }


def rows_copy(root: Path) -> Path:
    """A hard-linked copy of the warehouse without its rollups (no data is duplicated)."""
    from analytics import rollups

    copy = root.with_name(root.name + "_rows")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(
        root, copy, copy_function=os.link, ignore=shutil.ignore_patterns(rollups.FOLDER)
    )
    return copy


def main() -> None:
    defaults = ScaleSpec()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=False)
    parser.add_argument("--period", type=_parse_quarter, default=date(2025, 10, 1))
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per side and setting")
    parser.add_argument("--builds", type=int, default=3, help="timed rollup builds")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1. Got {args.repeat} instead.")

    if args.worker:
        serve(args.worker, args.root, args.period)
        return

    spec = spec_from(args)
    root = OUT / spec.folder_name
    built = build_warehouse(root, spec)
    state = "reused" if built["reused"] else f"generated in {built['total_seconds']} s"
    print(
        f"scale company: {spec.customers:,} customers, {spec.orders:,} orders, "
        f"{spec.surveys:,} surveys, {spec.tickets:,} tickets, seed {spec.seed} ({state}: {root})"
    )
    period = args.period
    print(
        f"period {_label(period)} against {_label(_quarter_shift(period, -1))}; "
        f"{args.repeat} timed runs per setting after a warm-up; {os.cpu_count()} cores"
    )
    for side, text in INCLUDED.items():
        print(f"  {side}: {text}")

    load_before = os.getloadavg()[0]
    builds = time_rollup_builds(root, max(args.builds, 1))
    print(
        f"rollup build from scratch (after every load or rollback): median "
        f"{builds['median_s']:.3f} s ({builds['min_s']:.3f}-{builds['max_s']:.3f}), of which "
        f"the parts every question needs {builds['base']['median_s']:.3f} s (the rest, for "
        f"order channel and product category filters, in the background); per part (last "
        f"build): {builds['parts_s']}"
    )
    roots = {"touchpoint": root, "rows": rows_copy(root), "pandas": root}
    measured = measure(roots, period, args.repeat)
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    touchpoint, rows, pandas = measured["touchpoint"], measured["rows"], measured["pandas"]

    timings = report_timings(measured)
    print(
        f"peak memory (max RSS): touchpoint {touchpoint['peak_rss_gb']} GB, rows "
        f"{rows['peak_rss_gb']} GB, pandas {pandas['peak_rss_gb']} GB; 1-minute load average "
        f"{load['before']} before, {load['after']} after ({os.cpu_count()} cores)"
    )

    targets = {}
    for label, _ in SETTINGS:
        median, ratio = timings[label]["touchpoint"]["median_s"], timings[label]["ratio"]
        targets[label] = {
            "touchpoint_median_s": median,
            "seconds_met": median <= TARGET_SECONDS,
            "ratio": ratio,
            "ratio_met": ratio >= TARGET_RATIO,
        }
        print(
            f"targets ({label}): median <= {TARGET_SECONDS} s: "
            f"{'met' if median <= TARGET_SECONDS else 'MISSED'} ({median} s); "
            f">= {TARGET_RATIO:g}x pandas: {'met' if ratio >= TARGET_RATIO else 'MISSED'} "
            f"({ratio}x)"
        )

    first = SETTINGS[0][0]
    report_values(touchpoint["values"][first], pandas["values"][first], first)
    problems = [
        f"{side}: {problem}"
        for side in ("touchpoint", "rows")
        for problem in cross_check(measured[side]["values"], pandas["values"])
    ]
    checked = 2 * 2 * len(CHECKED) * len(SETTINGS)
    if problems:
        tolerance = f"relative {RELATIVE_TOLERANCE:g}"
        print(f"\nCROSS-CHECK FAILED: {len(problems)} of {checked} values differ ({tolerance}):")
        for problem in problems:
            print(f"  MISMATCH {problem}")
    else:
        print(
            f"\ncross-check: all {checked} values of touchpoint and rows equal pandas' "
            f"(rel {RELATIVE_TOLERANCE:g})"
        )

    result = {
        "spec": asdict(spec),
        "generation": {k: built[k] for k in ("reused", "seconds", "total_seconds")},
        "period": _label(period),
        "repeat": args.repeat,
        "cores": os.cpu_count(),
        "load_average": load,
        "included": INCLUDED,
        "rollup_build": builds,
        "timings": timings,
        "peak_rss_gb": {side: measured[side]["peak_rss_gb"] for side in SIDES},
        "targets": targets,
        "values": {side: measured[side]["values"] for side in SIDES},
        "cross_check": {"checked": checked, "mismatches": problems},
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "kpis.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {OUT / 'kpis.json'}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
