"""Benchmark: segmentation and lifetime value at scale, against pandas and `lifetimes`.

    .venv/bin/python bench/segments.py                 # 1M customers, 10M orders
    .venv/bin/python bench/segments.py --customers 100000 --orders 1000000 \\
        --surveys 200000 --tickets 50000               # quicker

Builds the scale company once (bench/scale.py, cached under bench/out/, gitignored), then
runs each side `--repeat` times in its own worker process (so that its peak memory, max RSS,
is its own), rotating the order of the sides:

- segments: what a load's segmentation build does, uncached (a fresh gateway each run):
  per-customer facts (SQL over the orders, surveys and tickets), RFM scores and segments,
  the purchase summary, the BG/NBD and Gamma-Gamma fits, every customer's lifetime value
  (with P(alive) a month earlier and the CLV gradients), the clustering features, and
  clustering with k chosen by silhouette over k = 2..10; each step is timed too. The rest
  of the build (holdout check, quarter-end segments for migration) is timed beside it
  ("+" steps), outside the target;
- clv fit: the BG/NBD and Gamma-Gamma fits alone, on the same purchase summary;
- pandas: the same per-customer facts and RFM scores from the orders' Parquet files with
  pandas (`read_parquet`, groupby, rank), written independently: the baseline of the
  features;
- lifetimes: `BetaGeoFitter` and `GammaGammaFitter` of the `lifetimes` package on the same
  summary, in a virtual environment of its own under bench/out (installed on first use):
  the baseline of the fits;
- build: the whole stored segmentation a load builds (`segments.refresh`, from nothing: the
  warehouse's `_segments` folder is emptied first), its files written, with its phases
  timed: the customers' table (facts, models, clusters), the quarter-end segments and their
  flows, and the tables of a user who sees everyone.

`--sides` runs some of them only (at 100M orders pandas would need more memory than the
machine has).

Prints medians (min-max), ratios, peak memory and load, and writes bench/out/segments.json.
Targets (issue): segmentation <= 15 s, lifetime-value fit <= 5 s, peak memory <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scale import OUT, ScaleSpec, build_warehouse, size_args, spec_from

SIDES = ("segments", "clv fit", "pandas", "lifetimes", "build")
LIFETIMES_VENV = OUT / "lifetimes-venv"
TARGETS = {"segments": 15.0, "clv fit": 5.0}
PEAK_TARGET_MB = 3 * 1024
EXTRA = "+ "  # steps timed beside the target's


def worker(side: str, root: Path) -> dict[str, Any]:
    """Run one side once in this process; its seconds, steps and peak memory."""
    started = time.perf_counter()
    steps: dict[str, float] = {}
    if side == "segments":
        steps = _segments(root)
    elif side == "clv fit":
        import polars as pl

        from analytics import clv

        summary = pl.read_parquet(root.parent / f"{root.name}.summary.parquet")
        started = time.perf_counter()
        clv.fit_bgnbd(summary)
        steps["bgnbd"] = time.perf_counter() - started
        clv.fit_gamma_gamma(summary)
        steps["gamma-gamma"] = time.perf_counter() - started - steps["bgnbd"]
    elif side == "pandas":
        _pandas_features(root)
    elif side == "build":
        steps = _build(root)
    seconds = time.perf_counter() - started
    if side == "segments":  # the target covers the segmentation, not the extras
        seconds = sum(v for k, v in steps.items() if not k.startswith(EXTRA))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "steps": steps, "peak_mb": peak}


def _segments(root: Path) -> dict[str, float]:
    from analytics.segments import features as feats
    from analytics.segments.clustering import CustomerClusterer
    from analytics.segments.migration import quarter_segments
    from analytics.segments.rfm import rfm_table
    from analytics.segments.store import (
        ValueSettings,
        calibration_end,
        fit_models,
        holdout_check,
        lifetime_values,
        model_cutoffs,
    )
    from analytics.warehouse import QueryGateway, Warehouse

    steps: dict[str, float] = {}
    tick = time.perf_counter()

    def step(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        steps[name] = now - tick
        tick = now

    gateway = QueryGateway(Warehouse(root))
    as_of = gateway.query("SELECT CAST(max(order_date) AS DATE) AS d FROM orders")["d"][0]
    facts = feats.customer_facts(gateway, as_of, model_cutoffs(gateway, as_of))
    step("facts (SQL)")
    rfm_table(facts, as_of)
    step("rfm")
    summary = feats.purchase_summary(facts, as_of)
    purchases, spend = fit_models(summary)
    step("clv fits")
    lifetime_values(facts, summary, purchases, spend, as_of, ValueSettings())
    step("clv per customer")
    features = feats.clustering_features(facts, as_of, purchases, spend)
    step("features")
    model = CustomerClusterer().fit(feats.feature_matrix(features))
    step(f"clustering (k = {model.n_clusters_})")
    # The rest of a load's build, outside the target: the holdout check's fit and
    # every buyer's segment at each quarter end (migration, Customer 360's history).
    holdout_check(facts, as_of, calibration_end(gateway, as_of))
    step(f"{EXTRA}holdout check")
    first = gateway.query("SELECT CAST(min(order_date) AS DATE) AS d FROM orders")["d"][0]
    quarter_segments(gateway, first, as_of)
    step(f"{EXTRA}quarter history")
    return steps


def _build(root: Path) -> dict[str, float]:
    """`segments.refresh` from nothing, its phases timed by wrapping them."""
    import shutil

    from analytics.segments import store
    from analytics.warehouse import SEGMENTS_FOLDER, Warehouse

    shutil.rmtree(root / SEGMENTS_FOLDER, ignore_errors=True)
    steps: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                steps[name] = steps.get(name, 0.0) + time.perf_counter() - started

        return wrapped

    store.segment_frame = timed("customers' table", store.segment_frame)
    store._quarters = timed("quarter ends and flows", store._quarters)
    store._write_everyone = timed("everyone's tables", store._write_everyone)
    started = time.perf_counter()
    store.refresh(Warehouse(root))
    steps["other (reads, writes)"] = time.perf_counter() - started - sum(steps.values())
    return steps


def _pandas_features(root: Path) -> None:
    import pandas as pd
    from deltalake import DeltaTable

    files = DeltaTable(str(root / "orders")).file_uris()
    orders = pd.concat(
        pd.read_parquet(f, columns=["customer_id", "order_date", "amount", "status", "discount"])
        for f in files
    )
    done = orders[~orders["status"].isin(["returned", "cancelled"])]
    end = done["order_date"].max()
    facts = done.groupby("customer_id").agg(
        orders=("amount", "size"),
        revenue=("amount", "sum"),
        discount=("discount", "sum"),
        first_order=("order_date", "min"),
        last_order=("order_date", "max"),
    )
    facts["recency"] = (pd.to_datetime(end) - pd.to_datetime(facts["last_order"])).dt.days
    facts["monetary"] = facts["revenue"] / facts["orders"]
    n = len(facts)
    for column, sign in (("recency", -1), ("orders", 1), ("monetary", 1)):
        rank = (sign * facts[column]).rank(method="min")
        facts[f"{column}_score"] = (1 + ((rank - 1) * 5 // n)).clip(1, 5)


_LIFETIMES_SCRIPT = """
import json, resource, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
summary = pd.read_parquet(sys.argv[1])
started = time.perf_counter()
BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
bg = time.perf_counter() - started
repeat = summary[summary["frequency"] > 0]
GammaGammaFitter().fit(repeat["frequency"], repeat["monetary"])
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "steps": {"bgnbd": bg}, "peak_mb": peak}))
"""


def _lifetimes_python() -> Path:
    python = LIFETIMES_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "lifetimes", "pyarrow"], check=True
        )
    return python


def run_side(side: str, root: Path) -> dict[str, Any]:
    if side == "lifetimes":
        summary = root.parent / f"{root.name}.summary.parquet"
        command = [str(_lifetimes_python()), "-c", _LIFETIMES_SCRIPT, str(summary)]
    else:
        command = [sys.executable, __file__, "--worker", side, "--root", str(root)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _write_summary(root: Path) -> None:
    """The purchase summary both fit sides read (written once per warehouse)."""
    target = root.parent / f"{root.name}.summary.parquet"
    if target.exists():
        return
    from analytics.segments import features as feats
    from analytics.warehouse import QueryGateway, Warehouse

    gateway = QueryGateway(Warehouse(root))
    as_of = gateway.query("SELECT CAST(max(order_date) AS DATE) AS d FROM orders")["d"][0]
    feats.purchase_summary(feats.customer_facts(gateway, as_of), as_of).write_parquet(target)


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [r["seconds"] for r in runs]
    steps = {k: statistics.median(r["steps"][k] for r in runs) for k in runs[0]["steps"]}
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "steps": steps,
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


def main() -> None:
    defaults = ScaleSpec()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=False)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.root)))
        return
    spec = spec_from(args)
    root = OUT / spec.folder_name
    built = build_warehouse(root, spec)
    print(f"Scale company: {built['rows']} ({'reused' if built['reused'] else 'built'})")
    sides = [side for side in SIDES if side in args.sides]
    if {"clv fit", "lifetimes"} & set(sides):
        _write_summary(root)
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for i in range(args.repeat):
        order = sides[i % len(sides) :] + sides[: i % len(sides)]
        for side in order:
            runs[side].append(run_side(side, root))
            print(f"  run {i + 1} {side}: {runs[side][-1]['seconds']:.2f} s", flush=True)
    report: dict[str, Any] = {side: _median(r) for side, r in runs.items()}
    report["spec"] = asdict(spec)
    report["load"] = os.getloadavg()
    print(f"\n{spec.customers:,} customers, {spec.orders:,} orders; medians of {args.repeat}")
    for side in sides:
        r = report[side]
        print(
            f"{side:<10} {r['median']:7.2f} s ({r['min']:.2f}-{r['max']:.2f})  "
            f"peak {r['peak_mb']:,.0f} MB"
        )
        for name, seconds in r["steps"].items():
            print(f"             {name:<28} {seconds:6.2f} s")
    if {"segments", "pandas"} <= set(sides):
        steps = report["segments"]["steps"]
        features = steps["facts (SQL)"] + steps["rfm"]
        print(
            f"\nfeatures + RFM: touchpoint {features:.2f} s vs pandas "
            f"{report['pandas']['median']:.2f} s ({report['pandas']['median'] / features:.1f}x)"
        )
    if {"clv fit", "lifetimes"} <= set(sides):
        print(
            f"fits: touchpoint {report['clv fit']['median']:.2f} s vs lifetimes "
            f"{report['lifetimes']['median']:.2f} s "
            f"({report['lifetimes']['median'] / report['clv fit']['median']:.1f}x)"
        )
    for side, target in TARGETS.items():
        if side in report:
            verdict = "meets" if report[side]["median"] <= target else "MISSES"
            print(f"{side}: {report[side]['median']:.2f} s, target <= {target:.0f} s: {verdict}")
    if "segments" in report:
        peak = report["segments"]["peak_mb"]
        print(
            f"peak memory {peak:,.0f} MB, target <= {PEAK_TARGET_MB:,} MB: "
            f"{'meets' if peak <= PEAK_TARGET_MB else 'MISSES'}"
        )
    (OUT / "segments.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
