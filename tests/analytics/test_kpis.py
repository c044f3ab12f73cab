"""The KPI engine against a small company whose every number was computed by hand.

Customers (E never orders; D has no region)::

    id  region  country  plan   acquisition_channel
    A   EMEA    GB       pro    ads
    B   EMEA    DE       basic  organic
    C   AMER    US       pro    organic
    D   -       US       basic  ads
    E   APAC    JP       basic  referral

Orders::

    id   cust  day         amount  status     category  channel
    o1   A     2024-02-10  100     completed  books     web
    o2   B     2024-03-05   50     completed  games     web
    o3   A     2024-12-15   40     completed  books     web
    o4   A     2025-01-10   60     completed  books     web
    o5   C     2025-01-20   30     returned   games     app
    o6   A     2025-02-03   20     completed  books     web
    o7   B     2025-02-14   80     (missing)  games     app    <- counts as completed
    o8   C     2025-02-20   50     completed  books     app
    o9   C     2025-02-25   10     cancelled  books     app    <- neither completed nor returned
    o10  C     2025-03-02   70     completed  games     web
    o11  D     2025-03-09  120     completed  books     store
    o12  D     2025-03-10   40     returned   books     store
    o13  D     2025-03-28   30     completed  games     store

Surveys (nps 0–10, csat 1–5, ces 1–7)::

    id   cust  responded_at      nps  csat  ces
    s0a  A     2024-02-15 10:00  10   5     1
    s0b  B     2024-02-16 10:00  10   5     2
    s1   A     2025-02-04 09:00  10   5     2
    s2   B     2025-02-15 12:00   9   4     3
    s3   C     2025-02-21 18:30   7   3     4
    s4   E     2025-02-28 23:30   3   2     6
    s5   -     2025-02-10 08:00   -   5     -
    s6   C     2025-03-03 10:00   0   1     7
    s7   D     2025-03-12 10:00   2   2     6
    s8   A     2025-03-31 22:00   6   -     5

Tickets (hours to first response / to resolution)::

    id  cust  opened            first response  resolved  csat
    t1  A     2025-02-01 08:00   2               24        5
    t2  B     2025-02-05 09:00   1               12        4
    t3  C     2025-02-10 12:00   4               -         -
    t4  E     2025-02-27 23:00   3               96        2
    t5  C     2025-03-03 00:00  10               30        4
    t6  D     2025-03-15 12:00  20               50        5
    t7  D     2025-03-20 10:00   -               -         -

Hand computation by month (z = 1.959964; t(0.975, 2) = 4.302653, t(0.975, 3) = 3.182446)::

    KPI              2025-02 (Feb)                         2025-03 (Mar)
    revenue          o6 20 + o7 80 + o8 50 = 150            o10 70 + o11 120 + o13 30 = 220
    orders           3 (o9 cancelled, not counted)          3
    aov              150/3 = 50; sd 30; n 3                 220/3 = 73.333; sd 45.0925; n 3
                     t: [−24.5241, 124.5241]                t: [−38.6826, 185.3493]
    active           {A, B, C} = 3                          {C, D} = 2
    new              C (its January order was returned) = 1 D = 1
    repeat rate      A 4, B 2, C 1 orders to date -> 2/3    C 2, D 2 -> 2/2 = 100
                     Wilson [20.7660, 93.8508]              Wilson [34.2380, 100]
    retention        active Jan {A}: 1/1 = 100              active Feb {A, B, C} ∩ {C, D}: 1/3
                     Wilson [20.6549, 100]                  Wilson [6.1492, 79.2340]
    churn            0/1 = 0, [0, 79.3451]                  2/3 = 66.667, [20.7660, 93.8508]
    return rate      0 / (3 + 0) = 0, [0, 56.1497]          1 / (3 + 1) = 25, [4.5587, 69.9358]
    clv_historical   A 220, B 130, C 50 -> 133.333; n 3     A 220, B 130, C 120, D 150 -> 155; n 4
                     sd 85.0490, t [−77.9401, 344.6068]     sd 45.0925, t [83.2478, 226.7522]
    nps              s1..s4: 2 promoters, 1 detractor of 4  3 detractors of 3 -> −100
                     -> 25; se = 100·√((.75 − .0625)/4)      se 0 -> [−100, −100]
                     = 41.4578 -> [−56.2558, 100 (106.26)]
    csat             5, 4, 5 of 5 answers -> 60, n 5        0 of 2 -> 0, [0, 65.7620]
                     Wilson [23.0724, 88.2379]
    ces              2, 3, 4, 6 -> 3.75; sd 1.7078; n 4     7, 6, 5 -> 6; sd 1; n 3
                     t [1.0325, 6.4675]                     t [3.5159, 8.4841]
    responses        5 (s5 answered CSAT only)              3
    tickets          4                                      3
    first response   1, 2, 3, 4 -> 2.5; ranks 1, 4 -> [1, 4] 10, 20 -> 15; ranks 1, 2 -> [10, 20]
    resolution       12, 24, 96 -> 24; ranks 1, 3           30, 50 -> 40; [30, 50]
    ticket csat      5, 4, 2 -> 2/3 = 66.667                5, 4 -> 100, [34.2380, 100]

January 2025 (the previous period of February): revenue 60, orders 1, aov 60 (n 1: no
interval, no test), active {A}, new 0, repeat 1/1, retention 1/1 (December {A}), return rate
1/2 = 50, clv A 200 and B 50 -> 125 (C's only order was returned), no surveys, no tickets.

Changes February -> March (two-sided 5 %):
NPS 25 -> −100: z = 125 / √(41.4578² + 0²) = 3.0151, p 0.002569: significant.
CSAT 3/5 -> 0/2: pooled 3/7, se 0.41404, z 1.4491, p 0.14730: not significant.
First response median: [1, 4] and [10, 20] do not overlap: significant.
Resolution median: [12, 96] and [30, 50] overlap: not significant.
CES: Welch t 2.1828 on 4.85 df, p 0.082513: not significant.

Same month a year earlier: February 2024 has o1 (A 100) and s0a, s0b (NPS 100, CSAT 2/2,
CES 1 and 2); March 2024 has o2 (B 50): retention Feb 2024 {A} -> Mar 2024 {B} is 0/1, clv
A 100 and B 50 -> 75.
"""

