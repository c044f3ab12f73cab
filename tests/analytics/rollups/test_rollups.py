"""Rollups: the same KPIs as from the rows, for every question they answer.

The sample company is read twice: through its rollups, and from a copy of the warehouse
without them (so every statistic comes from the rows). Every KPI, value, interval, change and
flag must agree; the questions the rollups cannot answer exactly must be declined, and still
give the rows' numbers through `kpis`.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import kpis, rollups
from analytics.cohorts import cohort_customers, cohort_table
from analytics.filters import Filters
from analytics.kpis import KPI_BY_KEY, KPIS, scorecard, trend
from analytics.periods import shift
from analytics.rollups import Question
from analytics.rollups.cohorts import cohort_cells, cohort_members
from analytics.warehouse import Access, QueryGateway, Warehouse

ALL_KEYS = [k.key for k in KPIS]
# Every KPI but historical customer value, which declines orders narrowed to several record
# values at once (their cumulative revenue would have to be summed per customer).
SUMMED_KEYS = [k for k in ALL_KEYS if k != "clv_historical"]
BASE_PARTS = ["orders", "surveys"]  # the tiny company has no tickets
RECORD_PARTS = [
    "orders by period",
    "surveys by period",
    "orders by channel",
    "orders by product_category",
]
ORDER_KEYS = [k for k in ALL_KEYS if KPI_BY_KEY[k].family == "orders"]


@pytest.fixture(scope="module")
def gateways(sample_warehouse: Warehouse, tmp_path_factory) -> tuple[QueryGateway, QueryGateway]:
    """(through the rollups, from the rows) over the same sample company."""
    assert all(rollups.current(sample_warehouse, f) is not None for f in rollups.FAMILIES)
    copy = tmp_path_factory.mktemp("rows") / "warehouse"
    shutil.copytree(sample_warehouse.root, copy, ignore=shutil.ignore_patterns(rollups.FOLDER))
    rows = Warehouse(copy)
    assert all(rollups.current(rows, f) is None for f in rollups.FAMILIES)
    return QueryGateway(sample_warehouse), QueryGateway(rows)


def _same(fast: pl.DataFrame, rows: pl.DataFrame) -> None:
    assert fast.height > 0
    assert_frame_equal(fast, rows, rel_tol=1e-9, abs_tol=1e-9)


CASES = {
    "everything by month": (Filters(), "month", None),
    "everything by quarter": (Filters(), "quarter", None),
    "everything by year": (Filters(), "year", None),
    "one region": (Filters(region=("EMEA",)), "quarter", None),
    "region and plan": (Filters(region=("EMEA", "APAC"), plan=("Premium",)), "month", None),
    "country and acquisition channel": (
        Filters(country=("Germany", "France"), acquisition_channel=("Referral", "Direct")),
        "quarter",
        None,
    ),
    "a channel": (Filters(channel=("web", "email", "Chat")), "quarter", None),
    "a product category": (Filters(product_category=("Home",)), "month", None),
    "two product categories": (Filters(product_category=("Home", "Beauty")), "quarter", None),
    "every product category": (
        Filters(
            product_category=("Apparel", "Beauty", "Electronics", "Footwear", "Home", "Outdoor")
        ),
        "quarter",
        None,
    ),
    "two channels within a region": (
        Filters(channel=("web", "app"), region=("EMEA",)),
        "month",
        "plan",
    ),
    "a channel and a product category": (
        Filters(channel=("web",), product_category=("Home",)),
        "quarter",
        None,
    ),
    "by product category": (Filters(), "quarter", "product_category"),
    "by channel within two channels": (Filters(channel=("web", "store")), "month", "channel"),
    "by region": (Filters(), "quarter", "region"),
    "by plan within a region": (Filters(region=("Americas",)), "month", "plan"),
    "by channel": (Filters(), "quarter", "channel"),
    "whole months": (Filters(start=date(2024, 2, 1), end=date(2025, 5, 31)), "quarter", None),
    "from mid-month": (Filters(start=date(2024, 2, 10), end=date(2025, 6, 30)), "month", None),
    "to mid-month": (Filters(start=date(2024, 1, 1), end=date(2025, 6, 14)), "month", None),
    "a start before the data": (Filters(start=date(2022, 11, 17)), "quarter", None),
    "an end after the data": (Filters(end=date(2026, 2, 3)), "month", None),
    "nobody": (Filters(region=("Nowhere",)), "quarter", None),
}


@pytest.mark.parametrize(("filters", "grain", "by"), CASES.values(), ids=CASES.keys())
def test_trends_through_the_rollups_equal_the_rows(gateways, filters, grain, by):
    fast, rows = gateways
    keys = ORDER_KEYS if by == "product_category" else ALL_KEYS  # only orders have one
    result = trend(fast, keys, filters, grain, by=by)
    if filters.region == ("Nowhere",):
        assert result["value"].drop_nulls().sum() == 0
    _same(result, trend(rows, keys, filters, grain, by=by))


@pytest.mark.parametrize("grain", ["week", "day", "month", "quarter"])
def test_ranges_cut_inside_a_period_equal_the_rows(gateways, grain):
    """Surveys and tickets come from the days; orders of a cut period from the rows."""
    fast, rows = gateways
    filters = Filters(start=date(2025, 10, 1), end=date(2025, 12, 17))
    _same(trend(fast, ALL_KEYS, filters, grain), trend(rows, ALL_KEYS, filters, grain))


VALUE_CASES = {
    "everything by quarter": (Filters(), "quarter", None),
    "a region by month": (Filters(region=("EMEA",)), "month", None),
    "by plan within a country": (Filters(country=("Germany",)), "year", "plan"),
    "one channel": (Filters(channel=("web",)), "quarter", None),
    "by channel": (Filters(), "quarter", "channel"),
    "by product category within a region": (Filters(region=("APAC",)), "month", "product_category"),
    "a product category": (Filters(product_category=("Home",)), "quarter", None),
    "every week": (Filters(), "week", None),
    "weeks from a Monday to a Sunday by region": (
        Filters(start=date(2024, 1, 1), end=date(2025, 6, 29)),
        "week",
        "region",
    ),
    "weeks of one channel": (Filters(start=date(2025, 1, 6), channel=("web",)), "week", None),
    "weeks by channel": (Filters(start=date(2025, 1, 6)), "week", "channel"),
    "days of a product category": (
        Filters(start=date(2025, 11, 1), product_category=("Home",)),
        "day",
        None,
    ),
    "weeks from a Wednesday to a Thursday by region": (
        Filters(start=date(2024, 1, 3), end=date(2025, 6, 26)),
        "week",
        "region",
    ),
    "quarters cut at both ends": (
        Filters(start=date(2024, 2, 12), end=date(2025, 5, 20), plan=("Premium",)),
        "quarter",
        None,
    ),
    "one month cut at both ends": (
        Filters(start=date(2025, 2, 12), end=date(2025, 2, 20)),
        "month",
        None,
    ),
    "two weeks cut, by country": (
        Filters(start=date(2025, 3, 5), end=date(2025, 3, 13), region=("EMEA",)),
        "week",
        "country",
    ),
    "days by plan within a region": (
        Filters(start=date(2025, 9, 1), end=date(2025, 10, 31), region=("EMEA",)),
        "day",
        "plan",
    ),
}


@pytest.mark.parametrize(("filters", "grain", "by"), VALUE_CASES.values(), ids=VALUE_CASES.keys())
def test_every_kpi_comes_from_the_rollups_and_equals_the_rows(gateways, filters, grain, by):
    """Historical customer value and the ticket medians too: nothing reads the rows."""
    fast, rows = gateways
    keys = ORDER_KEYS if by == "product_category" else ALL_KEYS
    window = kpis._window(fast, [KPI_BY_KEY[k] for k in keys], filters, grain)
    for family in ("orders", "tickets") if by != "product_category" else ("orders",):
        question = Question(
            family,
            filters,
            grain,
            window.first,
            window.start,
            window.end,
            window.since,
            by,
            customer_value=True,
            medians=True,
        )
        assert rollups.family_stats(fast, question) is not None, family
    _same(trend(fast, keys, filters, grain, by=by), trend(rows, keys, filters, grain, by=by))


def test_customer_value_over_several_channels_reads_the_rows(gateways):
    fast, rows = gateways
    filters = Filters(channel=("web", "app"))
    question = _question("orders", filters=filters)
    assert rollups.family_stats(fast, question) is not None
    valued = Question(**{**question.__dict__, "customer_value": True})
    assert rollups.family_stats(fast, valued) is None
    _same(trend(fast, ALL_KEYS, filters, "quarter"), trend(rows, ALL_KEYS, filters, "quarter"))


@pytest.mark.parametrize(
    ("filters", "grain", "by", "cities"),
    [
        (Filters(), "quarter", "plan", ()),
        (Filters(start=date(2024, 3, 13)), "month", None, ("Berlin", "Paris", "London")),
        (Filters(start=date(2025, 1, 1)), "week", "channel", ()),
    ],
    ids=["by plan", "a city limit from mid-month", "weeks by channel"],
)
def test_rows_of_the_window_only_give_the_same_sums_and_customers(
    gateways, filters, grain, by, cities
):
    """Without a KPI that looks back (new, repeat, historical value), the rows path (here a
    warehouse without rollups) reads only the window's orders; the numbers are those of a
    call that reads all history."""
    _, rows = gateways
    if cities:
        rows = rows.scoped(Access(limits=(("city", cities),)))
    window_only = [k.key for k in KPIS if k.family == "orders" and k.key not in kpis.CUMULATIVE]
    alone = trend(rows, window_only, filters, grain, by=by)
    with_history = trend(rows, [*window_only, "new_customers"], filters, grain, by=by)
    assert alone["group"].n_unique() > (1 if by else 0)
    _same(alone, with_history.filter(pl.col("kpi") != "new_customers"))


ACCESSES = {
    "a region": Access(limits=(("region", ("EMEA",)),)),
    "a viewer of two countries": Access(
        limits=(("country", ("Germany", "Spain")),), mask_pii=True, min_group=5
    ),
    "small groups hidden": Access(min_group=40),
    "a channel": Access(limits=(("channel", ("web", "email", "Email")),)),
    "two channels": Access(limits=(("channel", ("web", "app", "email")),)),
    "a city (not in the rollups)": Access(limits=(("city", ("Berlin", "Paris")),)),
}


@pytest.mark.parametrize("access", ACCESSES.values(), ids=ACCESSES.keys())
@pytest.mark.parametrize("by", [None, "plan"])
def test_limited_users_get_the_rows_numbers(gateways, access, by):
    fast, rows = gateways
    filters = Filters(start=date(2024, 1, 1))
    got = trend(fast.scoped(access), ALL_KEYS, filters, "month", by=by)
    _same(got, trend(rows.scoped(access), ALL_KEYS, filters, "month", by=by))
    if access.min_group == 40 and by == "plan":
        assert got["hidden"].is_not_null().any()


@pytest.mark.parametrize(
    "filters", [Filters(), Filters(region=("EMEA",)), Filters(channel=("Web",))]
)
def test_the_scorecard_through_the_rollups_equals_the_rows(gateways, filters):
    fast, rows = gateways
    keys = ALL_KEYS
    period = date(2025, 10, 1)
    assert_frame_equal(
        scorecard(fast, filters, "quarter", period, keys=keys),
        scorecard(rows, filters, "quarter", period, keys=keys),
        rel_tol=1e-9,
        abs_tol=1e-9,
    )


# (filters, grain, by, answered by the rollups)
COHORT_CASES = {
    "months": (Filters(), "month", None, True),
    "quarters by region": (Filters(), "quarter", "region", True),
    "a plan from a month": (
        Filters(start=date(2024, 3, 1), plan=("Premium",)),
        "month",
        None,
        True,
    ),
    "to a quarter's end by country": (
        Filters(end=date(2025, 6, 30), region=("EMEA",)),
        "quarter",
        "country",
        True,
    ),
    "a start before the data, mid-month": (Filters(start=date(2022, 11, 17)), "month", None, True),
    "from mid-month": (Filters(start=date(2024, 3, 10)), "month", None, False),
    "to mid-quarter": (Filters(end=date(2025, 5, 31)), "quarter", None, False),
    "a channel": (Filters(channel=("web",)), "month", None, False),
    "nobody": (Filters(region=("Nowhere",)), "month", None, True),
}


@pytest.mark.parametrize(
    ("filters", "grain", "by", "answered"), COHORT_CASES.values(), ids=COHORT_CASES.keys()
)
@pytest.mark.parametrize("measure", ["customers", "revenue"])
def test_cohorts_through_the_rollups_equal_the_rows(
    gateways, filters, grain, by, answered, measure
):
    fast, rows = gateways
    assert (cohort_cells(fast, filters, grain, by) is not None) is answered
    got = cohort_table(fast, filters, grain, measure, by=by)
    assert_frame_equal(got, cohort_table(rows, filters, grain, measure, by=by), rel_tol=1e-9)
    assert got.height > 0 or filters.region == ("Nowhere",)


@pytest.mark.parametrize(
    ("filters", "grain", "by", "answered"), COHORT_CASES.values(), ids=COHORT_CASES.keys()
)
@pytest.mark.parametrize("k", [0, 2])
def test_cohort_customers_through_the_rollups_equal_the_rows(
    gateways, filters, grain, by, answered, k
):
    """The rollups list a cohort's customers (its first orders) wherever they answer its
    cells, and only the cell's period is read; the lists are those of the rows."""
    fast, rows = gateways
    table = cohort_table(rows, filters, grain, by=by)
    if table.is_empty():
        assert filters.region == ("Nowhere",)
        return
    biggest = (
        table.filter(pl.col("period_index") == 0).sort("size", descending=True).row(0, named=True)
    )
    group = biggest["group"] if by else None
    cohort, start = biggest["cohort_start"], filters.start or biggest["cohort_start"]
    members = cohort_members(fast, filters, by, group, max(cohort, start), shift(cohort, grain, 1))
    assert (members is not None) is (not filters.channel)
    got = cohort_customers(fast, filters, grain, cohort, k, by=by, group=group)
    assert_frame_equal(got, cohort_customers(rows, filters, grain, cohort, k, by=by, group=group))
    assert got.height > 0
    if members is not None and k == 0:
        assert got.height == members.height == biggest["size"]


