"""Benchmark: what each dashboard page computes when it is opened, uncached, at scale.

    .venv/bin/python bench/pages.py                     # 1M customers, 10M orders, 20M events
    .venv/bin/python bench/pages.py --customers 2000 --orders 20000 --surveys 4000 \\
        --tickets 1000 --events 20000 --repeat 1       # a tiny company: does it all run?

The scale company of bench/journeys.py (bench/scale.py: 1M customers, 10M orders, 2M
surveys, 500k tickets, 20M touchpoint events by default; cached under
bench/out/journeys_<customers>_<events>_<seed>/, gitignored, and reused when complete).
Before anything is timed, every derived table is built once (`analytics.derived.refresh`:
rollups, filter values, segments, journeys, feedback, records by customer; its seconds per
part and peak memory are reported, untimed; a reused company reuses its builds), and a plan
step finds what a reader would click (untimed): the sidebar's date range, the latest month,
the largest RFM segment, the largest monthly cohort and the customer with the largest
revenue in the latest month.

Then every side runs once untimed (the OS file cache) and `--repeat` times timed, each run
in a worker process of its own (so that its peak memory, max RSS, is its own), the sides
rotating between rounds so that load from other work on the machine falls on all alike.
Each run calls the analytics functions that the page's code calls through dashboard/data.py
(its Streamlit caches left out), with the page's defaults and the sidebar's filters (the
whole date range, nothing narrowed), from a fresh `Warehouse` and `QueryGateway` (a new
DuckDB database: nothing is cached; the modules are imported before the clock starts, as a
dashboard process has them), for an account with full access:

pages (target <= 0.5 s each):
- overview (the baseline): the sidebar (data range, every filter's values), the data's
  freshness, `kpis.scorecard` of the latest quarter (views/overview.py);
- kpis week: `kpis.trend` of every KPI by week over the last 365 days of data (the page
  itself asks for one KPI at a time: this is all of them at once);
- kpis month by region: `kpis.trend` of every KPI by month, `by="region"`, all dates;
- retention: `cohorts.cohort_table` by month of customers, and of revenue, and the
  retention and churn trends by month (views/retention.py);
- segments: what the page computes on open: the RFM table and its quarterly trend, then
  the Profiles tab (the projection and the clusters' summary); each other tab apart, as a
  reader opens it (only the open tab runs): migration between the last two quarters, the
  RFM grid, who to call (the fading customers);
- journeys: on open, the Funnel tab; apart, the map, the pain points, the paths (5 steps
  from the start, repeats collapsed) and the touchpoints' stages (all dates);
- feedback: on open, the Themes tab (the latest quarter's themes, their examples, their
  quarterly trend, by NPS group); apart, the monthly sentiment, the NPS key drivers and
  the verbatims;
- review: the review's quarters, its derived builds and `review.quarterly_review` of the
  last complete quarter, with its sections (views/review.py);

drill lists (target <= 1 s each):
- kpi customers: `drill.kpi_customers` of revenue in the latest month (a clicked point);
- cohort customers: `cohorts.cohort_customers` of the largest monthly cohort, month 1;
- segment members: `segments.members` of the largest RFM segment (a selected row);
- customer 360: the profile, segments, orders and timeline of the customer with the
  largest revenue in the latest month (the first row of the kpi customers list).

Prints, per side, the median (min-max) seconds, the ratio to the overview's median, peak
memory and whether the target is met; writes bench/out/pages.json (`--out`). `--only`
times only the sides whose names start with one of its words (`--only journeys`: the
Journeys page's tabs), with the overview beside them as the baseline.

With `--events 0` (the company of bench/kpis.py, without touchpoint events: 100M orders in
bench/SCALE_100M.md) only the rollups and the filter values are built, untimed, and only the
sides that read nothing else can run (`ROLLUP_SIDES`: `--only overview kpis retention kpi
cohort`); the drill lists then find no segmentation, so their segment column is empty. The
Segments page's sides (`SEGMENT_SIDES`: `--only segment`) can run there too: the segmentation
is then built as well, untimed (and the rollups' later parts only when another side reads
them).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scale import (
    OUT,
    ScaleSpec,
    build_derived,
    build_warehouse,
    size_args,
    spec_args,
    spec_from,
    worker_reply,
)

if TYPE_CHECKING:
    from analytics.filters import Filters
    from analytics.warehouse import QueryGateway

PAGES = (
    "overview",
    "kpis week",
    "kpis month by region",
    "retention",
    "segments",
    "segments: migration",
    "segments: rfm grid",
    "segments: who to call",
    "journeys",
    "journeys: map",
    "journeys: pain points",
    "journeys: paths",
    "journeys: stages",
    "feedback",
    "feedback: sentiment",
    "feedback: drivers",
    "feedback: verbatims",
    "review",
)
DRILLS = ("kpi customers", "cohort customers", "segment members", "customer 360")
SIDES = (*PAGES, *DRILLS)
GROUPS = {"pages": (PAGES, 0.5), "drill lists": (DRILLS, 1.0)}  # sides, target seconds
TARGETS = {side: target for sides, target in GROUPS.values() for side in sides}
BASELINE = "overview"
STEPS = ("load", "derived", "rollups", "segmented", "plan")  # untimed, each in a worker too
# Sides that read only the rollups and the rows (no segmentation, journeys or comments).
ROLLUP_SIDES = ("overview", "kpis week", "kpis month by region", "retention", "kpi customers",
                "cohort customers")  # fmt: skip
# Sides that read the rollups and the segmentation (no journeys or comments).
SEGMENT_SIDES = ("segments", "segments: migration", "segments: rfm grid", "segments: who to call",
                 "segment members")  # fmt: skip
KPI_WEEKS_DAYS = 365  # the KPIs at week grain cover the last year of data
DRILL_KPI = "revenue"  # the KPIs page's default KPI
SIDEBAR_DATASETS = ["orders", "surveys", "tickets"]  # the sidebar's date range spans them
# Imported before the clock starts, as a dashboard process has them (dashboard/data.py
# imports the analytics modules; the last two are imported on first use).
PRELOADED = (
    "analytics.cohorts",
    "analytics.customer360",
    "analytics.derived",
    "analytics.drill",
    "analytics.feedback.views",
    "analytics.journeys.views",
    "analytics.kpis",
    "analytics.review.story",
    "analytics.segments",
    "analytics.feedback.sentiment",
    "scipy.stats",
)


# ----- workers --------------------------------------------------------------------------------


def worker(side: str, root: Path, spec: ScaleSpec, plan: dict[str, Any]) -> dict[str, Any]:
    """Run one side (or preparation step) once in this process: its seconds, peak memory."""
    if side == "load":
        result = _load(root, spec)
    elif side == "derived":
        result = build_derived(root)
    elif side == "rollups":
        result = _rollups(root)
    elif side == "segmented":
        result = _segmented(root)
    elif side == "plan":
        result = plan_for(root)
    else:
        result = timed(root, side, plan)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _load(root: Path, spec: ScaleSpec) -> dict[str, Any]:
    started = time.perf_counter()
    built = build_warehouse(root, spec)
    return {
        "seconds": time.perf_counter() - started,
        "reused": built["reused"],
        "rows": built["rows"],
    }


def _rollups(root: Path) -> dict[str, Any]:
    """Only the rollups and the filter menus' values (all that `ROLLUP_SIDES` read),
    reported as `build_derived` does."""
    from analytics import filter_values, rollups
    from analytics.warehouse import Warehouse

    started = time.perf_counter()
    parts = rollups.refresh(Warehouse(root)) | filter_values.refresh(Warehouse(root))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "parts": {k: round(v, 2) for k, v in parts.items()}}


def _segmented(root: Path) -> dict[str, Any]:
    """What `SEGMENT_SIDES` and the baseline read: the segmentation, the rollups' base parts
    (not the later ones: the Segments page reads the segmentation alone) and the filter
    menus' values, reported as `build_derived` does."""
    from analytics import filter_values, rollups, segments
    from analytics.warehouse import Warehouse

    started = time.perf_counter()
    parts = rollups.refresh(Warehouse(root), records=False)
    parts |= filter_values.refresh(Warehouse(root))
    took = segments.refresh(Warehouse(root))
    parts |= {} if took is None else {"segments": took}
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "parts": {k: round(v, 2) for k, v in parts.items()}}