from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from analytics import rollups
from analytics.contract import DATASETS
from analytics.errors import ConfigError
from analytics.filters import Filters
from analytics.kpis import (
    HEADLINE,
    KPIS,
    SCORECARD_SCHEMA,
    TREND_SCHEMA,
    scorecard,
    trend,
)
from analytics.warehouse import QueryGateway, Warehouse

ALL_KEYS = [item.key for item in KPIS]
TOTALS = {item.key for item in KPIS if item.estimator == "total"}
FIRST_QUARTER = Filters(start=date(2025, 1, 1), end=date(2025, 3, 31))
JAN, FEB, MAR = "2025-01", "2025-02", "2025-03"
# Intervals are compared to 1e-3 on their own scale: the references use z = 1.959964, and
# rounding it to 1.96 moves a Wilson bound by less than 5e-4 percentage points.
CI_TOLERANCE = 1e-3


def _commit(warehouse: Warehouse, name: str, rows: list[dict[str, Any]]) -> None:
    schema = DATASETS[name].schema
    frame = pl.DataFrame(
        [{column: row.get(column) for column in schema} for row in rows], schema=schema
    )
    warehouse.commit(name, frame, mode="replace", metadata={})


def _order(order_id, customer_id, day, amount, status="completed", **extra):
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "order_date": day,
        "amount": float(amount),
        "status": status,
        **extra,
    }


def _survey(response_id, customer_id, at, nps=None, csat=None, ces=None):
    return {
        "response_id": response_id,
        "customer_id": customer_id,
        "responded_at": at,
        "nps": nps,
        "csat": csat,
        "ces": ces,
    }


def _ticket(ticket_id, customer_id, opened, first_response=None, resolved=None, csat=None):
    return {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "opened_at": opened,
        "first_response_at": first_response,
        "resolved_at": resolved,
        "csat": csat,
    }


def _load_company(warehouse: Warehouse) -> None:
    _commit(
        warehouse,
        "customers",
        [
            {"customer_id": "A", "region": "EMEA", "country": "GB", "plan": "pro",
             "acquisition_channel": "ads"},
            {"customer_id": "B", "region": "EMEA", "country": "DE", "plan": "basic",
             "acquisition_channel": "organic"},
            {"customer_id": "C", "region": "AMER", "country": "US", "plan": "pro",
             "acquisition_channel": "organic"},
            {"customer_id": "D", "region": None, "country": "US", "plan": "basic",
             "acquisition_channel": "ads"},
            {"customer_id": "E", "region": "APAC", "country": "JP", "plan": "basic",
             "acquisition_channel": "referral"},
        ],
    )  # fmt: skip
    _commit(
        warehouse,
        "orders",
        [
            _order("o1", "A", date(2024, 2, 10), 100, product_category="books", channel="web"),
            _order("o2", "B", date(2024, 3, 5), 50, product_category="games", channel="web"),
            _order("o3", "A", date(2024, 12, 15), 40, product_category="books", channel="web"),
            _order("o4", "A", date(2025, 1, 10), 60, product_category="books", channel="web"),
            _order("o5", "C", date(2025, 1, 20), 30, "returned", product_category="games",
                   channel="app"),
            _order("o6", "A", date(2025, 2, 3), 20, product_category="books", channel="web"),
            _order("o7", "B", date(2025, 2, 14), 80, None, product_category="games",
                   channel="app"),
            _order("o8", "C", date(2025, 2, 20), 50, product_category="books", channel="app"),
            _order("o9", "C", date(2025, 2, 25), 10, "cancelled", product_category="books",
                   channel="app"),
            _order("o10", "C", date(2025, 3, 2), 70, product_category="games", channel="web"),
            _order("o11", "D", date(2025, 3, 9), 120, product_category="books",
                   channel="store"),
            _order("o12", "D", date(2025, 3, 10), 40, "returned", product_category="books",
                   channel="store"),
            _order("o13", "D", date(2025, 3, 28), 30, product_category="games",
                   channel="store"),
        ],
    )  # fmt: skip
    _commit(
        warehouse,
        "surveys",
        [
            _survey("s0a", "A", datetime(2024, 2, 15, 10), nps=10, csat=5, ces=1),
            _survey("s0b", "B", datetime(2024, 2, 16, 10), nps=10, csat=5, ces=2),
            _survey("s1", "A", datetime(2025, 2, 4, 9), nps=10, csat=5, ces=2),
            _survey("s2", "B", datetime(2025, 2, 15, 12), nps=9, csat=4, ces=3),
            _survey("s3", "C", datetime(2025, 2, 21, 18, 30), nps=7, csat=3, ces=4),
            _survey("s4", "E", datetime(2025, 2, 28, 23, 30), nps=3, csat=2, ces=6),
            _survey("s5", None, datetime(2025, 2, 10, 8), csat=5),
            _survey("s6", "C", datetime(2025, 3, 3, 10), nps=0, csat=1, ces=7),
            _survey("s7", "D", datetime(2025, 3, 12, 10), nps=2, csat=2, ces=6),
            _survey("s8", "A", datetime(2025, 3, 31, 22), nps=6, ces=5),
        ],
    )
    _commit(
        warehouse,
        "tickets",
        [
            _ticket("t1", "A", datetime(2025, 2, 1, 8), datetime(2025, 2, 1, 10),
                    datetime(2025, 2, 2, 8), 5),
            _ticket("t2", "B", datetime(2025, 2, 5, 9), datetime(2025, 2, 5, 10),
                    datetime(2025, 2, 5, 21), 4),
            _ticket("t3", "C", datetime(2025, 2, 10, 12), datetime(2025, 2, 10, 16)),
            _ticket("t4", "E", datetime(2025, 2, 27, 23), datetime(2025, 2, 28, 2),
                    datetime(2025, 3, 3, 23), 2),
            _ticket("t5", "C", datetime(2025, 3, 3, 0), datetime(2025, 3, 3, 10),
                    datetime(2025, 3, 4, 6), 4),
            _ticket("t6", "D", datetime(2025, 3, 15, 12), datetime(2025, 3, 16, 8),
                    datetime(2025, 3, 17, 14), 5),
            _ticket("t7", "D", datetime(2025, 3, 20, 10)),
        ],
    )  # fmt: skip


