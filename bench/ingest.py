"""Benchmark: full Touchpoint ingest of a big orders CSV against a bare Polars read.

    .venv/bin/python bench/ingest.py                  # 10M orders, 1M customers (~500 MB)
    .venv/bin/python bench/ingest.py --rows 1000000   # quicker

Generates the file once under bench/out/ (gitignored), then runs, in this one session, the
bare `pl.read_csv` of the file and Touchpoint's full `ingest` (read, map, validate, write one
Delta commit into a fresh warehouse) `--repeat` times each, alternately, every run in its own
process so its peak memory (max RSS) is measured alone. Prints medians, the ratio, and peak memory.
Targets (issue 2): ingest <= 4x the bare read; peak memory <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

OUT = Path(__file__).resolve().parent / "out"

_BARE = """
import resource, sys, time, polars as pl
t = time.perf_counter()
df = pl.read_csv(sys.argv[1])
print(time.perf_counter() - t, df.height, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_INGEST = """
import resource, sys, time
from pathlib import Path
from analytics.ingest.pipeline import ingest
from analytics.warehouse import Warehouse
t = time.perf_counter()
r = ingest(Path(sys.argv[1]), dataset_name="orders", warehouse=Warehouse(Path(sys.argv[2])),
           mode="replace", user="bench")
assert r.loaded, r.message
print(time.perf_counter() - t, r.rows_loaded, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def generate(path: Path, rows: int, customers: int, seed: int = 1) -> None:
    """A shop-style orders export: headers need mapping, statuses need normalising."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-01-01")
    chunk = 2_000_000
    with open(path, "wb") as handle:
        for offset in range(0, rows, chunk):
            n = min(chunk, rows - offset)
            frame = pl.DataFrame(
                {
                    "Order Number": np.arange(offset, offset + n).astype(str),
                    "Customer ID": np.char.add("C", rng.integers(1, customers + 1, n).astype(str)),
                    "Order Date": (start + rng.integers(0, 3 * 365, n)).astype(str),
                    "Total": np.round(rng.gamma(2.0, 40.0, n), 2),
                    "Qty": rng.integers(1, 6, n),
                    "Category": rng.choice(["Books", "Home", "Garden", "Toys", "Fashion"], n),
                    "Sales Channel": rng.choice(["web", "app", "store"], n),
                    "Order Status": rng.choice(
                        ["delivered", "refunded", "canceled"], n, p=[0.92, 0.05, 0.03]
                    ),
                }
            )
            frame.write_csv(handle, include_header=offset == 0)


def run(script: str, *args: str) -> tuple[float, int, float]:
    """Run `script` in a fresh process; return (seconds, rows, its own peak RSS in GB)."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    seconds, rows, peak_kb = proc.stdout.split()[-3:]
    return float(seconds), int(rows), int(peak_kb) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    csv = OUT / f"orders_{args.rows}.csv"
    if not csv.exists():
        t = time.perf_counter()
        generate(csv, args.rows, args.customers)
        print(
            f"generated {csv.name}: {csv.stat().st_size / 1e6:,.0f} MB "
            f"in {time.perf_counter() - t:.1f} s"
        )

    bare, full, bare_peak, full_peak = [], [], 0.0, 0.0
    # Alternate the two so that load from other processes, which comes and goes, weighs on
    # both sides of the ratio alike.
    for i in range(args.repeat):
        seconds, rows, peak = run(_BARE, str(csv))
        bare.append(seconds)
        bare_peak = max(bare_peak, peak)
        warehouse = OUT / f"warehouse_{i}"
        shutil.rmtree(warehouse, ignore_errors=True)
        seconds, loaded, peak = run(_INGEST, str(csv), str(warehouse))
        full.append(seconds)
        full_peak = max(full_peak, peak)
        shutil.rmtree(warehouse, ignore_errors=True)
        assert loaded == rows, (loaded, rows)

    result = {
        "rows": rows,
        "file_mb": round(csv.stat().st_size / 1e6),
        "bare_read_median_s": round(statistics.median(bare), 2),
        "ingest_median_s": round(statistics.median(full), 2),
        "ratio": round(statistics.median(full) / statistics.median(bare), 2),
        "peak_rss_gb": round(full_peak, 2),
        "bare_peak_rss_gb": round(bare_peak, 2),
        "bare_runs_s": [round(s, 2) for s in bare],
        "ingest_runs_s": [round(s, 2) for s in full],
    }
    print(json.dumps(result, indent=2))
    print(
        f"bare read {result['bare_read_median_s']} s, full ingest {result['ingest_median_s']} s "
        f"-> ratio {result['ratio']}x (target <= 4x); peak memory {result['peak_rss_gb']} GB "
        "(target <= 3 GB)"
    )


if __name__ == "__main__":
    main()