def _together(builds: list[dict[str, Any]]) -> dict[str, Any]:
    """The reports of several build steps as one."""
    return {
        "seconds": sum(b["seconds"] for b in builds),
        "parts": {k: v for b in builds for k, v in b["parts"].items()},
        "peak_mb": max(b["peak_mb"] for b in builds),
    }


def plan_for(root: Path) -> dict[str, Any]:
    """What a reader opens and clicks, found once: the sidebar's range and the drill targets."""
    import polars as pl

    from analytics import cohorts, drill, rollups, segments
    from analytics.derived import DEFAULT_VALUE
    from analytics.filters import Filters
    from analytics.periods import period_start
    from analytics.warehouse import QueryGateway, Warehouse

    warehouse = Warehouse(root)
    gateway = QueryGateway(warehouse)
    bounds = rollups.data_range(gateway, SIDEBAR_DATASETS)
    assert bounds is not None, "the scale company has data"
    everything = Filters(start=bounds[0], end=bounds[1])
    month = period_start(bounds[1], "month")
    segmentation = segments.current(warehouse, DEFAULT_VALUE)
    segment = None  # no segmentation when only the rollups are built (--events 0)
    if segmentation is not None:
        summary = segments.segment_summary(gateway, segmentation, everything, "rfm")
        segment = summary.sort("customers", descending=True, nulls_last=True)["segment"][0]
    table = cohorts.cohort_table(gateway, everything, "month", "customers")
    cohort = table.filter(pl.col("period_index") == 0).sort("size", descending=True)
    listed = drill.kpi_customers(gateway, DRILL_KPI, everything, "month", month)
    assert listed.customers.height, f"no customer behind {DRILL_KPI} in {month}"
    return {
        "first": bounds[0].isoformat(),
        "last": bounds[1].isoformat(),
        "month": month.isoformat(),
        "segment": segment,
        "cohort": cohort["cohort_start"][0].isoformat(),
        "customer": listed.customers["customer_id"][0],
    }