# Every test runs twice: reading the rows, and through the rollups (`rollups`).
SOURCES = ["rows", "rollups"]


@pytest.fixture(scope="module", params=SOURCES)
def company(request: pytest.FixtureRequest, tmp_path_factory) -> QueryGateway:
    warehouse = Warehouse(tmp_path_factory.mktemp("company"))
    _load_company(warehouse)
    if request.param == "rollups":
        assert rollups.refresh(warehouse).keys() == {
            "orders",
            "surveys",
            "tickets",
            "orders by period",
            "surveys by period",
            "tickets by period",
            "orders by channel",
            "orders by product_category",
        }
    return QueryGateway(warehouse)


@pytest.fixture(scope="module")
def company_trend(company: QueryGateway) -> pl.DataFrame:
    # One KPI per call, so that each comes through the rollups whenever they can answer it.
    return pl.concat([trend(company, [key], FIRST_QUARTER, "month") for key in ALL_KEYS])


def _row(table: pl.DataFrame, key: str, period: str, group: str | None = None) -> dict:
    rows = table.filter(
        (pl.col("kpi") == key)
        & (pl.col("period") == period)
        & (pl.col("group").is_null() if group is None else pl.col("group") == group)
    ).rows(named=True)
    assert len(rows) == 1, f"{len(rows)} rows for {key} {period} {group}"
    return rows[0]


def _assert_estimate(row: dict, value, n, interval) -> None:
    if value is None:
        assert row["value"] is None
    else:
        assert row["value"] == pytest.approx(value, abs=1e-9, rel=1e-9)
    assert row["n"] == n
    if interval is None:
        assert (row["ci_low"], row["ci_high"]) == (None, None)
    else:
        assert row["ci_low"] == pytest.approx(interval[0], abs=CI_TOLERANCE)
        assert row["ci_high"] == pytest.approx(interval[1], abs=CI_TOLERANCE)
    if n is None:
        assert not row["small_sample"]
    else:
        assert row["small_sample"] is (n < 30)


def _simple_warehouse(root, customers, orders=(), surveys=(), tickets=()) -> QueryGateway:
    warehouse = Warehouse(root)
    _commit(warehouse, "customers", list(customers))
    _commit(warehouse, "orders", list(orders))
    _commit(warehouse, "surveys", list(surveys))
    _commit(warehouse, "tickets", list(tickets))
    return QueryGateway(warehouse)


# ----- every KPI in two periods -----------------------------------------------------------

# (kpi, period) -> (value, n, 95 % interval); see the module docstring for the arithmetic.
EXPECTED: dict[tuple[str, str], tuple[float | None, int | None, tuple | None]] = {
    ("revenue", FEB): (150.0, None, None),
    ("orders", FEB): (3.0, None, None),
    ("aov", FEB): (50.0, 3, (-24.524131, 124.524131)),
    ("active_customers", FEB): (3.0, None, None),
    ("new_customers", FEB): (1.0, None, None),
    ("repeat_purchase_rate", FEB): (200 / 3, 3, (20.765960, 93.850806)),
    ("retention_rate", FEB): (100.0, 1, (20.654931, 100.0)),
    ("churn_rate", FEB): (0.0, 1, (0.0, 79.345069)),
    ("return_rate", FEB): (0.0, 3, (0.0, 56.149704)),
    ("clv_historical", FEB): (400 / 3, 3, (-77.940109, 344.606775)),
    ("nps", FEB): (25.0, 4, (-56.255815, 100.0)),
    ("csat", FEB): (60.0, 5, (23.072428, 88.237923)),
    ("ces", FEB): (3.75, 4, (1.032469, 6.467531)),
    ("responses", FEB): (5.0, None, None),
    ("tickets", FEB): (4.0, None, None),
    ("first_response_hours", FEB): (2.5, 4, (1.0, 4.0)),
    ("resolution_hours", FEB): (24.0, 3, (12.0, 96.0)),
    ("ticket_csat", FEB): (200 / 3, 3, (20.765960, 93.850806)),
    ("revenue", MAR): (220.0, None, None),
    ("orders", MAR): (3.0, None, None),
    ("aov", MAR): (220 / 3, 3, (-38.682640, 185.349307)),
    ("active_customers", MAR): (2.0, None, None),
    ("new_customers", MAR): (1.0, None, None),
    ("repeat_purchase_rate", MAR): (100.0, 2, (34.238022, 100.0)),
    ("retention_rate", MAR): (100 / 3, 3, (6.149194, 79.234040)),
    ("churn_rate", MAR): (200 / 3, 3, (20.765960, 93.850806)),
    ("return_rate", MAR): (25.0, 4, (4.558726, 69.935816)),
    ("clv_historical", MAR): (155.0, 4, (83.247774, 226.752226)),
    ("nps", MAR): (-100.0, 3, (-100.0, -100.0)),
    ("csat", MAR): (0.0, 2, (0.0, 65.761978)),
    ("ces", MAR): (6.0, 3, (3.515862, 8.484138)),
    ("responses", MAR): (3.0, None, None),
    ("tickets", MAR): (3.0, None, None),
    ("first_response_hours", MAR): (15.0, 2, (10.0, 20.0)),
    ("resolution_hours", MAR): (40.0, 2, (30.0, 50.0)),
    ("ticket_csat", MAR): (100.0, 2, (34.238022, 100.0)),
}


def test_the_hand_computed_table_covers_every_kpi():
    for period in (FEB, MAR):
        assert {key for key, p in EXPECTED if p == period} == set(ALL_KEYS)


