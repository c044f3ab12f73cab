"""Benchmark: journeys at scale (1M customers, 20M events), against pandas.

    .venv/bin/python bench/journeys.py                  # 1M customers, 10M orders, 20M events
    .venv/bin/python bench/journeys.py --customers 100000 --orders 1000000 \\
        --surveys 200000 --tickets 50000 --events 2000000   # quicker

Builds the scale company with touchpoint events once (bench/scale.py, cached under
bench/out/, gitignored), then, `--repeat` times each, every side in its own worker process
(so that its peak memory, max RSS, is its own):

- build: the per-version build a load triggers (`analytics.journeys.refresh`: every
  dataset read, merged into steps a batch of customers at a time, written), from scratch;
- build in one batch: the same build merging every customer at once (`BATCH_ROWS` past the
  data's rows): the baseline of the build's time and peak memory;
- paths, funnel, map: what the Journeys page and CLI compute from the stored steps for a
  user with full access, all dates, no comparison (paths: 5 steps from the start);
- pandas funnel, pandas paths, pandas map: the same results from the same stored steps
  with pandas, written independently: the baselines.

Prints medians (min-max), ratios and peak memory, and writes bench/out/journeys.json.
Target (issue): paths, funnel and map <= 5 s each after the build. `--only` runs some sides
(at 2M customers and 40M events, the pandas sides need more memory than the builds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scale import OUT, ScaleSpec, build_warehouse, size_args, spec_from

OURS = ("paths", "funnel", "map")
BUILDS = ("build", "build in one batch")
SIDES = (*BUILDS, *OURS, *(f"pandas {s}" for s in OURS))
TARGET = 5.0
STAGES = ("awareness", "consideration", "purchase", "onboarding", "service", "loyalty")


def worker(side: str, root: Path) -> dict[str, Any]:
    """Run one side once in this process; its seconds and peak memory."""
    from analytics import journeys
    from analytics.journeys import steps, views
    from analytics.journeys.store import FOLDER
    from analytics.warehouse import QueryGateway, Warehouse

    warehouse = Warehouse(root)
    started = time.perf_counter()
    if side in BUILDS:
        if side == "build in one batch":
            steps.BATCH_ROWS = 2**62
        shutil.rmtree(root / FOLDER, ignore_errors=True)
        started = time.perf_counter()
        journeys.refresh(warehouse)
    else:
        stored = journeys.current(warehouse)
        assert stored is not None, "build first"
        gateway = QueryGateway(warehouse)
        started = time.perf_counter()
        if side == "paths":
            views.path_tables(gateway, stored)
        elif side == "funnel":
            views.funnel_table(gateway, stored)
        elif side == "map":
            views.journey_map(gateway, stored)
        else:
            _pandas(side.removeprefix("pandas "), stored.steps_path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak}


def _pandas(what: str, path: Path) -> None:
    import pandas as pd

    steps = pd.read_parquet(path)
    moves = steps[steps["in_path"]]
    if what == "paths":
        sequences = moves.groupby("customer_id", sort=False)["touchpoint"].agg(list)
        collapsed = sequences.map(
            lambda seq: tuple(t for i, t in enumerate(seq) if i == 0 or t != seq[i - 1])[:5]
        )
        collapsed.value_counts().head(20)
        return
    reach = _pandas_reach(moves)
    if what == "funnel":
        reach.groupby("step").agg(customers=("customer_id", "size"), days=("days", "median"))
        return
    touched = moves[moves["source"] == "event"][["customer_id", "stage", "touchpoint"]]
    touched = touched.drop_duplicates().merge(reach[["customer_id", "stage"]])
    touched.groupby(["stage", "touchpoint"]).size()
    answers = steps[steps["source"] == "survey"]
    answers.groupby("context_stage").agg(nps=("nps", "mean"), csat=("csat", "mean"))
    tickets = steps[steps["source"] == "ticket"]
    tickets.groupby("context_stage").size()


def _pandas_reach(moves: Any) -> Any:
    import pandas as pd

    staged = moves[moves["stage"].notna()][["customer_id", "at", "stage"]]
    current = (
        staged[staged["stage"] == STAGES[0]].groupby("customer_id", as_index=False)["at"].min()
    )
    current["step"], current["days"] = 1, float("nan")
    parts = [current]
    for number, stage in enumerate(STAGES[1:], start=2):
        nxt = staged[staged["stage"] == stage].merge(
            current[["customer_id", "at"]].rename(columns={"at": "before"}), on="customer_id"
        )
        nxt = nxt[nxt["at"] >= nxt["before"]]
        current = nxt.groupby("customer_id", as_index=False).agg(
            at=("at", "min"), before=("before", "first")
        )
        current["step"] = number
        current["days"] = (current["at"] - current["before"]).dt.total_seconds() / 86_400
        current = current.drop(columns="before")
        parts.append(current)
    reach = pd.concat(parts)
    reach["stage"] = reach["step"].map(dict(enumerate(STAGES, start=1)))
    return reach


def run_side(side: str, root: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", side, "--root", str(root)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    defaults = ScaleSpec(events=20_000_000)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=SIDES, help="run only these sides")
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
    chosen = [side for side in SIDES if side in (args.only or SIDES)]
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in chosen}
    for i in range(args.repeat):
        # The builds first (the views read the last one), in turns; then the views in turns.
        for group in ([s for s in chosen if s in BUILDS], [s for s in chosen if s not in BUILDS]):
            shift = i % max(1, len(group))
            for side in group[shift:] + group[:shift]:
                runs[side].append(run_side(side, root))
                print(f"  run {i + 1} {side}: {runs[side][-1]['seconds']:.2f} s", flush=True)
    report: dict[str, Any] = {
        side: {
            "median": statistics.median(r["seconds"] for r in results),
            "min": min(r["seconds"] for r in results),
            "max": max(r["seconds"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results),
        }
        for side, results in runs.items()
    }
    report["spec"] = asdict(spec)
    report["load"] = os.getloadavg()
    print(
        f"\n{spec.customers:,} customers, {spec.orders:,} orders, {spec.events:,} events; "
        f"medians of {args.repeat}"
    )
    for side in chosen:
        r = report[side]
        print(
            f"{side:<20} {r['median']:7.2f} s ({r['min']:.2f}-{r['max']:.2f})  "
            f"peak {r['peak_mb']:,.0f} MB"
        )
    if set(BUILDS) <= set(chosen):
        ours, whole = report["build"], report["build in one batch"]
        print(
            f"build: {ours['median']:.2f} s, peak {ours['peak_mb']:,.0f} MB; in one batch "
            f"{whole['median']:.2f} s, peak {whole['peak_mb']:,.0f} MB "
            f"({whole['peak_mb'] / ours['peak_mb']:.1f}x the memory)"
        )
    for side in OURS:
        if side not in chosen or f"pandas {side}" not in chosen:
            continue
        ours, theirs = report[side]["median"], report[f"pandas {side}"]["median"]
        verdict = "meets" if ours <= TARGET else "MISSES"
        print(
            f"{side}: {ours:.2f} s vs pandas {theirs:.2f} s ({theirs / ours:.1f}x); "
            f"target <= {TARGET:.0f} s: {verdict}"
        )
    (OUT / "journeys.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
