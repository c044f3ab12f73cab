"""Properties of the KPI engine over small random companies (Hypothesis).

Each example builds its own warehouse in a temporary folder: function-scoped fixtures are not
reset between Hypothesis examples.
"""

import tempfile
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.contract import DATASETS
from analytics.filters import Filters
from analytics.kpis import trend
from analytics.warehouse import QueryGateway, Warehouse

CUSTOMERS = ["C0", "C1", "C2", "C3", "C4"]
FIRST_DAY = date(2025, 1, 1)
HALF_YEAR = Filters(start=date(2025, 1, 1), end=date(2025, 6, 30))
DAYS = 181  # 1 January to 30 June 2025

customer_index = st.integers(0, len(CUSTOMERS) - 1)
channel = st.sampled_from(["web", "app", None])

companies = st.fixed_dictionaries(
    {
        "regions": st.lists(
            st.sampled_from(["EMEA", "AMER", None]), min_size=len(CUSTOMERS), max_size=5
        ),
        # Orders from the previous October on, so comparisons and history have data too.
        "orders": st.lists(
            st.tuples(
                customer_index,
                st.integers(-92, DAYS - 1),
                st.integers(1, 50_000),  # cents
                st.sampled_from(["completed", "returned", "cancelled", None]),
                st.sampled_from(["books", "games"]),
                channel,
            ),
            max_size=20,
        ),
        "surveys": st.lists(
            st.tuples(
                st.one_of(st.none(), customer_index),
                st.integers(0, DAYS * 24 - 1),
                st.one_of(st.none(), st.integers(0, 10)),
                st.one_of(st.none(), st.integers(1, 5)),
                channel,
            ),
            max_size=15,
        ),
        "tickets": st.lists(
            st.tuples(
                customer_index,
                st.integers(0, DAYS * 24 - 1),
                st.one_of(st.none(), st.integers(0, 72)),
                st.one_of(st.none(), st.integers(1, 5)),
                channel,
            ),
            max_size=15,
        ),
    }
)


def _commit(warehouse: Warehouse, name: str, rows: list[dict]) -> None:
    schema = DATASETS[name].schema
    frame = pl.DataFrame(
        [{column: row.get(column) for column in schema} for row in rows], schema=schema
    )
    warehouse.commit(name, frame, mode="replace", metadata={})


def _build(root: str, company: dict) -> QueryGateway:
    warehouse = Warehouse(root)
    start = datetime.combine(FIRST_DAY, datetime.min.time())
    _commit(
        warehouse,
        "customers",
        [
            {"customer_id": c, "region": r}
            for c, r in zip(CUSTOMERS, company["regions"], strict=True)
        ],
    )
    _commit(
        warehouse,
        "orders",
        [
            {"order_id": f"o{i}", "customer_id": CUSTOMERS[c], "amount": cents / 100,
             "order_date": FIRST_DAY + timedelta(days=day), "status": status,
             "product_category": category, "channel": ch}
            for i, (c, day, cents, status, category, ch) in enumerate(company["orders"])
        ],
    )  # fmt: skip
    _commit(
        warehouse,
        "surveys",
        [
            {"response_id": f"s{i}", "customer_id": None if c is None else CUSTOMERS[c],
             "responded_at": start + timedelta(hours=hour), "nps": nps, "csat": csat,
             "channel": ch}
            for i, (c, hour, nps, csat, ch) in enumerate(company["surveys"])
        ],
    )  # fmt: skip
    _commit(
        warehouse,
        "tickets",
        [
            {"ticket_id": f"t{i}", "customer_id": CUSTOMERS[c],
             "opened_at": start + timedelta(hours=hour),
             "first_response_at": None if frt is None else start + timedelta(hours=hour + frt),
             "csat": csat, "channel": ch}
            for i, (c, hour, frt, csat, ch) in enumerate(company["tickets"])
        ],
    )  # fmt: skip
    return QueryGateway(warehouse)


