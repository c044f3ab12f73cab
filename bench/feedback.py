"""Benchmark: the feedback analysis (sentiment + themes) of 500k comments, and an append.

    .venv/bin/python bench/feedback.py                       # 500k comments, 10k appended
    .venv/bin/python bench/feedback.py --comments 50000 --append 1000   # quicker

Generates, seeded, a survey export of `--comments` responses whose comments are composed
from customer-experience phrases with details (days, order numbers, products), so that
nearly every comment is worded differently, as real comments are; it is committed once
under bench/out/ (gitignored). Then, `--repeat` times each, every side in its own worker
process (so that its peak memory, max RSS, is its own):

- full: the per-version build from scratch (`analytics.feedback.refresh`: every comment
  scored for sentiment, themes found and assigned);
- append: after an append of `--append` new comments, the build from the previous one
  (incremental: only new texts scored, the theme model reused);
- rebuild: the same appended data built from scratch: what the append would cost without
  the previous build, the baseline the append is compared with.

Prints medians (min-max), the ratio and peak memory, and writes bench/out/feedback.json.
Target (issue): full <= 60 s; append incremental.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

OUT = Path(__file__).resolve().parent / "out"
SIDES = ("full", "append", "rebuild")
TARGET = 60.0

OPENINGS = ("", "Honestly, ", "Well, ", "To be fair, ", "Sadly ", "Overall ", "Again ", "")
SUBJECTS = {
    "delivery": (
        "my parcel arrived {n} days late", "the courier never showed up", "delivery took {n} "
        "days", "the package was damaged in transit", "tracking was not updated for {n} days",
        "shipping was fast and the box was fine", "order {o} was delayed without notice",
        "the delivery came on time",
    ),
    "price": (
        "the {p} is too expensive", "prices went up by {n} percent", "not worth the money",
        "I found the {p} cheaper elsewhere", "great value for the {p}", "the discount code "
        "{o} did not work", "shipping fees are too high",
    ),
    "quality": (
        "the {p} broke after {n} weeks", "poor quality materials on the {p}", "stitching came "
        "apart after {n} washes", "the {p} did not match the description", "the {p} is sturdy "
        "and well made", "great quality {p}",
    ),
    "support": (
        "support was rude", "I waited {n} minutes on the phone", "nobody answered my email "
        "about order {o}", "the support agent was friendly and helpful", "customer service "
        "solved it in {n} minutes", "I had to call support {n} times",
    ),
    "website": (
        "the website is slow", "checkout kept failing on order {o}", "the app crashed {n} "
        "times", "the site is confusing to navigate", "easy to order on the website",
        "I could not log in for {n} days",
    ),
}  # fmt: skip
CLOSINGS = ("", "", " Very disappointed.", " Please fix this.", " Thank you!", " Keep it up.",
            " Not happy.", " Will order again.")  # fmt: skip
PRODUCTS = ("jacket", "shoes", "dress", "backpack", "shirt", "jeans", "lamp", "kettle", "sofa",
            "phone case", "blender", "mattress")  # fmt: skip


def comments(n: int, seed: int) -> pl.DataFrame:
    """`n` survey responses with a comment and an NPS score, seeded."""
    rng = np.random.default_rng(seed)
    names = list(SUBJECTS)
    subject = rng.integers(0, len(names), n)
    second = rng.integers(0, len(names), n)
    both = rng.random(n) < 0.3
    texts = []
    for i in range(n):
        parts = [_phrase(rng, names[subject[i]])]
        if both[i]:
            parts.append(_phrase(rng, names[second[i]]))
        text = OPENINGS[rng.integers(len(OPENINGS))] + " and ".join(parts)
        text = text[0].upper() + text[1:] + "." + CLOSINGS[rng.integers(len(CLOSINGS))]
        texts.append(text)
    days = rng.integers(0, 3 * 365, n)
    return pl.DataFrame(
        {
            "response_id": [f"B{seed}-{i}" for i in range(n)],
            "customer_id": [f"C{j}" for j in rng.integers(0, n // 3 + 1, n)],
            "responded_at": pl.datetime_range(
                pl.datetime(2023, 1, 1), pl.datetime(2025, 12, 31), "1h", eager=True
            ).gather(days * 24 % (3 * 365 * 24)),
            "nps": rng.integers(0, 11, n).astype(np.int64),
            "comment": texts,
        }
    )


def _phrase(rng: np.random.Generator, subject: str) -> str:
    options = SUBJECTS[subject]
    return options[rng.integers(len(options))].format(
        n=int(rng.integers(2, 60)),
        o=int(rng.integers(10_000, 99_999)),
        p=PRODUCTS[rng.integers(len(PRODUCTS))],
    )


def prepare(root: Path, n: int, seed: int) -> None:
    """The warehouse with `n` comments, and a build of them (reused when there)."""
    from analytics import feedback
    from analytics.warehouse import Warehouse

    marker = root / "_bench_feedback.json"
    if marker.exists() and json.loads(marker.read_text()) == {"comments": n, "seed": seed}:
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    warehouse = Warehouse(root)
    warehouse.commit("surveys", _canonical(comments(n, seed)), mode="replace",
                     metadata={"source_file": "bench/feedback.py"})  # fmt: skip
    feedback.refresh(warehouse)
    marker.write_text(json.dumps({"comments": n, "seed": seed}))


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    from analytics.contract import DATASETS

    columns = [c.name for c in DATASETS["surveys"].columns]
    missing = {c: pl.lit(None, pl.String) for c in columns if c not in frame.columns}
    return (
        frame.with_columns(**missing)
        .select(columns)
        .cast({"nps": pl.Int64, "csat": pl.Int64, "ces": pl.Int64})
    )


def worker(side: str, root: Path, append: int, seed: int) -> dict[str, Any]:
    """Run one side once in this process (on a copy of the prepared warehouse)."""
    from analytics import feedback
    from analytics.feedback.store import FOLDER
    from analytics.warehouse import Warehouse

    copy = root.with_name(root.name + f"-{side}")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    try:
        warehouse = Warehouse(copy)
        if side != "full":
            new = comments(append, seed + 1000)
            warehouse.commit("surveys", _canonical(new), mode="append",
                             metadata={"source_file": "bench/feedback.py"})  # fmt: skip
        if side != "append":
            shutil.rmtree(copy / FOLDER, ignore_errors=True)
        started = time.perf_counter()
        feedback.refresh(warehouse)
        seconds = time.perf_counter() - started
        meta = feedback.current(warehouse).meta
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "texts_scored": meta["texts_scored"],
        "model": meta["model"],
        "k": meta["k"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=500_000)
    parser.add_argument("--append", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.root, args.append, args.seed)))
        return
    root = OUT / f"feedback_{args.comments}_{args.seed}"
    started = time.perf_counter()
    prepare(root, args.comments, args.seed)
    print(f"{args.comments:,} comments ready in {time.perf_counter() - started:.1f} s")
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for i in range(args.repeat):
        for side in SIDES[i % 3 :] + SIDES[: i % 3]:
            command = [sys.executable, __file__, "--worker", side, "--root", str(root),
                       "--append", str(args.append), "--seed", str(args.seed)]  # fmt: skip
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            runs[side].append(result)
            print(f"  run {i + 1} {side}: {result['seconds']:.2f} s "
                  f"({result['texts_scored']:,} texts scored)", flush=True)  # fmt: skip
    report: dict[str, Any] = {
        side: {
            "median": statistics.median(r["seconds"] for r in results),
            "min": min(r["seconds"] for r in results),
            "max": max(r["seconds"] for r in results),
            "peak_mb": max(r["peak_mb"] for r in results),
            "texts_scored": results[-1]["texts_scored"],
            "themes": results[-1]["k"],
        }
        for side, results in runs.items()
    }
    print(f"\n{args.comments:,} comments (+{args.append:,} appended); medians of {args.repeat}")
    for side in SIDES:
        r = report[side]
        print(f"{side:<8} {r['median']:7.2f} s ({r['min']:.2f}-{r['max']:.2f})  "
              f"peak {r['peak_mb']:,.0f} MB  {r['texts_scored']:,} texts scored, "
              f"{r['themes']} themes")  # fmt: skip
    full, append, rebuild = (report[s]["median"] for s in SIDES)
    print(
        f"full: {full:.2f} s; target <= {TARGET:.0f} s: {'meets' if full <= TARGET else 'MISSES'}"
    )
    print(f"append: {append:.2f} s vs rebuild {rebuild:.2f} s ({rebuild / append:.1f}x)")
    (OUT / "feedback.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