@pytest.mark.parametrize(("key", "period"), list(EXPECTED))
def test_every_kpi_matches_the_hand_computation(company_trend, key, period):
    value, n, interval = EXPECTED[(key, period)]
    row = _row(company_trend, key, period)
    _assert_estimate(row, value, n, interval)
    assert row["partial"] is False


@pytest.mark.parametrize(
    ("key", "value", "n", "interval"),
    [
        ("revenue", 60.0, None, None),
        ("aov", 60.0, 1, None),  # one order: no t interval
        ("new_customers", 0.0, None, None),
        ("repeat_purchase_rate", 100.0, 1, (20.654931, 100.0)),
        ("retention_rate", 100.0, 1, (20.654931, 100.0)),
        ("return_rate", 50.0, 2, (9.453120, 90.546880)),
        ("clv_historical", 125.0, 2, (-827.965355, 1077.965355)),
        ("nps", None, 0, None),
        ("responses", 0.0, None, None),
        ("tickets", 0.0, None, None),
        ("first_response_hours", None, 0, None),
    ],
)
def test_january_is_the_previous_period_of_february(company_trend, key, value, n, interval):
    _assert_estimate(_row(company_trend, key, JAN), value, n, interval)


def test_rows_are_one_per_kpi_and_period_in_registry_order(company):
    table = trend(company, ["orders", "revenue"], FIRST_QUARTER, "month")
    assert table.schema == TREND_SCHEMA
    assert table.select("kpi", "period").rows() == [
        ("orders", JAN),
        ("orders", FEB),
        ("orders", MAR),
        ("revenue", JAN),
        ("revenue", FEB),
        ("revenue", MAR),
    ]
    assert table["period_start"].to_list() == [date(2025, m, 1) for m in (1, 2, 3)] * 2
    assert table["group"].to_list() == [None] * 6


# ----- changes: previous period and same period last year ---------------------------------

# (kpi, period, previous, delta, p-value (None: not tested), significant)
CHANGES = [
    ("revenue", FEB, 60.0, 90.0, None, None),
    ("orders", FEB, 1.0, 2.0, None, None),
    ("aov", FEB, 60.0, -10.0, None, None),  # January has one order: nothing to test
    ("new_customers", FEB, 0.0, 1.0, None, None),
    ("repeat_purchase_rate", FEB, 100.0, -100 / 3, 0.504985, False),
    ("return_rate", FEB, 50.0, -50.0, 0.170904, False),
    ("clv_historical", FEB, 125.0, 25 / 3, 0.934929, False),
    ("nps", FEB, None, None, None, None),  # no responses in January
    ("csat", FEB, None, None, None, None),
    ("tickets", FEB, 0.0, 4.0, None, None),
    ("revenue", MAR, 150.0, 70.0, None, None),
    ("orders", MAR, 3.0, 0.0, None, None),
    ("aov", MAR, 50.0, 70 / 3, 0.502765, False),
    ("active_customers", MAR, 3.0, -1.0, None, None),
    ("new_customers", MAR, 1.0, 0.0, None, None),
    ("repeat_purchase_rate", MAR, 200 / 3, 100 / 3, 0.361310, False),
    ("retention_rate", MAR, 100.0, -200 / 3, 0.248213, False),
    ("churn_rate", MAR, 0.0, 200 / 3, 0.248213, False),
    ("return_rate", MAR, 0.0, 25.0, 0.349575, False),
    ("clv_historical", MAR, 400 / 3, 65 / 3, 0.716599, False),
    ("nps", MAR, 25.0, -125.0, 0.002569, True),
    ("csat", MAR, 60.0, -60.0, 0.147299, False),
    ("ces", MAR, 3.75, 2.25, 0.082513, False),
    ("responses", MAR, 5.0, -2.0, None, None),
    ("tickets", MAR, 4.0, -1.0, None, None),
    ("ticket_csat", MAR, 200 / 3, 100 / 3, 0.361310, False),
]


@pytest.mark.parametrize(("key", "period", "previous", "delta", "p_value", "significant"), CHANGES)
def test_change_against_the_previous_period(
    company_trend, key, period, previous, delta, p_value, significant
):
    row = _row(company_trend, key, period)
    assert row["previous"] == (None if previous is None else pytest.approx(previous, abs=1e-9))
    assert row["delta"] == (None if delta is None else pytest.approx(delta, abs=1e-9))
    assert row["delta_p"] == (None if p_value is None else pytest.approx(p_value, abs=1e-5))
    assert row["delta_significant"] is significant


@pytest.mark.parametrize(
    ("key", "significant"),
    [("first_response_hours", True), ("resolution_hours", False)],
)
def test_median_change_is_significant_only_when_intervals_do_not_overlap(
    company_trend, key, significant
):
    row = _row(company_trend, key, MAR)
    previous = {"first_response_hours": 2.5, "resolution_hours": 24.0}[key]
    assert row["previous"] == pytest.approx(previous)
    assert row["delta_significant"] is significant


# (kpi, period, year_ago, yoy_delta, p-value, significant)
YEAR_AGO = [
    ("revenue", FEB, 100.0, 50.0, None, None),
    ("orders", FEB, 1.0, 2.0, None, None),
    ("active_customers", FEB, 1.0, 2.0, None, None),
    ("new_customers", FEB, 1.0, 0.0, None, None),
    ("repeat_purchase_rate", FEB, 0.0, 200 / 3, 0.248213, False),
    ("nps", FEB, 100.0, -75.0, 0.070440, False),
    ("csat", FEB, 100.0, -40.0, 0.289918, False),
    ("ces", FEB, 1.5, 2.25, 0.085378, False),
    ("responses", FEB, 2.0, 3.0, None, None),
    ("tickets", FEB, 0.0, 4.0, None, None),
    ("revenue", MAR, 50.0, 170.0, None, None),
    ("new_customers", MAR, 1.0, 0.0, None, None),
    ("retention_rate", MAR, 0.0, 100 / 3, 0.504985, False),
    ("clv_historical", MAR, 75.0, 80.0, 0.107762, False),
    ("nps", MAR, None, None, None, None),
]


