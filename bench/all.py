"""Every benchmark, then one table of the speed figures: `make bench` runs this.

    .venv/bin/python bench/all.py                 # everything (hours on 2 cores)
    .venv/bin/python bench/all.py --only kpis_cli pages append browser_pages browser_filters
    .venv/bin/python bench/all.py --table         # only the table, from the last results

Runs each benchmark script of bench/ in turn (each prints its own report and writes
bench/out/<name>.json; all run at their default sizes: 1M customers, 10M orders), then reads
those JSON files and prints one table of the figures the speed issue asks for, each with the
baseline it was measured against in the same run, their ratio (figure / baseline), peak
memory and the target:

- the whole `kpis --period quarter` command against a pandas script, and the command line's
  startup against loading every command group (kpis_cli.json);
- each page's computation and each drill list, uncached, at 10M orders, against the
  Overview's scorecard (pages.json);
- an append of 10k orders to 10M: the rollups, the filter menus' values and the records
  sorted by customer brought up to date, against building them in full (append.json);
- the journeys' build at 1M customers and 20M events, a batch of customers at a time,
  against merging every customer at once (journeys.json);
- opening each page of the sample in Chromium, against reopening it with Streamlit's caches
  warm; switching to it within one tab, against switching to it again; and the cold start
  (browser_pages.json);
- a filter change at 10M orders in Chromium, against the same change cached
  (browser_filters.json);
- the same KPIs on local Apache Spark against DuckDB, at 10M orders (engines.json; Spark's
  peak is its JVM's).

A benchmark that failed or has not run yet shows as missing. Medians of 3 throughout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
# In the order they run: the older benchmarks first, then the speed issue's.
SCRIPTS = ("ingest", "kpis", "segments", "journeys", "feedback", "review", "kpis_cli",
           "pages", "append", "browser_pages", "browser_filters", "engines")  # fmt: skip
Row = tuple[str, float | None, str, float | None, float | None, str, bool | None]


def run(names: list[str]) -> dict[str, int]:
    """Run each benchmark; their exit statuses."""
    statuses = {}
    for name in names:
        print(f"\n===== bench/{name}.py =====", flush=True)
        statuses[name] = subprocess.run([sys.executable, str(BENCH / f"{name}.py")]).returncode
    return statuses


def _load(name: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads((OUT / f"{name}.json").read_text()))
    except (OSError, ValueError):
        return None


def rows() -> list[Row]:
    """(figure, median s, baseline, baseline median s, peak MB, target, met) per figure."""
    found: list[Row] = []
    cli = _load("kpis_cli")
    if cli is not None:
        sides = cli["sides"]
        pandas = sides["pandas"]["median"] if "pandas" in sides else None  # --skip pandas
        found.append(("kpis --period quarter (whole process)", sides["cli"]["median"],
                      "pandas script", pandas, sides["cli"]["peak_mb"],
                      "<= 1.5 s, >= 10x", cli["targets_met"]))  # fmt: skip
        every = sides["startup, every group"]["median"]
        startup = sides["startup"]
        found.append(("command line startup for kpis", startup["median"], "every command group",
                      every, startup["peak_mb"], "cut", None))  # fmt: skip
    pages = _load("pages")
    if pages is not None:
        base = pages["sides"][pages.get("baseline", "overview")]["median"]
        for side, r in pages["sides"].items():
            target = f"<= {r['target']:g} s"
            found.append((f"{side} (10M orders)", r["median"], "overview scorecard", base,
                           r["peak_mb"], target, r["met"]))  # fmt: skip
    append = _load("append")
    if append is not None:
        update = append["update"]
        found.append(("append 10k orders: rollups updated", update["median"],
                      "full base build", append["full base"]["median"], update["peak_mb"],
                      "<= 1 s", append["met"]))  # fmt: skip
        for name, r in append.get("others", {}).get("update", {}).items():
            found.append((f"append 10k orders: {name}", r["median"], "built from nothing",
                          append["others"]["full"][name]["median"], None, "<= 1 s",
                          r["median"] <= 1.0))  # fmt: skip
        for name, r in append.get("derived", {}).get("update", {}).items():  # --derived
            found.append((f"append 10k orders: {name}", r["median"], "built from nothing",
                          append["derived"]["full"][name]["median"], None, "<= 1 s",
                          r["median"] <= 1.0))  # fmt: skip
        for page, r in append.get("earlier pages", {}).items():  # --derived
            found.append((f"append 10k orders: {page} page until rebuilt", r["median"], "-",
                          None, None, "<= 0.5 s", r["median"] <= 0.5))  # fmt: skip
    journeys = _load("journeys")
    if journeys is not None and "build in one batch" in journeys:
        spec, built, whole = journeys["spec"], journeys["build"], journeys["build in one batch"]
        size = f"{spec['customers'] / 1e6:g}M customers, {spec['events'] / 1e6:g}M events"
        found.append((f"journeys build ({size})", built["median"], "all customers at once",
                      whole["median"], built["peak_mb"], "-", None))  # fmt: skip
        found.append(("journeys build, all customers at once", whole["median"], "-", None,
                      whole["peak_mb"], "-", None))  # fmt: skip
    browser = _load("browser_pages")
    if browser is not None:
        for page, r in browser["pages"].items():
            found.append((f"open {page} (sample, browser)", r["first"]["median"], "reopened",
                          r["cached"]["median"], None, "<= 1.5 s", r["met"]))  # fmt: skip
        for page, r in browser["pages"].items():
            if "switch" in r:  # switching pages within one tab (the sidebar's links)
                found.append((f"switch to {page} (sample, in-tab)", r["switch"]["median"],
                              "switched to again", r["switch_cached"]["median"], None,
                              "<= 1.5 s", r["switch_met"]))  # fmt: skip
        cold = browser["cold_start"]
        found.append(("cold start to the Overview drawn", cold["median"], "-", None, None,
                      "<= 3 s", cold["met"]))  # fmt: skip
    filters = _load("browser_filters")
    if filters is not None:
        found.append(("filter change (10M orders, browser)", filters["uncached"]["median"],
                      "the same change cached", filters["cached"]["median"], None, "<= 1 s",
                      filters["met"]))  # fmt: skip
    engines = _load("engines")
    if engines is not None:
        orders = f"{engines['spec']['orders'] / 1e6:g}M orders"
        for task, r in engines["tasks"].items():
            found.append((f"spark: {task} ({orders})", r["spark"]["median"], "duckdb",
                          r["duckdb"]["median"], engines["peak_mb"]["spark_jvm"], "-",
                          None))  # fmt: skip
    return found


def table(found: list[Row]) -> str:
    lines = [
        f"{'figure':<40} {'median':>8} {'baseline':<22} {'base':>8} {'x base':>7} {'peak MB':>8}"
        f"  {'target':<17} met",
    ]
    for figure, median, baseline, base, peak, target, met in found:
        ratio = f"{median / base:.2f}x" if median and base else "-"
        shown = "-" if met is None else ("met" if met else "MISSED")
        lines.append(
            f"{figure:<40} {_s(median):>8} {baseline:<22} {_s(base):>8} {ratio:>7} "
            f"{'-' if peak is None else f'{peak:,.0f}':>8}  {target:<17} {shown}"
        )
    return "\n".join(lines)


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run only these")
    parser.add_argument("--table", action="store_true", help="print the table only")
    args = parser.parse_args()
    statuses = {} if args.table else run(list(args.only or SCRIPTS))
    found = rows()
    print("\n===== speed figures (medians of 3; bench/out/*.json) =====")
    print(table(found) if found else "no results yet: run the benchmarks first")
    failed = [name for name, status in statuses.items() if status]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
