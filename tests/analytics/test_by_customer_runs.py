"""The records sorted by customer, kept up to date by loads: an append sorts only its own rows
into a run, a rollback takes the runs it had, and whatever the sequence of loads the copy
holds what a copy built in full holds, in the same order per customer."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import by_customer
from analytics.contract import DATASETS
from analytics.warehouse import QueryGateway, Warehouse
from tests.scratch_warehouse import built_in_full
from tests.slow_properties import slow_examples

FIRST = datetime(2024, 1, 1)


class Loads:
    """Random rows of the record datasets; ids never repeat, customers do (and are missing
    now and then), so one customer's rows spread over many loads."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.made = 0

    def rows(self, name: str, n: int) -> pl.DataFrame:
        schema = DATASETS[name].schema
        ids = [f"{name[0]}{self.made + i}" for i in range(n)]
        self.made += n
        customers = [self.rng.choice([None, *(f"C{k}" for k in range(12))]) for _ in ids]
        moments = [FIRST + timedelta(hours=self.rng.randrange(24 * 400)) for _ in ids]
        # Equal moments and amounts within a customer: only the version's order tells them.
        values = {
            "customer_id": customers,
            DATASETS[name].time_column: [
                m.date() if schema[DATASETS[name].time_column] == pl.Date() else m for m in moments
            ],
            next(c for c in schema if c.endswith("_id") and c != "customer_id"): ids,
        }
        if name == "orders":
            values["amount"] = [self.rng.choice([1.0, 2.5, None]) for _ in ids]
        if name == "events":
            values["touchpoint"] = [self.rng.choice(["Visit", "Cart", None]) for _ in ids]
        return pl.DataFrame(
            {c: pl.Series(c, values.get(c, [None] * n), dtype=t) for c, t in schema.items()}
        )


def _load(warehouse: Warehouse, loads: Loads, what: str) -> None:
    rng = loads.rng
    name = rng.choice(by_customer.DATASETS)
    version = warehouse.version(name)
    if what == "append" and version is not None:
        warehouse.commit(name, loads.rows(name, rng.randrange(1, 9)), mode="append", metadata={})
    elif what == "rollback" and version:
        warehouse.rollback(name, rng.randrange(version), user="test")
    else:  # a replace, or the dataset's first load
        warehouse.commit(name, loads.rows(name, rng.randrange(5, 30)), mode="replace", metadata={})


def _per_customer(gateway: QueryGateway, name: str) -> pl.DataFrame:
    """Every row of `name` as `gateway` reads it, each customer's together in the order
    read: what a question about one customer sees of the copy."""
    rows = gateway.query(f"SELECT * FROM {name}").with_row_index("read")
    return rows.sort("customer_id", "read", nulls_last=True).drop("read")


def _full_build(warehouse: Warehouse, scratch: Path) -> Warehouse:
    return built_in_full(warehouse, scratch, by_customer.refresh)


def _runs(warehouse: Warehouse, name: str) -> list[by_customer.Run]:
    version = warehouse.version(name)
    assert version is not None
    runs = by_customer._runs(by_customer.copy_path(warehouse, name, version))
    assert runs is not None
    return runs


def assert_same_as_full(warehouse: Warehouse, scratch: Path) -> None:
    full = _full_build(warehouse, scratch)
    mine, theirs = QueryGateway(warehouse), QueryGateway(full)
    copies, full_copies = by_customer.files_for(mine), by_customer.files_for(theirs)
    assert sorted(copies) == sorted(full_copies)
    for name, files in copies.items():
        assert len(full_copies[name]) == 1  # built in full: one run
        assert 1 <= len(files) <= by_customer.MAX_RUNS
        assert sum(run.rows for run in _runs(warehouse, name)) == warehouse.row_count(name)
        for file in files:  # each run sorted by customer
            ids = pl.read_parquet(file, columns=["customer_id"])["customer_id"]
            assert ids.equals(ids.sort(nulls_last=True), null_equal=True)
        from_copies = _per_customer(mine.reading(copies), name)
        assert_frame_equal(from_copies, _per_customer(theirs.reading(full_copies), name))
        assert_frame_equal(from_copies, _per_customer(mine, name))  # the version's order


@slow_examples(12)
@given(
    seed=st.integers(0, 10_000),
    loads=st.lists(
        st.sampled_from(["append", "append", "append", "replace", "rollback"]),
        min_size=1,
        max_size=10,
    ),
)
def test_copies_kept_up_to_date_equal_copies_built_in_full(
    tmp_path_factory, monkeypatch, seed, loads
):
    monkeypatch.setattr(by_customer, "MAX_RUNS", 3)  # runs merged often
    tmp = tmp_path_factory.mktemp("runs")
    warehouse, made = Warehouse(tmp / "w"), Loads(seed)
    for name in by_customer.DATASETS:
        warehouse.commit(name, made.rows(name, 20), mode="replace", metadata={})
    by_customer.refresh(warehouse)
    for what in loads:
        _load(warehouse, made, what)
        by_customer.refresh(warehouse)
        assert not by_customer.pending(warehouse)
        assert_same_as_full(warehouse, tmp / "full")