@pytest.mark.parametrize(("key", "period", "year_ago", "delta", "p_value", "significant"), YEAR_AGO)
def test_change_against_the_same_period_last_year(
    company_trend, key, period, year_ago, delta, p_value, significant
):
    row = _row(company_trend, key, period)
    assert row["year_ago"] == (None if year_ago is None else pytest.approx(year_ago, abs=1e-9))
    assert row["yoy_delta"] == (None if delta is None else pytest.approx(delta, abs=1e-9))
    assert row["yoy_p"] == (None if p_value is None else pytest.approx(p_value, abs=1e-5))
    assert row["yoy_significant"] is significant


# ----- other grains -----------------------------------------------------------------------


def test_quarter_and_year_totals(company):
    quarter = trend(company, ["revenue", "orders"], FIRST_QUARTER, "quarter")
    revenue = _row(quarter, "revenue", "2025-Q1")
    # 60 + 150 + 220; previous 2024-Q4 is o3 (40); a year ago 2024-Q1 is o1 + o2 (150).
    assert (revenue["value"], revenue["previous"], revenue["year_ago"]) == (430.0, 40.0, 150.0)
    assert _row(quarter, "orders", "2025-Q1")["value"] == 7.0
    year = trend(
        company, ["revenue"], Filters(start=date(2025, 1, 1), end=date(2025, 12, 31)), "year"
    )
    assert year.select("period", "value", "previous", "partial").rows() == [
        ("2025", 430.0, 190.0, False)
    ]


def test_weeks_are_iso_weeks_with_the_same_week_a_year_ago(company):
    table = trend(
        company, ["revenue"], Filters(start=date(2025, 2, 3), end=date(2025, 2, 23)), "week"
    )
    # o6 Mon 3 Feb (W06), o7 Fri 14 Feb (W07), o8 Thu 20 Feb (W08); o1 Sat 10 Feb 2024 is 2024-W06.
    assert table.select("period", "value", "previous", "year_ago").rows() == [
        ("2025-W06", 20.0, 0.0, 100.0),
        ("2025-W07", 80.0, 20.0, 0.0),
        ("2025-W08", 50.0, 80.0, 0.0),
    ]


def test_days_are_iso_dates(company):
    table = trend(
        company,
        ["revenue", "return_rate"],
        Filters(start=date(2025, 3, 9), end=date(2025, 3, 10)),
        "day",
    )
    assert _row(table, "revenue", "2025-03-09")["value"] == 120.0
    assert _row(table, "revenue", "2025-03-10")["value"] == 0.0
    _assert_estimate(_row(table, "return_rate", "2025-03-10"), 100.0, 1, (20.654931, 100.0))


def test_without_a_date_range_the_periods_span_the_data(company):
    table = trend(company, ["revenue"], Filters(), "month")
    # Orders run from 10 February 2024 (o1) to 28 March 2025 (o13): 14 months.
    assert table["period"].to_list()[0] == "2024-02"
    assert table["period"].to_list()[-1] == MAR
    assert table["value"].to_list() == [100.0, 50.0] + [0.0] * 8 + [40.0, 60.0, 150.0, 220.0]


# ----- the scorecard ----------------------------------------------------------------------


def test_scorecard_for_march(company):
    table = scorecard(company, Filters(), "month", date(2025, 3, 15))
    assert table.schema == SCORECARD_SCHEMA
    assert table["kpi"].to_list() == list(HEADLINE)
    assert set(table["period"].to_list()) == {MAR}
    rows = {row["kpi"]: row for row in table.rows(named=True)}
    none4 = [None] * 4
    # kpi -> (value, n, prev_value, delta, delta_significant, spark Aug 2024 .. Mar 2025)
    expected = {
        "revenue": (220.0, None, 150.0, 70.0, None, [0, 0, 0, 0, 40, 60, 150, 220]),
        "orders": (3.0, None, 3.0, 0.0, None, [0, 0, 0, 0, 1, 1, 3, 3]),
        "aov": (220 / 3, 3, 50.0, 70 / 3, False, [*none4, 40, 60, 50, 220 / 3]),
        "active_customers": (2.0, None, 3.0, -1.0, None, [0, 0, 0, 0, 1, 1, 3, 2]),
        "new_customers": (1.0, None, 1.0, 0.0, None, [0, 0, 0, 0, 0, 0, 1, 1]),
        "retention_rate": (100 / 3, 3, 100.0, -200 / 3, False, [*none4, None, 100, 100, 100 / 3]),
        "nps": (-100.0, 3, 25.0, -125.0, True, [*none4, None, None, 25, -100]),
        "csat": (0.0, 2, 60.0, -60.0, False, [*none4, None, None, 60, 0]),
        "tickets": (3.0, None, 4.0, -1.0, None, [0, 0, 0, 0, 0, 0, 4, 3]),
    }
    assert set(expected) == set(HEADLINE)
    for key, (value, n, previous, delta, significant, spark) in expected.items():
        row = rows[key]
        assert row["value"] == pytest.approx(value), key
        assert row["n"] == n, key
        assert row["prev_value"] == pytest.approx(previous), key
        assert row["delta"] == pytest.approx(delta), key
        assert row["delta_significant"] is significant, key
        assert row["spark"] == [None if v is None else pytest.approx(v) for v in spark], key
    assert (rows["nps"]["ci_low"], rows["nps"]["ci_high"]) == (-100.0, -100.0)
    assert rows["csat"]["ci_high"] == pytest.approx(65.761978, abs=CI_TOLERANCE)


def test_scorecard_defaults_to_the_latest_period_with_data(company):
    table = scorecard(company, Filters(), "quarter")
    assert set(table["period"].to_list()) == {"2025-Q1"}
    revenue = table.filter(pl.col("kpi") == "revenue").row(0, named=True)
    assert (revenue["value"], revenue["prev_value"]) == (430.0, 40.0)
    # 2023-Q2 .. 2025-Q1: o1 + o2 in 2024-Q1, o3 in 2024-Q4.
    assert revenue["spark"] == [0.0, 0.0, 0.0, 150.0, 0.0, 0.0, 40.0, 430.0]