@pytest.mark.parametrize("access", ACCESSES.values(), ids=ACCESSES.keys())
def test_limited_users_get_the_rows_cohort_customers(gateways, access):
    fast, rows = gateways
    filters = Filters(start=date(2024, 1, 1))
    for k in (0, 1):
        got = cohort_customers(fast.scoped(access), filters, "month", date(2024, 1, 1), k)
        assert_frame_equal(
            got, cohort_customers(rows.scoped(access), filters, "month", date(2024, 1, 1), k)
        )
        assert got.height > 0 or access.min_group > 1


@pytest.mark.parametrize("access", ACCESSES.values(), ids=ACCESSES.keys())
def test_limited_users_get_the_rows_cohorts(gateways, access):
    fast, rows = gateways
    filters = Filters(start=date(2024, 1, 1))
    assert_frame_equal(
        cohort_table(fast.scoped(access), filters, "month", by="plan"),
        cohort_table(rows.scoped(access), filters, "month", by="plan"),
        rel_tol=1e-9,
    )


def _question(
    family,
    *,
    grain="quarter",
    start=date(2024, 1, 1),
    end=date(2025, 12, 31),
    filters=None,
    by=None,
    **flags,
) -> Question:
    filters = filters or Filters()
    first = date(start.year, start.month, 1) if grain == "month" else date(start.year, 1, 1)
    return Question(family, filters, grain, first, start, end, date(2022, 10, 1), by, **flags)