@settings(max_examples=25, deadline=None)
@given(company=companies, grain=st.sampled_from(["week", "month", "quarter"]))
def test_nps_and_its_interval_stay_within_minus_100_and_100(company, grain):
    with tempfile.TemporaryDirectory() as root:
        table = trend(_build(root, company), ["nps"], HALF_YEAR, grain, by="region")
    for row in table.iter_rows(named=True):
        if row["value"] is None:
            assert (row["ci_low"], row["ci_high"], row["n"]) == (None, None, 0)
            continue
        assert -100.0 <= row["ci_low"] <= row["value"] <= row["ci_high"] <= 100.0
        assert row["small_sample"] is (row["n"] < 30)


COUNTS = ["orders", "active_customers", "responses", "tickets"]
# (filters, the same filters made stricter)
STRICTER = [
    (Filters(), Filters(region=("EMEA",))),
    (Filters(), Filters(channel=("web",))),
    (Filters(region=("EMEA", "AMER")), Filters(region=("EMEA",))),
    (Filters(channel=("web",)), Filters(channel=("web",), region=("AMER",))),
    (Filters(region=("AMER",)), Filters(region=("AMER",), channel=("app",))),
]


def _values(table: pl.DataFrame) -> dict[tuple[str, str], float]:
    return {(row["kpi"], row["period"]): row["value"] for row in table.iter_rows(named=True)}


@settings(max_examples=25, deadline=None)
@given(company=companies, pair=st.sampled_from(STRICTER))
def test_a_stricter_filter_never_increases_counts(company, pair):
    loose, strict = (f.with_range(HALF_YEAR.start, HALF_YEAR.end) for f in pair)
    with tempfile.TemporaryDirectory() as root:
        gateway = _build(root, company)
        before = _values(trend(gateway, COUNTS, loose, "month"))
        after = _values(trend(gateway, COUNTS, strict, "month"))
    assert before.keys() == after.keys()
    for key, value in after.items():
        assert value <= before[key], key


@settings(max_examples=25, deadline=None)
@given(company=companies)
def test_product_category_never_increases_order_counts(company):
    with tempfile.TemporaryDirectory() as root:
        gateway = _build(root, company)
        before = _values(trend(gateway, ["orders", "active_customers"], HALF_YEAR, "month"))
        books = HALF_YEAR.narrowed("product_category", "books")
        after = _values(trend(gateway, ["orders", "active_customers"], books, "month"))
    for key, value in after.items():
        assert value <= before[key], key


@settings(max_examples=25, deadline=None)
@given(company=companies)
def test_revenue_is_additive_over_disjoint_periods(company):
    with tempfile.TemporaryDirectory() as root:
        gateway = _build(root, company)
        months = trend(gateway, ["revenue", "orders"], HALF_YEAR, "month")
        quarters = trend(gateway, ["revenue", "orders"], HALF_YEAR, "quarter")
        year = trend(gateway, ["revenue"], HALF_YEAR, "year")  # 2025 cut to its first half
    for key in ("revenue", "orders"):
        by_month = _values(months.filter(pl.col("kpi") == key))
        by_quarter = _values(quarters.filter(pl.col("kpi") == key))
        for quarter, labels in (("2025-Q1", ("01", "02", "03")), ("2025-Q2", ("04", "05", "06"))):
            total = sum(by_month[(key, f"2025-{m}")] for m in labels)
            assert by_quarter[(key, quarter)] == pytest.approx(total, abs=1e-6)
    revenue_by_quarter = _values(quarters.filter(pl.col("kpi") == "revenue"))
    assert _values(year)[("revenue", "2025")] == pytest.approx(
        revenue_by_quarter[("revenue", "2025-Q1")] + revenue_by_quarter[("revenue", "2025-Q2")],
        abs=1e-6,
    )
    assert year["partial"].to_list() == [True]
