"""Rollups brought up to date after an append or a rollback equal rollups built in full.

A small random company takes random sequences of loads (appends of orders at the end of
their customers' histories or anywhere, of surveys, tickets and customers; replaces;
rollbacks); after each, `rollups.refresh` updates what it can, and every part of every
family is compared with a full build of the same data in a scratch warehouse: sums per
group, per-customer rows merged as readers merge them, ticket durations as sorted rows.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import rollups
from analytics.contract import DATASETS
from analytics.filters import Filters
from analytics.kpis import KPIS, trend
from analytics.rollups import update
from analytics.warehouse import QueryGateway, Warehouse
from tests.scratch_warehouse import built_in_full
from tests.slow_properties import slow_examples

STATUSES = ["completed", "completed", "completed", None, "returned", "cancelled"]
CHANNELS = ["web", "app", "store", None]
CATEGORIES = ["Home", "Beauty", None]
REGIONS = ["EMEA", "APAC", "Americas", None]
FIRST_DAY = date(2024, 1, 1)


@dataclass
class Company:
    """A small company whose loads the tests choose, with ids that never repeat."""

    rng: random.Random
    customers: int = 0
    next_id: dict[str, int] = field(default_factory=dict)

    def ids(self, prefix: str, n: int) -> list[str]:
        start = self.next_id.get(prefix, 0)
        self.next_id[prefix] = start + n
        return [f"{prefix}{i}" for i in range(start, start + n)]

    def people(self, n: int) -> pl.DataFrame:
        ids = [f"C{i}" for i in range(self.customers, self.customers + n)]
        self.customers += n
        return frame(
            "customers",
            customer_id=ids,
            region=[self.rng.choice(REGIONS) for _ in ids],
            plan=[self.rng.choice(["Basic", "Premium"]) for _ in ids],
        )

    def buyer(self) -> str:
        """A customer, or now and then one the customers table does not hold (yet)."""
        return f"C{self.rng.randrange(self.customers + 3)}"

    def orders(self, n: int, days: tuple[date, date]) -> pl.DataFrame:
        ids = self.ids("o", n)
        return frame(
            "orders",
            order_id=ids,
            customer_id=[self.buyer() for _ in ids],
            order_date=[_day(self.rng, *days) for _ in ids],
            amount=[self.rng.choice([None, *range(1, 90)]) for _ in ids],
            status=[self.rng.choice(STATUSES) for _ in ids],
            channel=[self.rng.choice(CHANNELS) for _ in ids],
            product_category=[self.rng.choice(CATEGORIES) for _ in ids],
        )

    def surveys(self, n: int, days: tuple[date, date]) -> pl.DataFrame:
        ids = self.ids("s", n)
        return frame(
            "surveys",
            response_id=ids,
            customer_id=[self.buyer() for _ in ids],
            responded_at=[_moment(self.rng, *days) for _ in ids],
            nps=[self.rng.choice([None, *range(11)]) for _ in ids],
            csat=[self.rng.choice([None, 1, 2, 3, 4, 5]) for _ in ids],
            channel=[self.rng.choice(CHANNELS) for _ in ids],
        )

    def tickets(self, n: int, days: tuple[date, date]) -> pl.DataFrame:
        ids = self.ids("t", n)
        opened = [_moment(self.rng, *days) for _ in ids]
        return frame(
            "tickets",
            ticket_id=ids,
            customer_id=[self.buyer() for _ in ids],
            opened_at=opened,
            first_response_at=[o + timedelta(hours=self.rng.randrange(-2, 30)) for o in opened],
            resolved_at=[self.rng.choice([None, o + timedelta(hours=40)]) for o in opened],
            channel=[self.rng.choice(CHANNELS) for _ in ids],
        )


def frame(name: str, **columns: list[object]) -> pl.DataFrame:
    """The dataset's frame with its contract's columns and types (the others empty)."""
    schema = DATASETS[name].schema
    height = len(next(iter(columns.values())))
    return pl.DataFrame(
        {
            c: pl.Series(c, columns[c], dtype=schema[c])
            if c in columns
            else pl.Series(c, [None] * height, dtype=schema[c])
            for c in schema
        }
    )


def _day(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randrange((high - low).days + 1))


def _moment(rng: random.Random, low: date, high: date) -> object:
    from datetime import datetime

    day = _day(rng, low, high)
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))


def _last_day(warehouse: Warehouse, name: str) -> date:
    column = DATASETS[name].time_column
    found = QueryGateway(warehouse).query(f"SELECT CAST(max({column}) AS DATE) FROM {name}")
    return found.item() or FIRST_DAY


def start_company(
    tmp: Path,
    seed: int,
    sizes: tuple[int, int, int, int] = (25, 120, 40, 30),
    refresh: Callable[[Warehouse], object] = rollups.refresh,
) -> tuple[Warehouse, Company]:
    """A random company of `sizes` customers, orders, surveys and tickets over eight months
    of 2024, its derived tables made by `refresh`."""
    warehouse = Warehouse(tmp / "w")
    company = Company(random.Random(seed))
    customers, orders, surveys, tickets = sizes
    warehouse.commit("customers", company.people(customers), mode="replace", metadata={})
    span = (FIRST_DAY, date(2024, 8, 31))
    warehouse.commit("orders", company.orders(orders, span), mode="replace", metadata={})
    warehouse.commit("surveys", company.surveys(surveys, span), mode="replace", metadata={})
    warehouse.commit("tickets", company.tickets(tickets, span), mode="replace", metadata={})
    refresh(warehouse)
    return warehouse, company


# ----- comparing a rollup with a full build --------------------------------------------------

_PER_CUSTOMER = {
    "first_m": "min(first_m)",
    "second_m": "least(min(second_m), min(first_m, 2)[2])",
    "first_day": "min(first_day)",
    "second_day": "least(min(second_day), min(first_day, 2)[2])",
    "last_day": "max(last_day)",
    "revenue": "sum(revenue)",
}


def _normal(rollup: rollups.Rollup, part: str) -> pl.DataFrame:
    """The part as its readers see it, in one order: sums per group; a customer's rows
    merged; ticket durations as sorted rows."""
    files = rollup.files(part)
    schema = pl.read_parquet_schema(files[0])
    if part == "hours":
        return pl.concat([pl.read_parquet(f) for f in files]).sort(pl.all())
    if part == "customer_days" or part.startswith("customers"):
        keys = ["customer_id"] + [c for c in ("channel", "product_category") if c in schema]
        merged = ", ".join(
            f"{_PER_CUSTOMER[c]} AS {c}"
            if c in _PER_CUSTOMER
            else f"bit_or({c}) AS {c}"
            if c[0] in "wd" and c[1:].isdigit()
            else f"any_value({c}) AS {c}"
            for c in schema
            if c not in keys
        )
        sql = f"SELECT {', '.join(keys)}, {merged} FROM read_parquet($files) GROUP BY ALL"
        return duckdb.sql(sql, params={"files": files}).pl().sort(keys, nulls_last=True)
    keys = [c for c, t in schema.items() if t in (pl.String(), pl.Date()) or c == "m"]
    measures = [c for c in schema if c not in keys]
    return (
        pl.concat([pl.read_parquet(f) for f in files])
        .group_by(keys)
        .agg(pl.col(c).sum() for c in measures)
        .sort(keys, nulls_last=True)
    )


def _full_build(warehouse: Warehouse, scratch: Path) -> Warehouse:
    return built_in_full(warehouse, scratch, rollups.refresh)


def _parts(rollup: rollups.Rollup) -> list[str]:
    stem = f"{rollup.family}-{rollup.key}."
    names = [p.name.removeprefix(stem) for p in rollup.folder.glob(f"{stem}*.parquet")]
    return sorted(n.removesuffix(".parquet") for n in names if n.count(".") == 1)


def assert_same_as_full(warehouse: Warehouse, scratch: Path) -> None:
    full = _full_build(warehouse, scratch)
    for family in rollups.FAMILIES:
        mine, theirs = rollups.current(warehouse, family), rollups.current(full, family)
        assert (mine is None) == (theirs is None)
        if mine is None or theirs is None:
            continue
        assert (mine.first_day, mine.last_day, mine.base_word, mine.words) == (
            theirs.first_day,
            theirs.last_day,
            theirs.base_word,
            theirs.words,
        )
        assert _parts(mine) == _parts(theirs)
        for part in _parts(theirs):
            mine_part, full_part = _normal(mine, part), _normal(theirs, part)
            assert mine_part.columns == full_part.columns, part
            assert_frame_equal(mine_part, full_part, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-6)


# ----- the loads -----------------------------------------------------------------------------

LOADS = st.lists(
    st.sampled_from(
        [
            "append orders at the end",
            "append orders at the end",
            "append orders anywhere",
            "append surveys",
            "append tickets",
            "append customers",
            "replace orders",
            "roll orders back",
        ]
    ),
    min_size=1,
    max_size=4,
)


def _load(warehouse: Warehouse, company: Company, what: str) -> None:
    rng = company.rng
    if what == "append orders at the end":
        last = _last_day(warehouse, "orders")
        span = (last, last + timedelta(days=rng.choice([0, 3, 40, 400])))
        warehouse.commit(
            "orders", company.orders(rng.randrange(1, 30), span), mode="append", metadata={}
        )
    elif what == "append orders anywhere":
        span = (FIRST_DAY, _last_day(warehouse, "orders"))
        warehouse.commit(
            "orders", company.orders(rng.randrange(1, 10), span), mode="append", metadata={}
        )
    elif what in ("append surveys", "append tickets"):
        name = what.removeprefix("append ")
        last = _last_day(warehouse, name)
        rows = getattr(company, name)(rng.randrange(1, 15), (FIRST_DAY, last + timedelta(days=30)))
        warehouse.commit(name, rows, mode="append", metadata={})
    elif what == "append customers":
        warehouse.commit("customers", company.people(3), mode="append", metadata={})
    elif what == "replace orders":
        span = (FIRST_DAY, date(2024, 10, 31))
        warehouse.commit("orders", company.orders(80, span), mode="replace", metadata={})
    else:
        version = warehouse.version("orders")
        if version:  # version 0 has nothing before it
            warehouse.rollback("orders", rng.randrange(version), user="test")


@slow_examples(10)
@given(seed=st.integers(0, 10_000), loads=LOADS)
def test_updated_rollups_equal_full_builds(tmp_path_factory, seed, loads):
    tmp = tmp_path_factory.mktemp("update")
    warehouse, company = start_company(tmp, seed)
    for what in loads:
        _load(warehouse, company, what)
        rollups.refresh(warehouse)
        assert_same_as_full(warehouse, tmp / "full")


# ----- which loads are updates ---------------------------------------------------------------


@pytest.fixture
def started(tmp_path) -> tuple[Warehouse, Company]:
    return start_company(tmp_path, 7)


def _append_at_end(warehouse: Warehouse, company: Company, n: int = 20, days: int = 20) -> None:
    last = _last_day(warehouse, "orders")
    rows = company.orders(n, (last, last + timedelta(days=days)))
    warehouse.commit("orders", rows, mode="append", metadata={})


def test_an_append_at_the_end_is_an_update_with_one_delta_per_part(started, tmp_path):
    warehouse, company = started
    _append_at_end(warehouse, company, days=0)  # the same 64-day word of customer_days
    built = rollups.refresh(warehouse)
    assert set(built) == {"orders (appended)"}  # everything else was there already
    rollup = rollups.current(warehouse, "orders")
    assert rollup is not None and rollup.generation == 1
    assert dict(rollup.deltas).keys() == set(_parts(rollup))  # every part, day words alike
    assert all(generations == (1,) for _, generations in rollup.deltas)
    assert_same_as_full(warehouse, tmp_path / "full")


def test_surveys_and_tickets_appends_are_updates(started, tmp_path):
    warehouse, company = started
    for name in ("surveys", "tickets"):
        rows = getattr(company, name)(12, (FIRST_DAY, date(2024, 12, 31)))
        warehouse.commit(name, rows, mode="append", metadata={})
    assert set(rollups.refresh(warehouse)) == {"surveys (appended)", "tickets (appended)"}
    assert_same_as_full(warehouse, tmp_path / "full")


def test_an_append_before_a_customers_last_order_is_built_in_full(started, tmp_path):
    warehouse, company = started
    rows = company.orders(1, (FIRST_DAY, FIRST_DAY)).with_columns(
        customer_id=pl.lit("C0"), status=pl.lit("completed")
    )
    warehouse.commit("orders", rows, mode="append", metadata={})
    assert "orders" in rollups.refresh(warehouse)  # not "orders (appended)"
    assert rollups.current(warehouse, "orders").generation == 0  # type: ignore[union-attr]
    assert_same_as_full(warehouse, tmp_path / "full")


def test_a_rollback_links_the_kept_rollup_of_the_same_rows(started, tmp_path):
    warehouse, company = started
    before = rollups.current(warehouse, "orders")
    _append_at_end(warehouse, company)
    rollups.refresh(warehouse)
    warehouse.rollback("orders", 0, user="test")
    assert set(rollups.refresh(warehouse)) == {"orders (restored)"}
    restored = rollups.current(warehouse, "orders")
    assert restored is not None and before is not None
    assert restored.key != before.key
    assert os.path.samefile(restored.path("customers"), before.path("customers"))
    assert_same_as_full(warehouse, tmp_path / "full")


def test_a_replace_and_a_customers_load_are_built_in_full(started):
    warehouse, company = started
    warehouse.commit("customers", company.people(2), mode="append", metadata={})
    assert set(rollups.refresh(warehouse)) == {"orders", "surveys", "tickets"} | {
        "orders by period",
        "surveys by period",
        "tickets by period",
        "orders by channel",
        "orders by product_category",
    }
    warehouse.commit(
        "orders", company.orders(30, (FIRST_DAY, FIRST_DAY)), mode="replace", metadata={}
    )
    assert "orders" in rollups.refresh(warehouse)


def test_after_the_last_update_allowed_the_next_append_is_built_in_full(started, monkeypatch):
    warehouse, company = started
    monkeypatch.setattr(update, "MAX_GENERATIONS", 2)
    labels = []
    for _ in range(3):
        _append_at_end(warehouse, company, 3)
        labels.append(next(k for k in rollups.refresh(warehouse) if k.startswith("orders")))
    assert labels == ["orders (appended)", "orders (appended)", "orders"]


def test_a_new_word_of_days_builds_the_customers_days_again(started, tmp_path):
    """2024-08-31 is in the word of days 19904-19967 (2024-07-01..2024-09-02): orders up to
    mid-September need another word, so `customer_days` is built again, in full."""
    warehouse, company = started
    last = _last_day(warehouse, "orders")
    rows = company.orders(5, (date(2024, 9, 10), date(2024, 9, 15)))
    warehouse.commit(
        "orders", rows.with_columns(customer_id=pl.lit("C1")), mode="append", metadata={}
    )
    assert last < date(2024, 9, 3)
    assert set(rollups.refresh(warehouse)) == {"orders (appended)", "orders by period"}
    rollup = rollups.current(warehouse, "orders")
    assert rollup is not None and "customer_days" not in dict(rollup.deltas)
    assert_same_as_full(warehouse, tmp_path / "full")


def test_the_kpis_through_updated_rollups_equal_the_rows(started, tmp_path):
    """Three appends (one of them a load of customers' next orders on the same day) later,
    every KPI at every grain, narrowed and broken down, reads the merged files as the rows."""
    warehouse, company = started
    for n in (25, 10, 15):
        _append_at_end(warehouse, company, n)
        rollups.refresh(warehouse)
    assert rollups.current(warehouse, "orders").generation == 3  # type: ignore[union-attr]
    rows = tmp_path / "rows"
    shutil.copytree(warehouse.root, rows, ignore=shutil.ignore_patterns(rollups.FOLDER))
    fast, slow = QueryGateway(warehouse), QueryGateway(Warehouse(rows))
    keys = [k.key for k in KPIS]
    last = _last_day(warehouse, "orders")
    for filters, grain, by in [
        (Filters(), "month", None),
        (Filters(), "week", None),
        (Filters(), "quarter", "channel"),
        (Filters(channel=("web", "app")), "month", "region"),
        (Filters(product_category=("Home",)), "quarter", None),
        (Filters(start=date(2024, 2, 10), end=last - timedelta(days=3)), "month", None),
    ]:
        summed = keys if not filters.channel else [k for k in keys if k != "clv_historical"]
        assert_frame_equal(
            trend(fast, summed, filters, grain, by=by),
            trend(slow, summed, filters, grain, by=by),
            rel_tol=1e-9,
            abs_tol=1e-9,
        )
