"""A loader killed (SIGKILL) at any moment leaves the previous version intact and readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analytics.ingest.pipeline import ingest
from analytics.warehouse import QueryGateway, Warehouse

ROWS = 1_500_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("big") / "orders.csv"
    pl.DataFrame(
        {
            "order_id": np.char.add("N", np.arange(ROWS).astype(str)),
            "customer_id": np.char.add("C", rng.integers(1, 50_000, ROWS).astype(str)),
            "order_date": (np.datetime64("2024-01-01") + rng.integers(0, 700, ROWS)).astype(str),
            "amount": np.round(rng.gamma(2.0, 30.0, ROWS), 2),
        }
    ).write_csv(path)
    return path


# The loader runs the real CLI and the real Delta writer; only the data files are made small
# (20,000 rows each) and, after the first ten, written slowly, so that the kill reliably lands
# after data files are on disk and before the commit record is written.
_SLOW_LOADER = """
import sys, time
import analytics.warehouse as warehouse
from analytics.cli import main

real_write = warehouse._write_parquet
written = []

def slow_write(frame, file):
    if len(written) >= 10:
        time.sleep(0.05)
    real_write(frame, file)
    written.append(file)

warehouse._ROWS_PER_FILE = 20_000
warehouse._write_parquet = slow_write
raise SystemExit(main(sys.argv[1:]))
"""


def start_loader(csv: Path, warehouse: Path, *, slow: bool) -> subprocess.Popen[bytes]:
    args = ["--warehouse", str(warehouse), "ingest", str(csv), "--dataset", "orders"]
    command = ["-c", _SLOW_LOADER] if slow else ["-m", "analytics"]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def new_data_files(table: Path, known: set[str]) -> list[str]:
    return [p.name for p in table.glob("*.parquet") if p.name not in known]


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["while_reading", "while_writing"])
def test_sigkill_mid_load_leaves_previous_version_intact(tmp_path, big_csv, moment):
    wh = Warehouse(tmp_path / "wh")
    ingest(
        b"order_id,customer_id,order_date,amount\nA1,C1,2025-01-01,10\nA2,C2,2025-01-02,5\n",
        dataset_name="orders",
        warehouse=wh,
        file_name="first.csv",
    )
    before = (wh.data_version(), QueryGateway(wh).query("SELECT sum(amount) FROM orders").item())
    table = wh.table_path("orders")
    known = {p.name for p in table.glob("*.parquet")}

    loader = start_loader(big_csv, wh.root, slow=moment == "while_writing")
    deadline = time.monotonic() + 60
    if moment == "while_reading":
        time.sleep(0.8)
    else:
        while not new_data_files(table, known) and time.monotonic() < deadline:
            time.sleep(0.005)
    assert loader.poll() is None, "the loader finished before it could be killed"
    os.kill(loader.pid, signal.SIGKILL)
    loader.wait(timeout=30)

    if moment == "while_writing":
        assert new_data_files(table, known), "the kill did not land while data files were written"
    after = (wh.data_version(), QueryGateway(wh).query("SELECT sum(amount) FROM orders").item())
    assert after == before == ("customers=-,orders=0,surveys=-,tickets=-,events=-", 15.0)

    # The warehouse stays usable: the next load commits normally on top of version 0.
    result = ingest(big_csv, dataset_name="orders", warehouse=wh)
    assert (result.loaded, result.version, result.rows_loaded) == (True, 1, ROWS)
    assert wh.row_count("orders") == ROWS + 2