def test_scorecard_narrowed_by_region(company):
    table = scorecard(company, Filters(region=("EMEA",)), "month", date(2025, 3, 1))
    rows = {row["kpi"]: row for row in table.rows(named=True)}
    assert (rows["revenue"]["value"], rows["revenue"]["prev_value"]) == (0.0, 100.0)
    assert (rows["nps"]["value"], rows["nps"]["prev_value"]) == (-100.0, 100.0)
    assert (rows["tickets"]["value"], rows["tickets"]["prev_value"]) == (0.0, 2.0)


# ----- breakdowns and filters --------------------------------------------------------------

BREAKDOWN_KEYS = [
    "revenue",
    "orders",
    "active_customers",
    "return_rate",
    "nps",
    "responses",
    "tickets",
]


def test_breakdown_by_region_puts_a_customer_without_region_under_not_set(company):
    table = trend(company, BREAKDOWN_KEYS, FIRST_QUARTER, "month", by="region")
    assert set(table["group"].to_list()) == {"AMER", "APAC", "EMEA", "(not set)"}
    not_set = {key: _row(table, key, MAR, "(not set)") for key in BREAKDOWN_KEYS}
    assert not_set["revenue"]["value"] == 150.0  # D: o11 120 + o13 30
    assert not_set["orders"]["value"] == 2.0
    assert not_set["active_customers"]["value"] == 1.0
    _assert_estimate(not_set["return_rate"], 100 / 3, 3, (6.149194, 79.234040))
    _assert_estimate(not_set["nps"], -100.0, 1, (-100.0, -100.0))
    assert not_set["tickets"]["value"] == 2.0  # t6, t7
    amer = {key: _row(table, key, MAR, "AMER") for key in BREAKDOWN_KEYS}
    assert (amer["revenue"]["value"], amer["orders"]["value"], amer["tickets"]["value"]) == (
        70.0,
        1.0,
        1.0,
    )
    emea_return = _row(table, "return_rate", MAR, "EMEA")
    assert (emea_return["value"], emea_return["n"]) == (None, 0)
    # s5 has no customer at all: it too is "(not set)".
    assert _row(table, "responses", FEB, "(not set)")["value"] == 1.0
    assert _row(table, "nps", FEB, "(not set)")["n"] == 0


@pytest.mark.parametrize("key", ["revenue", "orders", "active_customers", "responses", "tickets"])
@pytest.mark.parametrize("period", [JAN, FEB, MAR])
def test_breakdown_groups_add_up_to_the_total(company, company_trend, key, period):
    table = trend(company, [key], FIRST_QUARTER, "month", by="region")
    groups = table.filter(pl.col("period") == period)["value"].sum()
    assert groups == pytest.approx(_row(company_trend, key, period)["value"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # EMEA = A, B: orders o6 + o7, surveys s1 + s2, tickets t1 + t2.
        (
            Filters(region=("EMEA",)),
            {"revenue": 100.0, "orders": 2.0, "responses": 2.0, "nps": 100.0, "csat": 100.0,
             "tickets": 2.0, "first_response_hours": 1.5, "ticket_csat": 100.0},
        ),
        # plan pro = A, C: orders o6 + o8, surveys s1 (10) + s3 (7) -> NPS 50, tickets t1 + t3.
        (
            Filters(plan=("pro",)),
            {"revenue": 70.0, "orders": 2.0, "responses": 2.0, "nps": 50.0, "tickets": 2.0,
             "first_response_hours": 3.0},
        ),
        # acquisition channel organic = B, C.
        (
            Filters(acquisition_channel=("organic",)),
            {"revenue": 130.0, "responses": 2.0, "nps": 50.0, "tickets": 2.0},
        ),
        # channel app: o7 + o8 (o9 cancelled); no survey or ticket carries a channel.
        (
            Filters(channel=("app",)),
            {"revenue": 130.0, "orders": 2.0, "responses": 0.0, "tickets": 0.0},
        ),
    ],
)  # fmt: skip
def test_customer_attributes_narrow_surveys_and_tickets_through_the_customer(
    company, filters, expected
):
    table = trend(
        company, list(expected), filters.with_range(FIRST_QUARTER.start, FIRST_QUARTER.end)
    )
    for key, value in expected.items():
        assert _row(table, key, FEB)["value"] == pytest.approx(value), key


def test_region_filter_narrows_march_surveys_and_tickets(company):
    filters = Filters(start=date(2025, 1, 1), end=date(2025, 3, 31), region=("EMEA",))
    table = trend(company, ["responses", "nps", "tickets", "revenue"], filters, "month")
    assert _row(table, "responses", MAR)["value"] == 1.0  # s8 only
    _assert_estimate(_row(table, "nps", MAR), -100.0, 1, (-100.0, -100.0))
    assert _row(table, "tickets", MAR)["value"] == 0.0
    assert _row(table, "revenue", MAR)["value"] == 0.0


def test_product_category_narrows_orders(company):
    filters = Filters(start=date(2025, 1, 1), end=date(2025, 3, 31), product_category=("books",))
    table = trend(company, ["revenue", "orders"], filters, "month")
    assert _row(table, "revenue", FEB)["value"] == 70.0  # o6 20 + o8 50; o9 cancelled
    assert _row(table, "orders", FEB)["value"] == 2.0
    assert filters.ignored_by("surveys") == ["Product category"]
    assert filters.ignored_by("tickets") == ["Product category"]
    assert filters.ignored_by("orders") == []


# Regression (fixed): with a product_category filter, survey and ticket KPIs (and the scorecard)
# raise a DuckDB parameter-count error: scoped_rows binds f_product_category for datasets that
# lack the column
def test_product_category_does_not_narrow_surveys_or_tickets(company):
    filters = Filters(start=date(2025, 1, 1), end=date(2025, 3, 31), product_category=("books",))
    table = trend(company, ["responses", "nps", "tickets"], filters, "month")
    assert _row(table, "responses", FEB)["value"] == 5.0
    assert _row(table, "nps", FEB)["value"] == 25.0
    assert _row(table, "tickets", FEB)["value"] == 4.0