# (family, question arguments, access limit, answered by the rollups)
ANSWERS = {
    "orders by quarter": ("orders", {}, None, True),
    "orders of a region": ("orders", {"filters": Filters(region=("EMEA",))}, None, True),
    "orders by plan": ("orders", {"by": "plan"}, None, True),
    "orders by week": ("orders", {"grain": "week"}, None, True),
    "orders by day": ("orders", {"grain": "day"}, None, True),
    "orders by week from a Wednesday": (
        "orders",
        {"grain": "week", "start": date(2024, 3, 6)},
        None,
        True,
    ),
    "orders of a channel by week from a Wednesday": (
        "orders",
        {"grain": "week", "start": date(2024, 3, 6), "filters": Filters(channel=("web",))},
        None,
        False,
    ),
    "orders by week to a Sunday": (
        "orders",
        {"grain": "week", "end": date(2025, 6, 15)},
        None,
        True,
    ),
    "orders by week by channel": ("orders", {"grain": "week", "by": "channel"}, None, True),
    "orders of two channels by week": (
        "orders",
        {"grain": "week", "filters": Filters(channel=("web", "app"))},
        None,
        False,
    ),
    "orders of one channel by day": (
        "orders",
        {"grain": "day", "filters": Filters(channel=("web",))},
        None,
        True,
    ),
    "orders of a channel": ("orders", {"filters": Filters(channel=("Web",))}, None, True),
    "orders by channel": ("orders", {"by": "channel"}, None, True),
    "orders for a channel limit": ("orders", {}, ("channel", ("Web",)), True),
    "orders of a channel and a product category": (
        "orders",
        {"filters": Filters(channel=("web",), product_category=("Home",))},
        None,
        False,
    ),
    "orders of a channel by product category": (
        "orders",
        {"filters": Filters(channel=("web",)), "by": "product_category"},
        None,
        False,
    ),
    "orders of a category for a channel limit": (
        "orders",
        {"filters": Filters(product_category=("Home",))},
        ("channel", ("web",)),
        False,
    ),
    "orders for a city limit": ("orders", {}, ("city", ("Paris",)), False),
    "orders for a region limit": ("orders", {}, ("region", ("EMEA",)), True),
    "orders to mid-month": ("orders", {"end": date(2025, 6, 14)}, None, True),
    "orders to the data's last day": ("orders", {"end": date(2025, 12, 31)}, None, True),
    "orders beyond the data": ("orders", {"end": date(2026, 1, 9)}, None, True),
    "orders from mid-month": (
        "orders",
        {"grain": "month", "start": date(2024, 3, 2)},
        None,
        True,
    ),
    "orders from before the data": ("orders", {"start": date(2022, 12, 24)}, None, True),
    "surveys of a channel": ("surveys", {"filters": Filters(channel=("Web",))}, None, True),
    "surveys by channel": ("surveys", {"by": "channel"}, None, True),
    "surveys for a channel limit": ("surveys", {}, ("channel", ("Web",)), True),
    "surveys of a product category": (
        "surveys",
        {"filters": Filters(product_category=("Home",))},
        None,
        True,
    ),
    "surveys to mid-month": ("surveys", {"end": date(2025, 6, 14)}, None, True),
    "surveys by week from a Wednesday": (
        "surveys",
        {"grain": "week", "start": date(2024, 3, 6)},
        None,
        True,
    ),
    "tickets by year": ("tickets", {"grain": "year"}, None, True),
    "tickets of a region by channel": (
        "tickets",
        {"filters": Filters(region=("EMEA",)), "by": "channel"},
        None,
        True,
    ),
}


