"""Benchmark: the quarterly review's generation and its files, against the Overview's scorecard.

    .venv/bin/python bench/review.py                    # the sample, then 1M customers
    .venv/bin/python bench/review.py --skip-scale       # the sample company only (quick)
    .venv/bin/python bench/review.py --skip-sample --customers 100000 --orders 1000000 \\
        --surveys 200000 --tickets 50000 --events 2000000   # a smaller scale company

Two companies, one after the other:

- sample: the committed sample company (data/sample) loaded as the app's first start loads
  it (`analytics.bootstrap.ensure_sample_loaded`, which also builds the rollups) into a
  temporary folder under the work folder (bench/out/, gitignored), removed at the end;
  reviewed quarter 2025-Q2 (the planted NPS drop);
- scale: the scale company of bench/journeys.py (bench/scale.py: 1M customers, 10M orders,
  2M surveys, 500k tickets, 20M touchpoint events by default; cached under
  bench/out/review_<...>/), reviewed quarter `analytics.review.last_complete_quarter`.

Before anything is timed, every derived table is built once (`analytics.derived.refresh`:
rollups, segments, journeys, feedback; its seconds per part and peak memory are reported,
untimed as a side; a reused scale company reuses its builds) and the review is computed
once and pickled (the files' input). Then, `--repeat` times each, every side in its own
worker process (so that its peak memory, max RSS, is its own), the runs rotating between
the sides so that load from other work on the machine falls on all alike:

- scorecard (the baseline): `analytics.kpis.trend(gateway, HEADLINE, Filters(start=<the
  quarter a year before>, end=<the quarter's end>), "quarter")`, what the Overview computes
  and the review's own first step;
- review: `analytics.review.quarterly_review(gateway, quarter)`: that trend, the causes
  (detractor themes, ticket categories), the movers (regions, channels, segments, themes,
  migration, journey pain points, customers at risk);
- html, pdf, pptx: `dashboard.review_files.render(review, fmt, audience="bench")` of the
  pickled review (the charts, the HTML; PDF and PPTX through the system Chromium); the
  file's size is recorded, and the largest child process's peak memory (Chromium) too.

Both timed sides start from a fresh `Warehouse` and `QueryGateway` (a new DuckDB database).
Prints, per company, medians (min-max), the ratio to the scorecard's median and peak memory,
and writes bench/out/review.json (after each company, so a long run keeps what it did).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

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

COMPANIES = ("sample", "scale")
FILES = ("html", "pdf", "pptx")
SIDES = ("scorecard", "review", *FILES)
BASELINE = "scorecard"
STEPS = ("load", "derived", "snapshot")  # untimed preparation, each in a worker too
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLE_QUARTER = "2025-Q2"
SNAPSHOT = "_bench_review.pickle"  # the review, computed once, that the files are drawn from
AUDIENCE = "bench"


# ----- workers --------------------------------------------------------------------------------


def worker(
    side: str, root: Path, *, company: str, quarter: str | None, spec: ScaleSpec
) -> dict[str, Any]:
    """Run one side (or preparation step) once in this process: its seconds, peak memory."""
    if side == "load":
        result = _load(root, company, spec)
    elif side == "derived":
        result = build_derived(root)
    elif side == "snapshot":
        result = _snapshot(root, company, quarter)
    elif side in FILES:
        result = _file(root, side)
    else:
        assert quarter is not None, "the snapshot step finds the quarter"
        result = _compute(root, side, quarter)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["child_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def _load(root: Path, company: str, spec: ScaleSpec) -> dict[str, Any]:
    from analytics.bootstrap import ensure_sample_loaded
    from analytics.warehouse import Warehouse

    started = time.perf_counter()
    if company == "sample":
        loaded = ensure_sample_loaded(
            Warehouse(root), SAMPLE_DIR, user="bench", progress=lambda stage, done: None
        )
        assert loaded is not None, f"{root} was not empty"
        rows = {r.dataset: r.rows_loaded for r in loaded}
        return {"seconds": time.perf_counter() - started, "reused": False, "rows": rows}
    built = build_warehouse(root, spec)
    return {
        "seconds": time.perf_counter() - started,
        "reused": built["reused"],
        "rows": built["rows"],
        "generated_seconds": built["total_seconds"],
    }


def _snapshot(root: Path, company: str, quarter: str | None) -> dict[str, Any]:
    """The review computed once (a first, cold run), pickled for the file sides."""
    from analytics import review
    from analytics.review import story
    from analytics.warehouse import QueryGateway, Warehouse

    gateway = QueryGateway(Warehouse(root))
    quarter = quarter or (
        SAMPLE_QUARTER if company == "sample" else review.last_complete_quarter(gateway)
    )
    started = time.perf_counter()
    found = review.quarterly_review(gateway, quarter)
    seconds = time.perf_counter() - started
    (root / SNAPSHOT).write_bytes(pickle.dumps(found))
    return {
        "seconds": seconds,
        "quarter": quarter,
        "left_out": found.left_out,
        "highlights": [h.text for h in found.highlights],
        "movers": {name: frame.height for name, frame in found.movers.items()},
        "sections": len(story.sections(found)),
        "data_versions": found.data_versions,
    }


def _compute(root: Path, side: str, quarter: str) -> dict[str, Any]:
    from analytics import kpis, review
    from analytics.filters import Filters
    from analytics.periods import parse_period, period_end, shift
    from analytics.warehouse import QueryGateway, Warehouse

    start = parse_period(quarter, "quarter")
    window = Filters(start=shift(start, "quarter", -4), end=period_end(start, "quarter"))
    cpu, started = time.process_time(), time.perf_counter()
    gateway = QueryGateway(Warehouse(root))
    if side == "scorecard":
        rows = kpis.trend(gateway, kpis.HEADLINE, window, "quarter").height
        what = {"rows": rows}
    else:
        found = review.quarterly_review(gateway, quarter)
        assert found.quarter == quarter and not found.left_out, found.left_out
        what = {"highlights": len(found.highlights)}
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu} | what


def _file(root: Path, file_format: str) -> dict[str, Any]:
    from dashboard.review_files import render

    found = pickle.loads((root / SNAPSHOT).read_bytes())
    cpu, started = time.process_time(), time.perf_counter()
    data = render(found, file_format, audience=AUDIENCE)
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "cpu_seconds": time.process_time() - cpu, "bytes": len(data)}
    return result | _pages(data, file_format)


def _pages(data: bytes, file_format: str) -> dict[str, int]:
    """How many pages (PDF) or slides (PPTX) the file has: a check that it is not empty."""
    if file_format == "pdf":
        return {"pages": len(re.findall(rb"/Type\s*/Page(?![s\w])", data))}
    if file_format == "pptx":
        with zipfile.ZipFile(io.BytesIO(data)) as deck:
            slides = [n for n in deck.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
        return {"pages": len(slides)}
    return {}


# ----- the run --------------------------------------------------------------------------------


def run_worker(
    side: str, root: Path, company: str, quarter: str | None, spec: ScaleSpec
) -> dict[str, Any]:
    """Run `side` in a worker process of its own; what it reports."""
    command = [sys.executable, __file__, "--worker", side, "--root", str(root),
               "--company", company, *spec_args(spec)]  # fmt: skip
    if quarter:
        command += ["--quarter", quarter]
    return worker_reply(command, f"{side} worker for the {company} company")


def bench_company(
    company: str, spec: ScaleSpec, sides: tuple[str, ...], repeat: int, work: Path
) -> dict[str, Any]:
    """Prepare `company`, time every side `repeat` times; its part of the report."""
    if company == "sample":
        root = Path(tempfile.mkdtemp(prefix="review_sample_", dir=work)) / "warehouse"
    else:
        root = work / f"review_{spec.folder_name}"
    try:
        load = run_worker("load", root, company, None, spec)
        print(f"{company}: loaded {load['rows']} in {load['seconds']:.1f} s"
              f"{' (reused)' if load['reused'] else ''}", flush=True)  # fmt: skip
        built = run_worker("derived", root, company, None, spec)
        print(f"{company}: derived tables {_parts(built)}", flush=True)
        snapshot = run_worker("snapshot", root, company, None, spec)
        quarter = snapshot["quarter"]
        print(f"{company}: review of {quarter} computed once in {snapshot['seconds']:.2f} s; "
              f"left out: {snapshot['left_out'] or 'nothing'}", flush=True)  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
        for i in range(repeat):
            shift = i % len(sides)
            for side in sides[shift:] + sides[:shift]:
                result = run_worker(side, root, company, quarter, spec)
                runs[side].append(result)
                print(f"  {company} run {i + 1} {side}: {result['seconds']:.2f} s", flush=True)
    finally:
        if company == "sample":
            shutil.rmtree(root.parent, ignore_errors=True)
    baseline = statistics.median(r["seconds"] for r in runs[BASELINE])
    summary: dict[str, Any] = {}
    for side, results in runs.items():
        seconds = [r["seconds"] for r in results]
        summary[side] = {
            "median": statistics.median(seconds),
            "min": min(seconds),
            "max": max(seconds),
            "ratio": statistics.median(seconds) / baseline,
            "cpu_median": statistics.median(r["cpu_seconds"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results),
            "child_peak_mb": max(r["child_peak_mb"] for r in results),
            "runs": seconds,
        } | {k: results[-1][k] for k in ("bytes", "pages") if k in results[-1]}
    return {
        "quarter": quarter,
        "root": str(root),
        "load": load,
        "derived": built,
        "snapshot": snapshot,
        "sides": summary,
        "spec": asdict(spec) if company == "scale" else None,
    }


def _parts(built: dict[str, Any]) -> str:
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in built["parts"].items()) or "all reused"
    return f"{built['seconds']:.1f} s ({parts}), peak {built['peak_mb']:,.0f} MB"


def print_company(company: str, found: dict[str, Any], repeat: int) -> None:
    rows = found["load"]["rows"]
    print(f"\n{company} company ({', '.join(f'{v:,} {k}' for k, v in rows.items())}), "
          f"quarter {found['quarter']}; medians of {repeat}")  # fmt: skip
    print(f"derived tables (untimed, once): {_parts(found['derived'])}")
    print(f"{'side':<10} {'median s':>9} {'min-max':>14} {'x scorecard':>12} {'peak RSS MB':>12}"
          f"  file")  # fmt: skip
    for side, r in found["sides"].items():
        extra = f"  {r['bytes'] / 1e6:.2f} MB" if "bytes" in r else ""
        if "pages" in r:
            extra += f", {r['pages']} pages"
        if side in ("pdf", "pptx"):
            extra += f"; largest child process (Chromium) {r['child_peak_mb']:,.0f} MB"
        spread = f"{r['min']:.2f}-{r['max']:.2f}"
        print(f"{side:<10} {r['median']:9.2f} {spread:>14} {r['ratio']:11.1f}x "
              f"{r['peak_mb']:12,.0f}{extra}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    defaults = ScaleSpec(events=20_000_000)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-sample", action="store_true", help="no sample company")
    parser.add_argument("--skip-scale", action="store_true", help="no scale company")
    parser.add_argument(
        "--sides",
        default=",".join(SIDES),
        help=f"comma-separated sides to time (the scorecard always is): {','.join(SIDES)}",
    )
    parser.add_argument("--work", type=Path, default=OUT, help="where the companies are kept")
    parser.add_argument("--out", type=Path, default=OUT / "review.json", help="the JSON report")
    parser.add_argument("--worker", choices=(*STEPS, *SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--company", choices=COMPANIES, help=argparse.SUPPRESS)
    parser.add_argument("--quarter", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    spec = spec_from(args)
    if args.worker:
        result = worker(args.worker, args.root, company=args.company, quarter=args.quarter,
                        spec=spec)  # fmt: skip
        print(json.dumps(result, default=str))
        return
    chosen = {s.strip() for s in args.sides.split(",") if s.strip()} | {BASELINE}
    if chosen - set(SIDES):
        parser.error(f"unknown sides: {', '.join(sorted(chosen - set(SIDES)))}")
    sides = tuple(s for s in SIDES if s in chosen)
    companies = [c for c in COMPANIES if not getattr(args, f"skip_{c}")]
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"repeat": args.repeat, "sides": list(sides)}
    for company in companies:
        report[company] = bench_company(company, spec, sides, args.repeat, args.work)
        report["load_average"] = os.getloadavg()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=str))
    for company in companies:
        print_company(company, report[company], args.repeat)


if __name__ == "__main__":
    main()