# Regression (fixed): with a product_category filter, survey and ticket KPIs (and the scorecard)
# raise a DuckDB parameter-count error: scoped_rows binds f_product_category for datasets that
# lack the column
def test_scorecard_with_a_product_category_filter(company):
    table = scorecard(company, Filters(product_category=("books",)), "month", date(2025, 2, 1))
    values = dict(table.select("kpi", "value").rows())
    assert (values["revenue"], values["nps"], values["tickets"]) == (70.0, 25.0, 4.0)


# ----- periods cut by the date range -------------------------------------------------------


def test_a_range_starting_mid_month_makes_that_month_partial(company):
    filters = Filters(start=date(2025, 2, 15), end=date(2025, 3, 31))
    keys = ["revenue", "orders", "new_customers", "responses", "tickets"]
    table = trend(company, keys, filters, "month")
    assert table.filter(pl.col("kpi") == "revenue")["period"].to_list() == [FEB, MAR]
    assert _row(table, "revenue", FEB)["partial"] is True
    assert _row(table, "revenue", MAR)["partial"] is False
    # 15–28 February: o8 only (o7 is on the 14th); s2 (15th noon), s3, s4; t4.
    assert _row(table, "revenue", FEB)["value"] == 50.0
    assert _row(table, "orders", FEB)["value"] == 1.0
    assert _row(table, "new_customers", FEB)["value"] == 1.0  # C, first completed on the 20th
    assert _row(table, "responses", FEB)["value"] == 3.0
    assert _row(table, "tickets", FEB)["value"] == 1.0
    # Compared periods are whole: January (60) and February 2024 (100, two responses).
    assert _row(table, "revenue", FEB)["previous"] == 60.0
    assert _row(table, "revenue", FEB)["year_ago"] == 100.0
    assert _row(table, "responses", FEB)["year_ago"] == 2.0
    assert _row(table, "revenue", MAR)["value"] == 220.0


def test_a_range_ending_mid_month_makes_the_last_month_partial(company):
    table = trend(company, ["revenue"], Filters(start=date(2025, 1, 1), end=date(2025, 3, 9)))
    assert table.select("period", "value", "partial").rows() == [
        (JAN, 60.0, False),
        (FEB, 150.0, False),
        (MAR, 190.0, True),  # o10 70 + o11 120 (the 9th is inside); o13 is on the 28th
    ]


# ----- edge cases ---------------------------------------------------------------------------

PER_PERIOD_RATES = [
    "aov",
    "repeat_purchase_rate",
    "return_rate",
    "nps",
    "csat",
    "ces",
    "first_response_hours",
    "resolution_hours",
    "ticket_csat",
]


@pytest.fixture(params=SOURCES)
def single_customer(request: pytest.FixtureRequest, tmp_path) -> QueryGateway:
    """X orders in January (100) and March (50), answers a survey and opens a ticket in both;
    February is empty."""
    gateway = _simple_warehouse(
        tmp_path / "single",
        [{"customer_id": "X", "region": "EMEA"}],
        [_order("x1", "X", date(2025, 1, 10), 100), _order("x2", "X", date(2025, 3, 5), 50)],
        [
            _survey("r1", "X", datetime(2025, 1, 12, 10), nps=10, csat=5, ces=2),
            _survey("r2", "X", datetime(2025, 3, 12, 10), nps=9, csat=4, ces=3),
        ],
        [
            _ticket("k1", "X", datetime(2025, 1, 15, 10), datetime(2025, 1, 15, 12),
                    datetime(2025, 1, 16, 10), 5),
            _ticket("k2", "X", datetime(2025, 3, 15, 10), datetime(2025, 3, 15, 11),
                    datetime(2025, 3, 15, 13), 3),
        ],
    )  # fmt: skip
    if request.param == "rollups":
        rollups.refresh(gateway.warehouse)
    return gateway


def test_an_empty_period_has_zero_totals_and_no_rates(single_customer):
    table = trend(single_customer, ALL_KEYS, FIRST_QUARTER, "month")
    assert table.height == len(ALL_KEYS) * 3
    for key in sorted(TOTALS):
        assert _row(table, key, FEB)["value"] == 0.0, key
    for key in PER_PERIOD_RATES:
        _assert_estimate(_row(table, key, FEB), None, 0, None)
    # Looking back still has a value: January's one active customer did not come back.
    _assert_estimate(_row(table, "retention_rate", FEB), 0.0, 1, (0.0, 79.345069))
    _assert_estimate(_row(table, "churn_rate", FEB), 100.0, 1, (20.654931, 100.0))
    _assert_estimate(_row(table, "clv_historical", FEB), 100.0, 1, None)


def test_a_single_customer(single_customer):
    table = trend(single_customer, ALL_KEYS, FIRST_QUARTER, "month")
    assert _row(table, "new_customers", JAN)["value"] == 1.0
    assert _row(table, "new_customers", MAR)["value"] == 0.0
    _assert_estimate(_row(table, "repeat_purchase_rate", JAN), 0.0, 1, (0.0, 79.345069))
    _assert_estimate(_row(table, "repeat_purchase_rate", MAR), 100.0, 1, (20.654931, 100.0))
    _assert_estimate(_row(table, "retention_rate", JAN), None, 0, None)  # December: nobody
    _assert_estimate(_row(table, "retention_rate", MAR), None, 0, None)  # February: nobody
    _assert_estimate(_row(table, "aov", MAR), 50.0, 1, None)
    _assert_estimate(_row(table, "clv_historical", MAR), 150.0, 1, None)
    _assert_estimate(_row(table, "nps", MAR), 100.0, 1, (100.0, 100.0))
    _assert_estimate(_row(table, "csat", MAR), 100.0, 1, (20.654931, 100.0))
    _assert_estimate(_row(table, "ces", MAR), 3.0, 1, None)
    _assert_estimate(_row(table, "first_response_hours", MAR), 1.0, 1, (1.0, 1.0))
    _assert_estimate(_row(table, "resolution_hours", JAN), 24.0, 1, (24.0, 24.0))
    _assert_estimate(_row(table, "ticket_csat", MAR), 0.0, 1, (0.0, 79.345069))