@pytest.mark.parametrize(
    ("family", "arguments", "limit", "answered"), ANSWERS.values(), ids=ANSWERS.keys()
)
def test_which_questions_the_rollups_answer(gateways, family, arguments, limit, answered):
    fast, _ = gateways
    gateway = fast.scoped(Access(limits=(limit,))) if limit else fast
    stats = rollups.family_stats(gateway, _question(family, **arguments))
    assert (stats is not None) is answered


def test_a_load_makes_the_rollup_stale_until_refreshed(tiny_warehouse: Warehouse):
    assert all(rollups.current(tiny_warehouse, f) is None for f in rollups.FAMILIES)
    built = rollups.refresh(tiny_warehouse)
    assert sorted(built) == sorted([*BASE_PARTS, *RECORD_PARTS])
    assert rollups.refresh(tiny_warehouse) == {}  # nothing left to build
    before = QueryGateway(tiny_warehouse)
    question = _question("orders", grain="month", start=date(2020, 1, 1))
    assert rollups.family_stats(before, question) is not None

    orders = tiny_warehouse.read("orders")
    tiny_warehouse.commit("orders", orders.head(1), mode="replace", metadata={})
    assert rollups.current(tiny_warehouse, "orders") is None
    assert rollups.family_stats(before, question) is None  # the rows, never stale numbers
    assert rollups.current(tiny_warehouse, "surveys") is not None
    assert rollups.refresh(tiny_warehouse).keys() == {
        "orders",
        *(p for p in RECORD_PARTS if p.startswith("orders")),
    }
    assert rollups.family_stats(before, question) is not None


