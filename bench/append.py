"""Benchmark: an append of 10k orders to 10M, and every rollup part brought up to date.

    .venv/bin/python bench/append.py                  # 1M customers, 10M orders, 10k appended
    .venv/bin/python bench/append.py --customers 20000 --orders 200000 --surveys 40000 \\
        --tickets 10000 --appended 1000 --repeat 1   # a tiny company: does it all run?

Builds the scale company once (bench/scale.py, cached under bench/out/, gitignored) and every
rollup part of it (`rollups.refresh`, untimed). Then `--repeat` times, each side in a worker
process of its own (its peak memory its own) and in a fresh copy of the warehouse (data files
and rollups hard-linked, Delta logs copied, so the cached company stays as it was):

- update: `--appended` orders, the next orders of existing customers on the day after the
  last, appended with `Warehouse.commit` (untimed), then `rollups.refresh` (timed): what a
  load does, every part (base and later) brought up to date from the rollup before.
- full (the baseline): the same append in a copy without rollups, then the base parts (what
  blocked a load before: `refresh(records=False)`) and the later parts (built in the
  background) timed apart.
- the other tables every load brings up to date, each timed after the rollups: the filter
  menus' values (`filter_values`) and the records sorted by customer (`by_customer`, Customer
  360's); from the tables before the append on the update side, from nothing on the full
  side (the baseline).

Both sides then answer `kpis.scorecard` of the last quarter through their rollups; the
answers must be equal (relative 1e-9). Prints medians (min-max), the ratio of the update to
the full base build, peak memory; writes bench/out/append.json. Target (issue): <= 1 s.
With `--base-only` the full side builds only the base parts (at 100M orders the later ones
take many minutes a run). With `--derived`, every other derived table is timed too, after
the rollups: the segmentation, the journeys and the feedback analysis (`derived.refresh_rest`'s
parts, built once beforehand, untimed), from the previous build on the update side (whose
folders the copy keeps) and from nothing on the full side. Before those rebuilds, the update
side also times the Segments, Journeys (funnel and paths) and Feedback pages' computations
as bench/pages.py does: right after the append they read the builds of the data before it,
as the dashboard shows them while the new ones are made (`analytics.builds.served`).
`--memory-limit` is DuckDB's for the rollup builds (the gateway's 4GB by default; the orders'
`customer_days` part of 100M orders needs more: bench/SCALE_100M.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scale import OUT, ScaleSpec, build_warehouse, size_args, spec_args, spec_from, worker_reply

TARGET_SECONDS = 1.0


DERIVED = ("_segments", "_journeys", "_feedback")
# Kept on the update side and built again from nothing on the full side.
UPDATED = ("_rollups", "_filter_values", "_by_customer")
OTHERS = ("filter values", "records by customer")


def copy_warehouse(source: Path, target: Path, *, rollups: bool, derived: bool = False) -> None:
    """A copy of `source` whose data and derived files are hard links (never written in place:
    a load adds files, a derived file is replaced whole) and whose Delta logs are copies;
    without `rollups`, the tables of `UPDATED` are left out."""
    shutil.rmtree(target, ignore_errors=True)

    def link_or_copy(src: str, dst: str) -> None:
        if "_delta_log" in Path(src).parts:
            shutil.copy2(src, dst)
        else:
            os.link(src, dst)

    ignored = ["_locks"] if derived else [*DERIVED, "_locks"]
    if not rollups:
        ignored += UPDATED
    shutil.copytree(
        source, target, copy_function=link_or_copy, ignore=shutil.ignore_patterns(*ignored)
    )


def appended_orders(root: Path, n: int, seed: int) -> pl.DataFrame:
    """`n` orders of existing customers on the day after the last order."""
    from analytics.contract import DATASETS
    from analytics.warehouse import QueryGateway, Warehouse

    gateway = QueryGateway(Warehouse(root))
    last = gateway.query("SELECT max(order_date) FROM orders").item()
    buyers = gateway.query(
        f"SELECT customer_id FROM customers USING SAMPLE {n} ROWS (reservoir, {seed})"
    )["customer_id"]
    rng = np.random.default_rng(seed)
    schema = DATASETS["orders"].schema
    channels, categories = ["web", "app", "store"], ["Home", "Beauty", "Outdoor"]
    frame = pl.DataFrame(
        {
            "order_id": [f"APPENDED-{seed}-{i}" for i in range(n)],
            "customer_id": buyers.sample(n, with_replacement=True, seed=seed),
            "order_date": [last + timedelta(days=1)] * n,
            "amount": np.round(rng.gamma(2.0, 40.0, n), 2),
            "status": rng.choice(["completed", "completed", "returned"], n),
            "channel": rng.choice(channels, n),
            "product_category": rng.choice(categories, n),
        }
    )
    return frame.with_columns(
        pl.lit(None, dtype=schema[c]).alias(c) for c in schema if c not in frame.columns
    ).select([pl.col(c).cast(schema[c]) for c in schema])


def worker(
    side: str,
    root: Path,
    appended: int,
    seed: int,
    memory_limit: str,
    derived: bool,
    base_only: bool = False,
) -> dict[str, Any]:
    """One run of a side in a copy of the warehouse at `root`."""
    from analytics import by_customer, feedback, filter_values, journeys, rollups, segments
    from analytics.filters import Filters
    from analytics.kpis import KPIS, scorecard
    from analytics.warehouse import QueryGateway, Warehouse

    work = root.parent / f"{root.name}-append-{side}"
    copy_warehouse(root, work, rollups=side == "update", derived=derived and side == "update")
    warehouse = Warehouse(work)
    builds = QueryGateway(warehouse, memory_limit=memory_limit)
    warehouse.commit(
        "orders", appended_orders(work, appended, seed), mode="append", metadata={"bench": 1}
    )
    out: dict[str, Any] = {}
    started = time.perf_counter()
    if side == "update":
        # As after a load: the months per segment wait for the new segmentation (--derived).
        built = rollups.refresh(warehouse, builds, by_segment=not derived)
        out["seconds"] = time.perf_counter() - started
        out["built"] = sorted(built)
    else:
        rollups.refresh(warehouse, builds, records=False)
        out["seconds"] = time.perf_counter() - started
        if not base_only:
            started = time.perf_counter()
            rollups.refresh(warehouse, builds)
            out["later_seconds"] = time.perf_counter() - started
    assert base_only or derived or not rollups.pending(warehouse)
    out["others"] = {}
    for label, table in zip(OTHERS, (filter_values, by_customer), strict=True):
        started = time.perf_counter()
        assert table.refresh(warehouse, builds)
        out["others"][label] = time.perf_counter() - started
    if derived and side == "update":
        out["earlier pages"] = _earlier_pages(work)
    if derived:
        out["derived"] = {}
        for name, part in (("segments", segments), ("journeys", journeys), ("feedback", feedback)):
            started = time.perf_counter()
            took = part.refresh(warehouse, builds)
            out["derived"][name] = time.perf_counter() - started if took is not None else 0.0
            if name == "segments":  # then the months per segment of the new segmentation
                started = time.perf_counter()
                rollups.refresh(warehouse, builds)
                out["derived"]["rollups by segment"] = time.perf_counter() - started
        assert not rollups.pending(warehouse)
    card = scorecard(QueryGateway(warehouse), Filters(), "quarter", keys=[k.key for k in KPIS])
    out["scorecard"] = card.select("kpi", "value").rows()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shutil.rmtree(work, ignore_errors=True)
    return out


EARLIER_PAGES = ("segments", "journeys", "journeys: paths", "feedback")


def _earlier_pages(root: Path) -> dict[str, float]:
    """Right after the append, before the segmentation and the journeys are built again: each
    of `EARLIER_PAGES`' computation as bench/pages.py times it, which reads the builds of the
    data before the append (`builds.served`), as the dashboard then shows them; seconds."""
    import pages  # bench/pages.py

    plan = pages.plan_for(root)
    seconds = {}
    for page in EARLIER_PAGES:
        seconds[page] = pages.timed(root, page, plan)["seconds"]
    return seconds


def main() -> None:
    defaults = ScaleSpec()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=True)
    parser.add_argument("--appended", type=int, default=10_000, help="orders appended")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's, for the rollup builds")
    parser.add_argument("--derived", action="store_true", help="time the other derived tables")
    parser.add_argument(
        "--base-only", action="store_true", help="the full side builds the base parts only"
    )
    parser.add_argument("--work", type=Path, default=OUT, help="where the companies are kept")
    parser.add_argument("--out", type=Path, default=OUT / "append.json")
    parser.add_argument("--worker", choices=["update", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        reply = worker(
            args.worker,
            args.root,
            args.appended,
            args.run,
            args.memory_limit,
            args.derived,
            args.base_only,
        )
        print(json.dumps(reply))
        return
    spec = spec_from(args)
    root = args.work / spec.folder_name
    build_warehouse(root, spec)
    from analytics import rollups
    from analytics.warehouse import QueryGateway, Warehouse

    started = time.perf_counter()
    warehouse = Warehouse(root)  # every part, once (reused when current)
    rollups.refresh(warehouse, QueryGateway(warehouse, memory_limit=args.memory_limit))
    from analytics import by_customer, filter_values

    for table in (filter_values, by_customer):
        table.refresh(warehouse, QueryGateway(warehouse, memory_limit=args.memory_limit))
    if args.derived:
        from analytics import derived

        derived.refresh(warehouse, QueryGateway(warehouse, memory_limit=args.memory_limit))
    print(f"{root}: derived tables ready ({time.perf_counter() - started:.1f} s)", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"update": [], "full": []}
    for k in range(args.repeat):
        for side in ("update", "full") if k % 2 == 0 else ("full", "update"):
            command = [sys.executable, __file__, *spec_args(spec), f"--appended={args.appended}",
                       f"--worker={side}", f"--root={root}", f"--run={k + 1}",
                       f"--memory-limit={args.memory_limit}",
                       *(["--derived"] if args.derived else []),
                       *(["--base-only"] if args.base_only else [])]  # fmt: skip
            runs[side].append(worker_reply(command, f"{side} run"))
            print(f"  {side}: {runs[side][-1]['seconds']:.3f} s", flush=True)
    mismatches = 0
    for update, full in zip(runs["update"], runs["full"], strict=True):
        for (kpi, mine), (_, theirs) in zip(update["scorecard"], full["scorecard"], strict=True):
            if (mine is None) != (theirs is None) or (
                mine is not None and abs(mine - theirs) > 1e-9 * max(1.0, abs(theirs))
            ):
                mismatches += 1
                print(f"MISMATCH {kpi}: update {mine} != full {theirs}")

    def summary(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    result = {
        "orders": spec.orders,
        "appended": args.appended,
        "update": summary([r["seconds"] for r in runs["update"]])
        | {
            "peak_mb": max(r["peak_mb"] for r in runs["update"]),
            "built": runs["update"][0]["built"],
        },
        "full base": summary([r["seconds"] for r in runs["full"]])
        | {"peak_mb": max(r["peak_mb"] for r in runs["full"])},
        "mismatches": mismatches,
    }
    if not args.base_only:
        result["full later"] = summary([r["later_seconds"] for r in runs["full"]])
    result["others"] = {
        side: {name: summary([r["others"][name] for r in runs[side]]) for name in OTHERS}
        for side in ("update", "full")
    }
    if args.derived:
        result["derived"] = {
            side: {
                name: summary([r["derived"][name] for r in runs[side]])
                for name in runs[side][0]["derived"]
            }
            for side in ("update", "full")
        }
        result["earlier pages"] = {
            page: summary([r["earlier pages"][page] for r in runs["update"]])
            for page in EARLIER_PAGES
        }
    result["met"] = result["update"]["median"] <= TARGET_SECONDS and not mismatches
    print(f"\n{'side':<34} {'median (min-max)':>22} {'peak MB':>9}")
    for side in ("update", "full base", "full later")[: 2 if args.base_only else 3]:
        r = result[side]
        print(f"{side:<34} {r['median']:>8.3f} s ({r['min']:.3f}-{r['max']:.3f}) "
              f"{r.get('peak_mb', 0):>9.0f}")  # fmt: skip
    for name in OTHERS:
        mine, theirs = result["others"]["update"][name], result["others"]["full"][name]
        print(f"{name + ' (after the append; from scratch)':<34} {mine['median']:>8.3f} s "
              f"({mine['min']:.3f}-{mine['max']:.3f}); {theirs['median']:.3f} s")  # fmt: skip
    for name in result.get("derived", {}).get("update", {}):
        mine, theirs = result["derived"]["update"][name], result["derived"]["full"][name]
        print(f"{name + ' (after the append; from scratch)':<34} {mine['median']:>8.3f} s "
              f"({mine['min']:.3f}-{mine['max']:.3f}); {theirs['median']:.3f} s")  # fmt: skip
    for page, r in result.get("earlier pages", {}).items():
        print(f"{page + ' page, before its rebuild':<34} {r['median']:>8.3f} s "
              f"({r['min']:.3f}-{r['max']:.3f}): from the builds before the append")  # fmt: skip
    ratio = result["update"]["median"] / result["full base"]["median"]
    verdict = "met" if result["met"] else "MISSED"
    print(f"update / full base build: {ratio:.3f}; target <= {TARGET_SECONDS} s: {verdict}; "
          f"scorecards equal: {not mismatches}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