def timed(root: Path, side: str, plan: dict[str, Any]) -> dict[str, Any]:
    """One page's (or drill list's) computation, from a fresh warehouse and gateway."""
    from analytics.warehouse import QueryGateway, Warehouse

    for module in PRELOADED:
        importlib.import_module(module)
    compute = COMPUTE[side]
    cpu, started = time.process_time(), time.perf_counter()
    warehouse = Warehouse(root)
    rows = compute(QueryGateway(warehouse), plan)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu, "rows": rows}


def _sidebar(plan: dict[str, Any]) -> Filters:
    """The sidebar's filters as a page receives them: the whole range, nothing narrowed."""
    from analytics.filters import Filters

    return Filters(start=date.fromisoformat(plan["first"]), end=date.fromisoformat(plan["last"]))


def _height(*frames: Any) -> int:
    return sum(frame.height for frame in frames)


def _overview(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import kpis, rollups
    from analytics.filters import Filters, dimension_values
    from analytics.periods import parse_period, period_label, periods_between

    warehouse = gateway.warehouse
    assert not warehouse.is_empty()
    bounds = rollups.data_range(gateway, SIDEBAR_DATASETS)
    assert bounds is not None
    known = dimension_values(gateway)
    warehouse.last_loaded()
    filters = Filters(start=bounds[0], end=bounds[1])
    labels = [period_label(p, "quarter") for p in periods_between(*bounds, "quarter")]
    table = kpis.scorecard(gateway, filters, "quarter", parse_period(labels[-1], "quarter"))
    return table.height + sum(len(v) for v in known.values())


def _kpis_week(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import kpis
    from analytics.filters import Filters

    last = date.fromisoformat(plan["last"])
    filters = Filters(start=last - timedelta(days=KPI_WEEKS_DAYS - 1), end=last)
    return kpis.trend(gateway, [k.key for k in kpis.KPIS], filters, "week").height


def _kpis_region(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import kpis

    keys = [k.key for k in kpis.KPIS]
    return kpis.trend(gateway, keys, _sidebar(plan), "month", by="region").height


def _retention(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import cohorts, kpis

    filters = _sidebar(plan)
    return _height(
        cohorts.cohort_table(gateway, filters, "month", "customers"),
        cohorts.cohort_table(gateway, filters, "month", "revenue"),
        kpis.trend(gateway, ("retention_rate",), filters, "month"),
        kpis.trend(gateway, ("churn_rate",), filters, "month"),
    )


def _served(kind: str, gateway: QueryGateway) -> tuple[QueryGateway, Any]:
    """The stored segmentation, journeys or feedback analysis (`kind`) and the gateway to
    read it through, as the pages take them (`builds.served`): of the current data, or,
    right after an append (bench/append.py --derived), of the data before it."""
    from analytics import builds, feedback, journeys, segments
    from analytics.derived import DEFAULT_VALUE

    current, earlier = {
        "segments": (lambda w: segments.current(w, DEFAULT_VALUE), segments.earlier),
        "journeys": (journeys.current, journeys.earlier),
        "feedback": (feedback.current, feedback.earlier),
    }[kind]
    served = builds.served(current, earlier, gateway)
    assert served is not None, f"the derived step builds the {kind}"
    return served


def _segmentation(gateway: QueryGateway) -> tuple[QueryGateway, Any]:
    return _served("segments", gateway)


def _segments(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    """On open: the RFM table and its quarterly trend, then the Profiles tab."""
    from analytics import segments

    filters, (gateway, stored) = _sidebar(plan), _segmentation(gateway)
    return _height(
        segments.segment_summary(gateway, stored, filters, "rfm"),
        segments.segment_trend(gateway, stored, filters),
        segments.projection(gateway, stored, filters),
        segments.segment_summary(gateway, stored, filters, "cluster"),
    )


def _segments_migration(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import segments

    filters, (gateway, stored) = _sidebar(plan), _segmentation(gateway)
    quarters = segments.quarter_labels(gateway, stored)
    before, after = quarters[-2], quarters[-1]
    return segments.segment_migration(gateway, stored, before, after, filters).height


def _segments_grid(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import segments

    return segments.rfm_grid(*_segmentation(gateway), _sidebar(plan)).height


def _segments_calls(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import segments

    return segments.fading_customers(*_segmentation(gateway), _sidebar(plan)).height


def _journey_view(name: str) -> Callable[[QueryGateway, dict[str, Any]], int]:
    """One tab of the Journeys page (all dates: journeys begin before the orders)."""

    def compute(gateway: QueryGateway, plan: dict[str, Any]) -> int:
        from analytics.journeys import stages, steps, views
        from analytics.journeys.paths import PathOptions

        gateway, stored = _served("journeys", gateway)
        filters = _sidebar(plan).with_range(None, None)
        if name == "funnel":
            return views.funnel_table(gateway, stored, filters, None).height
        if name == "map":
            return views.journey_map(gateway, stored, filters, None).height
        if name == "pain points":
            return views.pain_table(gateway, stored, filters, None).height
        if name == "paths":
            options = PathOptions(steps=5, anchor="start", collapse=True)
            return _height(*views.path_tables(gateway, stored, filters, options))
        settings = stages.load_settings(gateway.warehouse.root)
        return steps.touchpoint_stages(gateway, gateway.warehouse, settings).height

    return compute


def _feedback_view(name: str) -> Callable[[QueryGateway, dict[str, Any]], int]:
    """One tab of the Feedback page (its first, Themes, is what opens)."""

    def compute(gateway: QueryGateway, plan: dict[str, Any]) -> int:
        from datetime import datetime

        from analytics.errors import ConfigError
        from analytics.feedback import views
        from analytics.periods import period_label, period_start

        gateway, stored = _served("feedback", gateway)
        filters = _sidebar(plan)
        if name == "themes":
            last = datetime.fromisoformat(str(stored.meta["last"])).date()
            quarter = period_label(period_start(last, "quarter"), "quarter")
            return _height(
                views.theme_table(gateway, stored, filters, quarter=quarter, group=None),
                views.theme_examples(gateway, stored, filters, group=None),
                views.theme_trend(gateway, stored, filters, period="quarter", group=None),
                views.themes_by_group(gateway, stored, filters),
            )
        if name == "sentiment":
            return views.sentiment_trend(gateway, stored, filters, period="month").height
        if name == "drivers":
            try:
                return views.driver_table(gateway, filters, target="nps").table.height
            except ConfigError:  # the page says why there are none
                return 0
        found, _ = views.verbatims(
            gateway, stored, filters, search="", theme=None, tone=None, group=None
        )
        return found.height

    return compute


def _review(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import review, rollups
    from analytics.derived import DEFAULT_VALUE
    from analytics.filters import Filters
    from analytics.review import story

    quarter = review.last_complete_quarter(gateway)  # data.review_quarters: the first one
    assert rollups.data_range(gateway, SIDEBAR_DATASETS) is not None
    builds = review.Derived.of(gateway, DEFAULT_VALUE)  # data.review_builds
    found = review.quarterly_review(
        gateway, quarter, Filters(), derived=review.Derived.of(gateway, DEFAULT_VALUE)
    )
    assert builds.segmentation is not None and not found.left_out, found.left_out
    return len(story.sections(found))


def _kpi_customers(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import drill

    month = date.fromisoformat(plan["month"])
    found = drill.kpi_customers(gateway, DRILL_KPI, _sidebar(plan), "month", month, search="")
    return found.customers.height


def _cohort_customers(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import cohorts

    cohort = date.fromisoformat(plan["cohort"])
    return cohorts.cohort_customers(gateway, _sidebar(plan), "month", cohort, 1).height


def _segment_members(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import segments

    return segments.members(*_segmentation(gateway), plan["segment"], _sidebar(plan), "rfm").height


def _customer_360(gateway: QueryGateway, plan: dict[str, Any]) -> int:
    from analytics import customer360, segments

    customer = plan["customer"]
    records = customer360.customer_records(gateway, customer)  # read once, as the page does
    profile = customer360.customer_profile(gateway, customer, records)
    assert profile is not None, f"{customer} is a known customer"
    _, history = segments.customer_segments(*_segmentation(gateway), customer)
    return _height(
        history,
        customer360.customer_orders(gateway, customer, records),
        customer360.customer_timeline(gateway, customer, records),
    )


COMPUTE = {
    "overview": _overview,
    "kpis week": _kpis_week,
    "kpis month by region": _kpis_region,
    "retention": _retention,
    "segments": _segments,
    "segments: migration": _segments_migration,
    "segments: rfm grid": _segments_grid,
    "segments: who to call": _segments_calls,
    "journeys": _journey_view("funnel"),
    "journeys: map": _journey_view("map"),
    "journeys: pain points": _journey_view("pain points"),
    "journeys: paths": _journey_view("paths"),
    "journeys: stages": _journey_view("stages"),
    "feedback": _feedback_view("themes"),
    "feedback: sentiment": _feedback_view("sentiment"),
    "feedback: drivers": _feedback_view("drivers"),
    "feedback: verbatims": _feedback_view("verbatims"),
    "review": _review,
    "kpi customers": _kpi_customers,
    "cohort customers": _cohort_customers,
    "segment members": _segment_members,
    "customer 360": _customer_360,
}


# ----- the run --------------------------------------------------------------------------------


def run_worker(side: str, root: Path, spec: ScaleSpec, plan: dict[str, Any]) -> dict[str, Any]:
    """Run `side` in a worker process of its own; what it reports."""
    command = [sys.executable, __file__, "--worker", side, "--root", str(root),
               "--plan", json.dumps(plan), *spec_args(spec)]  # fmt: skip
    return worker_reply(command, f"{side} worker")


def chosen_sides(only: list[str] | None) -> tuple[str, ...]:
    """The sides whose names start with one of `only` (all when None), and the baseline."""
    if only is None:
        return SIDES
    return tuple(s for s in SIDES if s == BASELINE or any(s.startswith(w) for w in only))


def measure(
    root: Path, spec: ScaleSpec, plan: dict[str, Any], repeat: int, sides: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """One untimed warm-up per side, then `repeat` rounds, the order rotating each round."""
    for side in sides:
        result = run_worker(side, root, spec, plan)
        print(f"  warm-up {side}: {result['seconds']:.2f} s", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for i in range(repeat):
        shift = i % len(sides)
        for side in sides[shift:] + sides[:shift]:
            result = run_worker(side, root, spec, plan)
            runs[side].append(result)
            print(f"  run {i + 1} {side}: {result['seconds']:.2f} s", flush=True)
    return runs


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    baseline = statistics.median(r["seconds"] for r in runs[BASELINE])
    summary = {}
    for side, results in runs.items():
        seconds = [r["seconds"] for r in results]
        median = statistics.median(seconds)
        summary[side] = {
            "median": median,
            "min": min(seconds),
            "max": max(seconds),
            "runs": seconds,
            "ratio": median / baseline,
            "peak_mb": max(r["peak_mb"] for r in results),
            "target": TARGETS[side],
            "met": median <= TARGETS[side],
            "cpu_median": statistics.median(r["cpu_seconds"] for r in results),
            "rows": results[-1]["rows"],
        }
    return summary


def _parts(built: dict[str, Any]) -> str:
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in built["parts"].items()) or "all reused"
    return f"{built['seconds']:.1f} s ({parts}), peak {built['peak_mb']:,.0f} MB"


def print_table(summary: dict[str, dict[str, Any]]) -> None:
    for group, (every, target) in GROUPS.items():
        sides = [s for s in every if s in summary]
        if not sides:  # left out by --only
            continue
        print(f"\n{group} (target <= {target:g} s each)")
        print(f"{'side':<22} {'median s':>9} {'min-max':>13} {'x overview':>11} "
              f"{'peak MB':>8}  target")  # fmt: skip
        for side in sides:
            r = summary[side]
            spread = f"{r['min']:.2f}-{r['max']:.2f}"
            print(f"{side:<22} {r['median']:9.2f} {spread:>13} {r['ratio']:10.1f}x "
                  f"{r['peak_mb']:8,.0f}  {'met' if r['met'] else 'MISSED'}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    defaults = ScaleSpec(events=20_000_000)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=True)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side")
    parser.add_argument("--work", type=Path, default=OUT, help="where the companies are kept")
    parser.add_argument("--out", type=Path, default=OUT / "pages.json", help="the JSON report")
    parser.add_argument(
        "--only", nargs="+", metavar="WORD", help="time only the sides starting with these words"
    )
    parser.add_argument("--worker", choices=(*STEPS, *SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=json.loads, default={}, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    spec = spec_from(args)
    if args.worker:
        print(json.dumps(worker(args.worker, args.root, spec, args.plan), default=str))
        return
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1. Got {args.repeat} instead.")
    sides = chosen_sides(args.only)
    if args.only and not any(s.startswith(w) for s in SIDES for w in args.only):
        parser.error(f"--only matches no side. Got {' '.join(args.only)} instead.")
    if spec.events < 1 and not set(sides) <= {*ROLLUP_SIDES, *SEGMENT_SIDES}:
        parser.error(
            f"--events must be at least 1 (the Journeys page) unless --only names sides that "
            f"read only the rollups ({', '.join(ROLLUP_SIDES)}) or the segmentation too "
            f"({', '.join(SEGMENT_SIDES)}). Got {spec.events} instead."
        )
    root = args.work / spec.folder_name
    load = run_worker("load", root, spec, {})
    rows = ", ".join(f"{v:,} {k}" for k, v in load["rows"].items())
    print(f"scale company: {rows} ({'reused' if load['reused'] else 'generated'}"
          f" in {load['seconds']:.1f} s: {root})", flush=True)  # fmt: skip
    # Without events: the segmentation if a Segments side is asked for, then every rollup
    # part unless only those and the baseline are (the months per segment then of it).
    steps = ["derived"]
    if not spec.events:
        segmented = bool(set(sides) & set(SEGMENT_SIDES))
        rolled = not segmented or bool(set(sides) - {*SEGMENT_SIDES, BASELINE})
        steps = ["segmented"] * segmented + ["rollups"] * rolled
    built = _together([run_worker(step, root, spec, {}) for step in steps])
    print(f"derived tables (untimed, once): {_parts(built)}", flush=True)
    plan = run_worker("plan", root, spec, {})
    plan = {k: v for k, v in plan.items() if k != "peak_mb"}
    print(f"plan (untimed): {plan}", flush=True)
    runs = measure(root, spec, plan, args.repeat, sides)
    summary = summarise(runs)
    report = {
        "spec": asdict(spec),
        "root": str(root),
        "repeat": args.repeat,
        "load": load,
        "derived": built,
        "plan": plan,
        "baseline": BASELINE,
        "load_average": os.getloadavg(),
        "sides": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\n{rows}; medians of {args.repeat}, each side in its own process, uncached")
    print(f"derived tables (untimed, once): {_parts(built)}")
    print_table(summary)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