def test_a_new_customers_version_rebuilds_every_family(tiny_warehouse: Warehouse):
    rollups.refresh(tiny_warehouse)
    customers = tiny_warehouse.read("customers")
    tiny_warehouse.commit("customers", customers, mode="replace", metadata={})
    assert rollups.refresh(tiny_warehouse).keys() == {*BASE_PARTS, *RECORD_PARTS}


def test_old_rollups_are_pruned_to_the_latest_three(tiny_warehouse: Warehouse):
    orders = tiny_warehouse.read("orders")
    for _ in range(4):
        rollups.refresh(tiny_warehouse)
        tiny_warehouse.commit("orders", orders, mode="replace", metadata={})
    rollups.refresh(tiny_warehouse)
    folder = tiny_warehouse.root / rollups.FOLDER
    kept = sorted(p.name for p in folder.glob("orders-*.json"))
    assert len(kept) == rollups.KEEP
    version = tiny_warehouse.version("orders")
    assert f"orders-orders{version}-customers0-r{rollups.LAYOUT}.json" in kept
    # months, customers and value; days, counts_ of five grains, value_day, cohorts_ of two
    # grains and customer_days; customers_, value_, value_day_, counts_week_ and counts_day_
    # per record dimension
    assert len(list(folder.glob("orders-*.parquet"))) == 23 * rollups.KEEP
    assert not list(folder.glob(".*.parquet"))  # no partial files left behind