def test_all_detractors_score_minus_100(company_trend):
    row = _row(company_trend, "nps", MAR)
    _assert_estimate(row, -100.0, 3, (-100.0, -100.0))
    assert row["small_sample"] is True


def test_a_period_with_returns_only(tmp_path):
    gateway = _simple_warehouse(
        tmp_path / "returns",
        [{"customer_id": "R"}],
        [
            _order("r1", "R", date(2025, 4, 3), 30),
            _order("r2", "R", date(2025, 5, 6), 30, "returned"),
            _order("r3", "R", date(2025, 5, 20), 15, "returned"),
            _order("r4", "R", date(2025, 5, 21), 10, "cancelled"),
        ],
    )
    keys = ["revenue", "orders", "active_customers", "new_customers", "return_rate", "aov"]
    table = trend(gateway, keys, Filters(start=date(2025, 4, 1), end=date(2025, 5, 31)), "month")
    may = "2025-05"
    assert _row(table, "revenue", may)["value"] == 0.0
    assert _row(table, "orders", may)["value"] == 0.0
    assert _row(table, "active_customers", may)["value"] == 0.0
    assert _row(table, "new_customers", may)["value"] == 0.0
    _assert_estimate(_row(table, "return_rate", may), 100.0, 2, (34.238022, 100.0))
    _assert_estimate(_row(table, "aov", may), None, 0, None)
    _assert_estimate(_row(table, "return_rate", "2025-04"), 0.0, 1, (0.0, 79.345069))


def test_customers_without_orders_count_nowhere_in_order_kpis(company, company_trend):
    assert company.query("SELECT count(*) AS n FROM customers").item() == 5
    assert _row(company_trend, "clv_historical", MAR)["n"] == 4  # E has no order
    new = company_trend.filter(pl.col("kpi") == "new_customers")["value"].sum()
    assert new == 2.0  # C in February, D in March; never E
    table = trend(company, ["active_customers", "revenue"], FIRST_QUARTER, "month", by="region")
    for key in ("active_customers", "revenue"):
        apac = table.filter((pl.col("kpi") == key) & (pl.col("group") == "APAC"))
        assert apac["value"].to_list() in ([], [0.0, 0.0, 0.0])


def test_an_empty_warehouse_gives_empty_typed_frames(warehouse):
    gateway = QueryGateway(warehouse)
    assert trend(gateway, ALL_KEYS, Filters(), "month").schema == TREND_SCHEMA
    assert trend(gateway, ALL_KEYS, Filters(), "month").height == 0
    table = scorecard(gateway, Filters(), "month")
    assert (table.schema, table.height) == (SCORECARD_SCHEMA, 0)


def test_unknown_kpi_or_grain_is_a_config_error(company):
    with pytest.raises(ConfigError, match="There is no KPI 'profit'"):
        trend(company, ["profit"], FIRST_QUARTER)
    with pytest.raises(ConfigError, match="must be one of"):
        trend(company, ["revenue"], FIRST_QUARTER, "fortnight")


# ----- retention looks back one period, also for the comparison periods ---------------------


@pytest.fixture
def loyal_customer(tmp_path) -> QueryGateway:
    """A orders every December and January: retention is 100 % in every January."""
    days = [date(2023, 12, 10), date(2024, 1, 10), date(2024, 12, 10), date(2025, 1, 10)]
    return _simple_warehouse(
        tmp_path / "loyal",
        [{"customer_id": "A"}],
        [_order(f"o{i}", "A", day, 10) for i, day in enumerate(days)],
    )


def test_retention_of_the_reported_month(loyal_customer):
    table = trend(
        loyal_customer, ["retention_rate"], Filters(start=date(2025, 1, 1), end=date(2025, 1, 31))
    )
    _assert_estimate(_row(table, "retention_rate", JAN), 100.0, 1, (20.654931, 100.0))


# Regression (fixed): the year-ago retention/churn of the first reported period is None: the
# comparison spine starts at that year-ago period, so its own previous period (December 2023 here)
# is never counted
def test_year_ago_retention_of_the_first_reported_month(loyal_customer):
    table = trend(
        loyal_customer,
        ["retention_rate", "churn_rate"],
        Filters(start=date(2025, 1, 1), end=date(2025, 1, 31)),
    )
    # January 2024: active {A}, December 2023: active {A} -> 1/1.
    assert _row(table, "retention_rate", JAN)["year_ago"] == 100.0
    assert _row(table, "churn_rate", JAN)["year_ago"] == 0.0


# Regression (fixed): with the year grain, the previous-period retention of the first reported
# year is None: the spine starts at the previous year, whose own previous year is never counted
def test_previous_year_retention_of_the_first_reported_year(loyal_customer):
    table = trend(
        loyal_customer,
        ["retention_rate"],
        Filters(start=date(2025, 1, 1), end=date(2025, 12, 31)),
        "year",
    )
    row = _row(table, "retention_rate", "2025")
    assert row["value"] == 100.0  # 2025 ∩ 2024 = {A}
    assert row["previous"] == 100.0  # 2024 ∩ 2023 = {A}


@pytest.mark.parametrize("family", ["orders", "surveys", "tickets"])
def test_through_the_rollups_the_first_quarter_comes_from_them(company, family):
    """Guards the rollups run of these tests: it must not quietly read the rows."""
    built = rollups.current(company.warehouse, family) is not None
    first = date(2025, 1, 1)
    question = rollups.Question(
        family, FIRST_QUARTER, "month", first, first, date(2025, 3, 31), date(2023, 12, 1), None
    )
    assert (rollups.family_stats(company, question) is not None) is built