# ----- what a load sorts ---------------------------------------------------------------------


@pytest.fixture
def loaded(tmp_path) -> tuple[Warehouse, Loads]:
    warehouse, made = Warehouse(tmp_path / "w"), Loads(3)
    warehouse.commit("orders", made.rows("orders", 200), mode="replace", metadata={})
    by_customer.refresh(warehouse)
    return warehouse, made


def _append(warehouse: Warehouse, made: Loads, n: int) -> None:
    warehouse.commit("orders", made.rows("orders", n), mode="append", metadata={})


def test_an_append_sorts_only_its_rows_into_a_run_of_their_own(loaded, tmp_path):
    warehouse, made = loaded
    (first,) = _runs(warehouse, "orders")
    _append(warehouse, made, 7)

    assert list(by_customer.refresh(warehouse)) == ["orders by customer"]
    runs = _runs(warehouse, "orders")
    (new,) = [run for run in runs if run != first]  # the first is the same file as before
    appended = warehouse.appended("orders", 0, 1)
    assert appended is not None
    assert (new.rows, new.sources) == (7, tuple(f.rsplit("/", 1)[-1] for f in appended))
    # The runs in the order the version lists its files (newest first, as deltalake does).
    files = [f.rsplit("/", 1)[-1] for f in warehouse.files("orders", 1)]
    assert [s for run in runs for s in run.sources] == files
    assert_same_as_full(warehouse, tmp_path / "full")


def test_more_runs_than_allowed_are_merged_after_the_first(loaded, monkeypatch, tmp_path):
    warehouse, made = loaded
    monkeypatch.setattr(by_customer, "MAX_RUNS", 3)
    (first,) = _runs(warehouse, "orders")
    sizes = []
    for n in (5, 6, 7, 8):
        _append(warehouse, made, n)
        by_customer.refresh(warehouse)
        sizes.append(sorted(run.rows for run in _runs(warehouse, "orders")))

    # A fourth run would be one too many: the three beside the first become one.
    assert sizes == [[5, 200], [5, 6, 200], [18, 200], [8, 18, 200]]
    assert first in _runs(warehouse, "orders")
    assert_same_as_full(warehouse, tmp_path / "full")


def test_runs_that_grow_past_half_the_first_are_merged_with_it(loaded, monkeypatch, tmp_path):
    warehouse, made = loaded
    monkeypatch.setattr(by_customer, "MAX_RUNS", 2)
    for n in (60, 50):
        _append(warehouse, made, n)
        by_customer.refresh(warehouse)

    # 60 + 50 is more than half of 200: the three runs become one of every row.
    assert [run.rows for run in _runs(warehouse, "orders")] == [310]
    assert_same_as_full(warehouse, tmp_path / "full")


def test_a_rollback_takes_the_runs_it_had_and_sorts_nothing(loaded, tmp_path):
    warehouse, made = loaded
    before = _runs(warehouse, "orders")
    _append(warehouse, made, 9)
    by_customer.refresh(warehouse)
    runs = sorted((warehouse.root / by_customer.FOLDER).glob("*.parquet"))
    warehouse.rollback("orders", 0, user="test")

    assert list(by_customer.refresh(warehouse)) == ["orders by customer"]
    assert _runs(warehouse, "orders") == before
    assert sorted((warehouse.root / by_customer.FOLDER).glob("*.parquet")) == runs
    assert_same_as_full(warehouse, tmp_path / "full")


def test_a_replace_is_sorted_in_full_and_old_runs_go(loaded, tmp_path):
    warehouse, made = loaded
    for _ in range(3):  # three copies: the oldest and its runs are not kept
        warehouse.commit("orders", made.rows("orders", 40), mode="replace", metadata={})
        by_customer.refresh(warehouse)

    folder = warehouse.root / by_customer.FOLDER
    assert len(list(folder.glob("orders-*.json"))) == by_customer.KEEP
    listed = {run.file for v in (2, 3) for run in _runs_at(warehouse, v)}
    assert {p.name for p in folder.glob("*.parquet")} == listed
    assert [run.rows for run in _runs(warehouse, "orders")] == [40]
    assert_same_as_full(warehouse, tmp_path / "full")


def _runs_at(warehouse: Warehouse, version: int) -> list[by_customer.Run]:
    runs = by_customer._runs(by_customer.copy_path(warehouse, "orders", version))
    assert runs is not None
    return runs


def test_the_oldest_copy_kept_still_reads_its_own_rows(loaded):
    warehouse, made = loaded
    _append(warehouse, made, 4)
    by_customer.refresh(warehouse)
    pinned = QueryGateway(warehouse).at_versions({"orders": 0})

    assert [len(f) for f in by_customer.files_for(pinned).values()] == [1]
    assert_frame_equal(
        _per_customer(pinned.reading(by_customer.files_for(pinned)), "orders"),
        _per_customer(pinned, "orders"),
    )
    assert date(2024, 1, 1) <= pinned.query("SELECT min(order_date) FROM orders").item()