def test_an_empty_warehouse_has_nothing_to_summarise(warehouse: Warehouse):
    assert rollups.refresh(warehouse) == {}
    assert all(rollups.current(warehouse, f) is None for f in rollups.FAMILIES)


def test_the_rollup_records_the_data_it_covers(sample_warehouse: Warehouse):
    rollup = rollups.current(sample_warehouse, "orders")
    assert rollup is not None
    assert (rollup.first_day, rollup.last_day) == (date(2023, 1, 1), date(2025, 12, 31))
    # 2023-01 is month 24276 = 379 * 64 + 20: its 36 months fit in word 379 alone.
    assert (rollup.base_word, rollup.words) == (379, 1)
    meta = json.loads(Path(rollup.folder / f"orders-{rollup.key}.json").read_text())
    assert meta == {
        "first_day": "2023-01-01",
        "last_day": "2025-12-31",
        "base_word": 379,
        "words": 1,
        "hash": f"duckdb {duckdb.__version__}",
        "generation": 0,
        "deltas": {},
    }


def test_a_customer_with_two_orders_in_the_first_month_is_a_repeat_customer_at_once(tmp_path):
    """The second completed order's month is the first month again when it holds two; a
    returned or cancelled order is no order."""
    warehouse = Warehouse(tmp_path / "w")
    customers = pl.DataFrame({"customer_id": ["A", "B", "C"], "region": ["EMEA"] * 3})
    orders = pl.DataFrame(
        {
            "order_id": ["a1", "a2", "b1", "b2", "b3", "c1"],
            "customer_id": ["A", "A", "B", "B", "B", "C"],
            "order_date": [
                date(2025, 1, 3),
                date(2025, 1, 20),
                date(2025, 1, 5),
                date(2025, 1, 6),
                date(2025, 3, 9),
                date(2025, 2, 1),
            ],
            "amount": [10.0, 20.0, 5.0, 7.0, 9.0, 3.0],
            "status": ["completed", None, "completed", "returned", "completed", "cancelled"],
        }
    )
    _commit_frames(warehouse, customers=customers, orders=orders)
    rollups.refresh(warehouse)
    rollup = rollups.current(warehouse, "orders")
    assert rollup is not None
    table = pl.read_parquet(rollup.path("customers")).sort("first_m")
    january, march = 2025 * 12, 2025 * 12 + 2
    assert table.select("first_m", "second_m").rows() == [(january, january), (january, march)]
    bit = 1 << (january % 64)
    assert table["w0"].to_list() == [bit, bit | (1 << (march % 64))]
    # What an update needs of each customer's past: first, second and last completed order
    # days and their completed revenue (a missing status is completed).
    assert table.select("customer_id", "first_day", "second_day", "last_day", "revenue").rows() == [
        ("A", date(2025, 1, 3), date(2025, 1, 20), date(2025, 1, 20), 30.0),
        ("B", date(2025, 1, 5), date(2025, 3, 9), date(2025, 3, 9), 14.0),
    ]
    repeat = trend(QueryGateway(warehouse), ["repeat_purchase_rate"], Filters(), "month")
    assert repeat["value"].to_list() == [50.0, None, 100.0]


def _commit_frames(warehouse: Warehouse, **frames: pl.DataFrame) -> None:
    from analytics.contract import DATASETS

    for name, frame in frames.items():
        schema = DATASETS[name].schema
        full = frame.with_columns(
            pl.lit(None, dtype=schema[c]).alias(c) for c in schema if c not in frame.columns
        ).select([pl.col(c).cast(schema[c]) for c in schema])
        warehouse.commit(name, full, mode="replace", metadata={})


