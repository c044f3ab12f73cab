"""A segmentation's customer facts counted again only for the customers an append can change
equal the facts counted in full.

A random company (the one of the rollups' update tests, its customers with sign-up dates,
some after the last order) takes random sequences of loads; after each, the segmentation is
built as a load builds it, and its stored counts are compared with the counts of every
customer of the same data.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import segments
from analytics.segments import features as feats
from analytics.segments import recount
from analytics.segments.store import Segmentation
from analytics.warehouse import QueryGateway, Warehouse
from tests.analytics.rollups.test_update import FIRST_DAY, LOADS, Company, _last_day, _load
from tests.slow_properties import slow_examples

LAST_DAY = date(2024, 8, 31)


def _people(company: Company, n: int, last: date) -> pl.DataFrame:
    """`n` new customers, signed up between the first day and 60 days after `last`."""
    rng = company.rng
    days = (last - FIRST_DAY).days + 60
    return company.people(n).with_columns(
        signup_date=pl.Series(
            [FIRST_DAY + timedelta(days=rng.randrange(days)) for _ in range(n)], dtype=pl.Date
        )
    )


def _start(tmp: Path, seed: int) -> tuple[Warehouse, Company]:
    warehouse = Warehouse(tmp / "w")
    company = Company(random.Random(seed))
    span = (FIRST_DAY, LAST_DAY)
    warehouse.commit("customers", _people(company, 150, LAST_DAY), mode="replace", metadata={})
    warehouse.commit("orders", company.orders(900, span), mode="replace", metadata={})
    warehouse.commit("surveys", company.surveys(120, span), mode="replace", metadata={})
    warehouse.commit("tickets", company.tickets(80, span), mode="replace", metadata={})
    segments.refresh(warehouse)
    return warehouse, company


def _loaded(warehouse: Warehouse, company: Company, what: str) -> None:
    if what == "append customers":  # with sign-up dates, some after the last order
        rows = _people(company, 4, _last_day(warehouse, "orders"))
        warehouse.commit("customers", rows, mode="append", metadata={})
    else:
        _load(warehouse, company, what)


def _stored(warehouse: Warehouse) -> tuple[Segmentation, pl.DataFrame]:
    current = segments.current(warehouse)
    assert current is not None
    return current, pl.read_parquet(current.path(recount.PART))


def assert_counts_same_as_full(warehouse: Warehouse) -> int | None:
    """The current segmentation's stored counts equal every customer's counted now; how
    many it counted again (None: in full)."""
    current, stored = _stored(warehouse)
    basis = current.meta["facts"]
    cutoffs = [date.fromisoformat(c) for c in basis["cutoffs"]]
    full = feats.counted_facts(QueryGateway(warehouse), current.as_of, cutoffs, basis["top"])
    assert_frame_equal(stored, full, rel_tol=1e-9, abs_tol=1e-6)
    recounted: int | None = basis["recounted"]
    return recounted


@slow_examples(8)
@given(seed=st.integers(0, 10_000), loads=LOADS)
def test_recounted_facts_equal_facts_counted_in_full(tmp_path_factory, seed, loads):
    warehouse, company = _start(tmp_path_factory.mktemp("recount"), seed)
    assert assert_counts_same_as_full(warehouse) is None  # the first: in full
    for what in loads:
        _loaded(warehouse, company, what)
        segments.refresh(warehouse)
        assert_counts_same_as_full(warehouse)


@pytest.fixture
def started(tmp_path) -> tuple[Warehouse, Company]:
    return _start(tmp_path, 5)


def test_an_append_of_surveys_counts_again_only_the_customers_they_name(started):
    warehouse, company = started
    rows = company.surveys(3, (FIRST_DAY, LAST_DAY)).with_columns(
        customer_id=pl.Series(["C3", "C7", "C3"])
    )
    warehouse.commit("surveys", rows, mode="append", metadata={})
    segments.refresh(warehouse)
    assert assert_counts_same_as_full(warehouse) == 2


def _one_order(warehouse: Warehouse, company: Company) -> pl.DataFrame:
    """A completed order of C9 the day after the last order."""
    last = _last_day(warehouse, "orders")
    return company.orders(1, (last, last)).with_columns(
        customer_id=pl.lit("C9"), status=pl.lit("completed"), order_date=pl.lit(last + timedelta(1))
    )


def test_an_append_at_the_end_counts_again_the_customers_whose_cut_offs_moved(started):
    warehouse, company = started
    before, _ = _stored(warehouse)
    warehouse.commit("orders", _one_order(warehouse, company), mode="append", metadata={})
    segments.refresh(warehouse)
    recounted = assert_counts_same_as_full(warehouse)
    # C9, and the customers with a completed order in the day each cut-off moved by.
    after, _ = _stored(warehouse)
    then, now = before.meta["facts"]["cutoffs"], after.meta["facts"]["cutoffs"]
    moved = [
        (date.fromisoformat(old), date.fromisoformat(new))
        for old, new in zip(then, now, strict=True)
    ]
    # 30 days before the last order moves by a day; the holdout's start by a day or none.
    assert [new - old for old, new in moved] in (
        [timedelta(0), timedelta(1)],
        [timedelta(1), timedelta(1)],
    )
    window = " OR ".join(f"order_date = DATE '{new}'" for old, new in moved if new > old)
    # And who signed up, answered or opened a ticket on the new last day.
    day = f"DATE '{after.as_of}'"
    named = (
        QueryGateway(warehouse)
        .query(
            "SELECT customer_id FROM orders "
            f"WHERE coalesce(status, 'completed') NOT IN ('returned', 'cancelled') AND ({window}) "
            f"UNION SELECT customer_id FROM customers WHERE signup_date = {day} "
            f"UNION SELECT customer_id FROM surveys WHERE CAST(responded_at AS DATE) = {day} "
            f"UNION SELECT customer_id FROM tickets WHERE CAST(opened_at AS DATE) = {day} "
            "UNION SELECT 'C9'"
        )
        .drop_nulls()
    )
    assert after.as_of == before.as_of + timedelta(1)
    assert named.height == 8
    assert recounted == named.height


@pytest.mark.parametrize("load", ["replace orders", "roll orders back"])
def test_a_replace_or_a_rollback_counts_every_customer(started, load):
    warehouse, company = started
    warehouse.commit("orders", _one_order(warehouse, company), mode="append", metadata={})
    segments.refresh(warehouse)
    assert assert_counts_same_as_full(warehouse) is not None
    _load(warehouse, company, load)
    segments.refresh(warehouse)
    assert assert_counts_same_as_full(warehouse) is None