def test_eight_years_of_orders_span_three_words(tmp_path):
    """Months from 2018-06 (word 378) to 2026-11 (word 380): quarters and years that straddle
    a word boundary (2021-Q2: April in word 378, May in 379) agree with the rows."""
    rng = random.Random(42)
    customers = pl.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(60)],
            "region": [rng.choice(["EMEA", "APAC", None]) for _ in range(60)],
        }
    )
    start = date(2018, 6, 1)
    orders = pl.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(900)],
            "customer_id": [f"C{rng.randrange(70)}" for _ in range(900)],  # some unknown
            "order_date": [start + timedelta(days=rng.randrange(3100)) for _ in range(900)],
            "amount": [round(rng.uniform(1, 300), 2) for _ in range(900)],
            "status": [
                rng.choice(["completed", "completed", "returned", "cancelled", None])
                for _ in range(900)
            ],
        }
    )
    fast = Warehouse(tmp_path / "fast")
    _commit_frames(fast, customers=customers, orders=orders)
    rows = Warehouse(tmp_path / "rows")
    _commit_frames(rows, customers=customers, orders=orders)
    rollups.refresh(fast)
    rollup = rollups.current(fast, "orders")
    assert rollup is not None and (rollup.base_word, rollup.words) == (378, 3)
    keys = [k.key for k in KPIS if k.family == "orders" and k.key != "clv_historical"]
    for grain, by in (("quarter", None), ("year", "region"), ("month", None)):
        _same(
            trend(QueryGateway(fast), keys, Filters(), grain, by=by),
            trend(QueryGateway(rows), keys, Filters(), grain, by=by),
        )


def test_a_rollup_removed_by_another_process_meanwhile_falls_back_to_the_rows(tiny_warehouse):
    rollups.refresh(tiny_warehouse)
    rollup = rollups.current(tiny_warehouse, "orders")
    assert rollup is not None
    gateway = QueryGateway(tiny_warehouse)
    question = _question("orders", grain="month", start=date(2020, 1, 1))
    expected = trend(gateway, SUMMED_KEYS, Filters(), "month")
    for part in ("months", "days"):  # as a prune elsewhere would, after `current` found it
        rollup.path(part).unlink()
    assert rollups.family_stats(gateway, question) is None
    _same(trend(gateway, SUMMED_KEYS, Filters(), "month"), expected)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.integers(0, 35),
    months=st.integers(1, 40),
    end_day=st.sampled_from([None, 1, 14, 28]),
    grain=st.sampled_from(["month", "quarter", "year"]),
    regions=st.sets(st.sampled_from(["EMEA", "APAC", "Americas"]), max_size=2),
    channels=st.sets(st.sampled_from(["web", "app", "store", "email"]), max_size=3),
    by=st.sampled_from([None, "region", "plan", "acquisition_channel", "channel"]),
)
def test_any_range_and_narrowing_gives_the_rows_numbers(
    gateways, first, months, end_day, grain, regions, channels, by
):
    """Ranges starting on a month, ending on a month's last day or inside it (the rows
    then), through the data or past its end."""
    fast, rows = gateways
    start = date(2023 + first // 12, first % 12 + 1, 1)
    last = first + months
    end = date(2023 + last // 12, last % 12 + 1, 1) - timedelta(days=1)
    if end_day is not None:
        end = end.replace(day=min(end_day, end.day))
    filters = Filters(
        start=start, end=end, region=tuple(sorted(regions)), channel=tuple(sorted(channels))
    )
    _same(
        trend(fast, SUMMED_KEYS, filters, grain, by=by),
        trend(rows, SUMMED_KEYS, filters, grain, by=by),
    )


def test_rollups_of_another_layout_are_never_read_but_rebuilt(tiny_warehouse, monkeypatch):
    """After an upgrade that changes what rollups hold, the old files must not be read."""
    rollups.refresh(tiny_warehouse)
    old = rollups.current(tiny_warehouse, "orders")
    assert old is not None
    monkeypatch.setattr(rollups.layout, "LAYOUT", rollups.LAYOUT + 1)
    assert rollups.current(tiny_warehouse, "orders") is None
    question = _question("orders", grain="month", start=date(2020, 1, 1))
    assert rollups.family_stats(QueryGateway(tiny_warehouse), question) is None
    assert rollups.refresh(tiny_warehouse).keys() == {*BASE_PARTS, *RECORD_PARTS}
    new = rollups.current(tiny_warehouse, "orders")
    assert new is not None and new.key == old.key.replace(
        f"-r{rollups.LAYOUT}", f"-r{rollups.layout.LAYOUT}"
    )


def test_record_parts_come_after_the_base_and_until_then_the_rows_answer(tiny_warehouse):
    assert rollups.pending(tiny_warehouse)
    assert rollups.refresh(tiny_warehouse, records=False).keys() == set(BASE_PARTS)
    assert rollups.pending(tiny_warehouse)
    gateway = QueryGateway(tiny_warehouse)
    plain = _question("orders", grain="month", start=date(2020, 1, 1))
    by_channel = _question("orders", grain="month", start=date(2020, 1, 1), by="channel")
    assert rollups.family_stats(gateway, plain) is not None
    assert rollups.family_stats(gateway, by_channel) is None
    assert rollups.refresh(tiny_warehouse).keys() == set(RECORD_PARTS)
    assert not rollups.pending(tiny_warehouse)
    assert rollups.family_stats(gateway, by_channel) is not None


# ----- segments ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def segmented(sample_warehouse: Warehouse, tmp_path_factory) -> tuple[QueryGateway, QueryGateway]:
    """(through the rollups, from the rows) over a copy of the sample company with its
    segmentation, and the months per segment built after it."""
    from analytics import segments

    root = tmp_path_factory.mktemp("segmented") / "warehouse"
    # Without the rollups, whatever the tests before built: they are built here.
    shutil.copytree(sample_warehouse.root, root, ignore=shutil.ignore_patterns(rollups.FOLDER))
    warehouse = Warehouse(root)
    segments.refresh(warehouse)
    assert "orders by segment" in rollups.refresh(warehouse)
    assert not rollups.pending(warehouse)
    copy = root.parent / "rows"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(rollups.FOLDER))
    return QueryGateway(warehouse), QueryGateway(Warehouse(copy))


SEGMENT_CASES = {
    "by segment": (Filters(), "quarter", "segment"),
    "one segment by month": (Filters(segment=("Champions",)), "month", None),
    "two segments by region": (Filters(segment=("Champions", "At risk")), "quarter", "region"),
    "by cluster within a region": (Filters(region=("EMEA",)), "year", "cluster"),
    "a segment of one channel by channel": (
        Filters(segment=("Loyal",), channel=("web", "app")),
        "quarter",
        "channel",
    ),
    "by segment, whole months": (
        Filters(start=date(2024, 4, 1), end=date(2025, 9, 30)),
        "quarter",
        "segment",
    ),
}


@pytest.mark.parametrize(
    ("filters", "grain", "by"), SEGMENT_CASES.values(), ids=SEGMENT_CASES.keys()
)
def test_segments_through_the_rollups_equal_the_rows(segmented, filters, grain, by):
    fast, rows = segmented
    keys = [k for k in ALL_KEYS if k != "clv_historical"] if filters.channel else ALL_KEYS
    _same(trend(fast, keys, filters, grain, by=by), trend(rows, keys, filters, grain, by=by))


@pytest.mark.parametrize(
    ("family", "arguments", "answered"),
    [
        ("orders", {"by": "segment"}, True),
        ("orders", {"filters": Filters(segment=("Champions",)), "by": "channel"}, True),
        ("surveys", {"by": "cluster"}, True),
        ("tickets", {"filters": Filters(segment=("Loyal",))}, True),
        ("orders", {"by": "segment", "customer_value": True}, False),  # cumulative revenue
        ("orders", {"grain": "week", "by": "segment"}, False),  # months only
        ("orders", {"by": "segment", "end": date(2025, 6, 14)}, False),  # a cut month
        ("tickets", {"by": "segment", "medians": True}, False),  # durations per ticket
    ],
)
def test_which_segment_questions_the_rollups_answer(segmented, family, arguments, answered):
    fast, _ = segmented
    assert (rollups.family_stats(fast, _question(family, **arguments)) is not None) is answered


def test_a_new_segmentation_gets_its_own_months_and_the_old_ones_go(segmented):
    fast, _ = segmented
    warehouse = fast.warehouse
    rollup = rollups.current(warehouse, "orders")
    assert rollup is not None
    first = sorted(p.name for p in rollup.folder.glob("orders-*.months_segments_*.parquet"))
    assert len(first) == 1
    latest = fast.segments_file()
    assert latest is not None
    newer = latest.with_name(latest.name.replace("segments-", "segments-newer"))
    shutil.copy(latest, newer)
    meta = latest.with_name(latest.name.replace(".customers.parquet", ".json"))
    shutil.copy(meta, newer.with_name(newer.name.replace(".customers.parquet", ".json")))
    try:
        assert rollups.family_stats(fast, _question("orders", by="segment")) is None  # not built
        assert rollups.pending(warehouse)
        # The same customers table under another name: nobody moved, the parts are carried.
        assert "orders by segment (carried)" in rollups.refresh(warehouse)
        second = sorted(p.name for p in rollup.folder.glob("orders-*.months_segments_*.parquet"))
        assert len(second) == 1 and second != first
        assert rollups.family_stats(fast, _question("orders", by="segment")) is not None
    finally:
        newer.unlink()
        newer.with_name(newer.name.replace(".customers.parquet", ".json")).unlink()
        rollups.refresh(warehouse)
