"""Cohort retention against a small shop whose every cell was computed by hand.

Customers (H never orders; F only returns; E has no name and no region)::

    id  name  region
    A   Ann   EU
    B   Ben   EU
    C   Cy    US
    D   Di    EU
    E   -     -
    F   Fay   US
    G   Gus   US
    H   Hal   EU

Orders::

    id   cust  day         amount  status     channel
    o1   G     2024-12-15    30    completed  store
    o2   A     2025-01-05   150    completed  web
    o3   B     2025-01-20    50    (missing)  store   <- counts as completed
    o4   C     2025-01-25    80    cancelled  web     <- C is not in the January cohort
    o5   C     2025-02-03    40    completed  web
    o6   A     2025-02-10    30    returned   web     <- A is not active in February
    o7   D     2025-02-14    60    completed  store
    o8   B     2025-02-28    20    completed  web
    o9   A     2025-03-02    70    completed  store   <- A is back after a gap
    o10  G     2025-03-05    12    completed  web     <- G is back after two quiet months
    o11  E     2025-03-09    90    completed  web
    o12  C     2025-03-15    10    completed  web
    o13  A     2025-03-20     5    completed  web
    o14  D     2025-04-01    30    completed  web
    o15  F     2025-04-11    40    returned   web     <- the data ends in April

Monthly cohorts (cells: active customers / completed revenue; the data ends in 2025-04)::

    cohort   members  size  k=0      k=1     k=2     k=3     k=4
    2024-12  G        1     1 / 30   0 / 0   0 / 0   1 / 12  0 / 0
    2025-01  A B      2     2 / 200  1 / 20  1 / 75  0 / 0
    2025-02  C D      2     2 / 100  1 / 10  1 / 30
    2025-03  E        1     1 / 90   0 / 0

Customer retention (100 × active / size) and revenue retention (100 × revenue / k=0 revenue)::

    cohort   customers               revenue
    2024-12  100, 0, 0, 100, 0       100, 0, 0, 40, 0
    2025-01  100, 50, 50, 0          100, 10, 37.5, 0
    2025-02  100, 50, 50             100, 10, 30
    2025-03  100, 0                  100, 0

By region: EU {A, B} in 2025-01 (as above) and {D} in 2025-02 (1/60, 0/0, 1/30); US {G} in
2024-12 (as above) and {C} in 2025-02 (1/40, 1/10, 0/0); (not set) {E} in 2025-03 (as above).

Web orders only: A's first is o2 (2025-01: 1/150, 0/0, 1/5, 0/0), B's o8 and C's o5 make
2025-02 (2/60, 1/10, 0/0), E's o11 and G's o10 make 2025-03 (2/102, 0/0), D's o14 makes
2025-04 (1/30).

Quarterly: 2024-Q4 {G} 1/30, 1/12, 0/0; 2025-Q1 {A, B, C, D, E} 5/495 (A 225, E 90, B 70,
D 60, C 50), 1/30 -> customers 100, 20 and revenue 100, 6.0606.
"""

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from analytics import rollups
from analytics.bootstrap import ensure_sample_loaded
from analytics.cohorts import (
    COHORT_CUSTOMERS_SCHEMA,
    COHORT_SCHEMA,
    cohort_customers,
    cohort_table,
)
from analytics.contract import DATASETS
from analytics.errors import ConfigError
from analytics.filters import Filters
from analytics.warehouse import QueryGateway, Warehouse

ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = Filters()


def _commit(warehouse: Warehouse, name: str, rows: list[dict[str, Any]]) -> None:
    schema = DATASETS[name].schema
    frame = pl.DataFrame(
        [{column: row.get(column) for column in schema} for row in rows], schema=schema
    )
    warehouse.commit(name, frame, mode="replace", metadata={})


def _customer(customer_id, name, region):
    return {"customer_id": customer_id, "name": name, "region": region}


def _order(order_id, customer_id, day, amount, status, channel):
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "order_date": day,
        "amount": float(amount),
        "status": status,
        "channel": channel,
    }


@pytest.fixture(scope="module", params=["rows", "rollups"])
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> QueryGateway:
    """The shop, read from its rows, and through its rollups (every test runs on both)."""
    warehouse = Warehouse(tmp_path_factory.mktemp("shop"))
    _commit(
        warehouse,
        "customers",
        [
            _customer("A", "Ann", "EU"),
            _customer("B", "Ben", "EU"),
            _customer("C", "Cy", "US"),
            _customer("D", "Di", "EU"),
            _customer("E", None, None),
            _customer("F", "Fay", "US"),
            _customer("G", "Gus", "US"),
            _customer("H", "Hal", "EU"),
        ],
    )
    _commit(
        warehouse,
        "orders",
        [
            _order("o1", "G", date(2024, 12, 15), 30, "completed", "store"),
            _order("o2", "A", date(2025, 1, 5), 150, "completed", "web"),
            _order("o3", "B", date(2025, 1, 20), 50, None, "store"),
            _order("o4", "C", date(2025, 1, 25), 80, "cancelled", "web"),
            _order("o5", "C", date(2025, 2, 3), 40, "completed", "web"),
            _order("o6", "A", date(2025, 2, 10), 30, "returned", "web"),
            _order("o7", "D", date(2025, 2, 14), 60, "completed", "store"),
            _order("o8", "B", date(2025, 2, 28), 20, "completed", "web"),
            _order("o9", "A", date(2025, 3, 2), 70, "completed", "store"),
            _order("o10", "G", date(2025, 3, 5), 12, "completed", "web"),
            _order("o11", "E", date(2025, 3, 9), 90, "completed", "web"),
            _order("o12", "C", date(2025, 3, 15), 10, "completed", "web"),
            _order("o13", "A", date(2025, 3, 20), 5, "completed", "web"),
            _order("o14", "D", date(2025, 4, 1), 30, "completed", "web"),
            _order("o15", "F", date(2025, 4, 11), 40, "returned", "web"),
        ],
    )
    if request.param == "rollups":
        assert "orders by period" in rollups.refresh(warehouse)
    return QueryGateway(warehouse)


def _cells(table: pl.DataFrame) -> list[tuple]:
    """(group, cohort, size, k, period, customers, revenue) per row, in the table's order."""
    return table.select(
        "group", "cohort", "size", "period_index", "period", "customers", "revenue"
    ).rows()


def _values(table: pl.DataFrame) -> dict[str, list[float | None]]:
    """cohort -> values by k (one group only)."""
    assert table["group"].n_unique() == 1
    return {
        cohort: part.sort("period_index")["value"].to_list()
        for (cohort,), part in table.group_by("cohort", maintain_order=True)
    }


# ----- the monthly matrix -------------------------------------------------------------------

MONTHLY = [
    (None, "2024-12", 1, 0, "2024-12", 1, 30.0),
    (None, "2024-12", 1, 1, "2025-01", 0, 0.0),
    (None, "2024-12", 1, 2, "2025-02", 0, 0.0),
    (None, "2024-12", 1, 3, "2025-03", 1, 12.0),
    (None, "2024-12", 1, 4, "2025-04", 0, 0.0),
    (None, "2025-01", 2, 0, "2025-01", 2, 200.0),
    (None, "2025-01", 2, 1, "2025-02", 1, 20.0),
    (None, "2025-01", 2, 2, "2025-03", 1, 75.0),
    (None, "2025-01", 2, 3, "2025-04", 0, 0.0),
    (None, "2025-02", 2, 0, "2025-02", 2, 100.0),
    (None, "2025-02", 2, 1, "2025-03", 1, 10.0),
    (None, "2025-02", 2, 2, "2025-04", 1, 30.0),
    (None, "2025-03", 1, 0, "2025-03", 1, 90.0),
    (None, "2025-03", 1, 1, "2025-04", 0, 0.0),
]


def test_monthly_cohorts_cells(shop):
    table = cohort_table(shop, EVERYTHING, "month")
    assert table.schema == COHORT_SCHEMA
    assert _cells(table) == MONTHLY
    assert table["cohort_start"].unique().sort().to_list() == [
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 3, 1),
    ]


def test_monthly_customer_retention(shop):
    assert _values(cohort_table(shop, EVERYTHING, "month", "customers")) == {
        "2024-12": [100.0, 0.0, 0.0, 100.0, 0.0],
        "2025-01": [100.0, 50.0, 50.0, 0.0],
        "2025-02": [100.0, 50.0, 50.0],
        "2025-03": [100.0, 0.0],
    }


def test_monthly_revenue_retention(shop):
    table = cohort_table(shop, EVERYTHING, "month", "revenue")
    assert _cells(table) == MONTHLY  # the measure changes the value only
    assert _values(table) == {
        "2024-12": [100.0, 0.0, 0.0, 40.0, 0.0],
        "2025-01": [100.0, 10.0, 37.5, 0.0],
        "2025-02": [100.0, 10.0, 30.0],
        "2025-03": [100.0, 0.0],
    }


def test_revenue_retention_of_a_cohort_without_first_period_revenue_has_no_value(tmp_path):
    warehouse = Warehouse(tmp_path)
    _commit(warehouse, "customers", [_customer("Z", "Zoe", "EU")])
    _commit(
        warehouse,
        "orders",
        [
            _order("z1", "Z", date(2025, 1, 3), 0, "completed", "web"),
            _order("z2", "Z", date(2025, 2, 3), 25, "completed", "web"),
        ],
    )
    table = cohort_table(QueryGateway(warehouse), EVERYTHING, "month", "revenue")
    assert table.select("period", "revenue", "value").rows() == [
        ("2025-01", 0.0, None),
        ("2025-02", 25.0, None),
    ]


# ----- comparing groups side by side ----------------------------------------------------------


def test_cohorts_by_region(shop):
    table = cohort_table(shop, EVERYTHING, "month", "customers", by="region")
    assert _cells(table) == [
        ("(not set)", "2025-03", 1, 0, "2025-03", 1, 90.0),
        ("(not set)", "2025-03", 1, 1, "2025-04", 0, 0.0),
        ("EU", "2025-01", 2, 0, "2025-01", 2, 200.0),
        ("EU", "2025-01", 2, 1, "2025-02", 1, 20.0),
        ("EU", "2025-01", 2, 2, "2025-03", 1, 75.0),
        ("EU", "2025-01", 2, 3, "2025-04", 0, 0.0),
        ("EU", "2025-02", 1, 0, "2025-02", 1, 60.0),
        ("EU", "2025-02", 1, 1, "2025-03", 0, 0.0),
        ("EU", "2025-02", 1, 2, "2025-04", 1, 30.0),
        ("US", "2024-12", 1, 0, "2024-12", 1, 30.0),
        ("US", "2024-12", 1, 1, "2025-01", 0, 0.0),
        ("US", "2024-12", 1, 2, "2025-02", 0, 0.0),
        ("US", "2024-12", 1, 3, "2025-03", 1, 12.0),
        ("US", "2024-12", 1, 4, "2025-04", 0, 0.0),
        ("US", "2025-02", 1, 0, "2025-02", 1, 40.0),
        ("US", "2025-02", 1, 1, "2025-03", 1, 10.0),
        ("US", "2025-02", 1, 2, "2025-04", 0, 0.0),
    ]
    revenue = cohort_table(shop, EVERYTHING, "month", "revenue", by="region")
    eu = _values(revenue.filter(pl.col("group") == "EU"))
    assert eu == {"2025-01": [100.0, 10.0, 37.5, 0.0], "2025-02": [100.0, 0.0, 50.0]}


def test_one_region_filtered_is_that_regions_column_of_the_comparison(shop):
    compared = cohort_table(shop, EVERYTHING, "month", by="region")
    us_only = cohort_table(shop, Filters(region=("US",)), "month")
    expected = compared.filter(pl.col("group") == "US").with_columns(
        pl.lit(None, pl.String).alias("group")
    )
    assert us_only.equals(expected)


def test_cohorts_by_sales_channel_use_each_channels_orders(shop):
    table = cohort_table(shop, EVERYTHING, "month", by="channel")
    sizes = table.filter(pl.col("period_index") == 0).select("group", "cohort", "size").rows()
    # A and B are in a store cohort and a web cohort each; G's first web order is o10.
    assert sizes == [
        ("store", "2024-12", 1),
        ("store", "2025-01", 1),
        ("store", "2025-02", 1),
        ("store", "2025-03", 1),
        ("web", "2025-01", 1),
        ("web", "2025-02", 2),
        ("web", "2025-03", 2),
        ("web", "2025-04", 1),
    ]
    web = cohort_table(shop, Filters(channel=("web",)), "month")
    assert table.filter(pl.col("group") == "web").drop("group").equals(web.drop("group"))


# ----- filters ----------------------------------------------------------------------------


def test_a_channel_filter_redefines_the_cohorts(shop):
    table = cohort_table(shop, Filters(channel=("web",)), "month", "revenue")
    assert _cells(table) == [
        (None, "2025-01", 1, 0, "2025-01", 1, 150.0),
        (None, "2025-01", 1, 1, "2025-02", 0, 0.0),  # o6 was returned
        (None, "2025-01", 1, 2, "2025-03", 1, 5.0),
        (None, "2025-01", 1, 3, "2025-04", 0, 0.0),
        (None, "2025-02", 2, 0, "2025-02", 2, 60.0),
        (None, "2025-02", 2, 1, "2025-03", 1, 10.0),
        (None, "2025-02", 2, 2, "2025-04", 0, 0.0),
        (None, "2025-03", 2, 0, "2025-03", 2, 102.0),
        (None, "2025-03", 2, 1, "2025-04", 0, 0.0),
        (None, "2025-04", 1, 0, "2025-04", 1, 30.0),
    ]
    assert _values(table)["2025-01"] == [100.0, 0.0, pytest.approx(100 * 5 / 150), 0.0]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            date(2025, 2, 1),
            date(2025, 3, 31),
            # G, A and B ordered first before the range; April is after it.
            [("2025-02", 2, 0, 2, 100.0), ("2025-02", 2, 1, 1, 10.0), ("2025-03", 1, 0, 1, 90.0)],
            id="range-picks-cohorts-and-periods",
        ),
        pytest.param(
            None,
            date(2025, 3, 10),
            # The range ends inside March: o12 (C, 15 March) and o13 (A, 20 March) are out.
            [
                ("2024-12", 1, 0, 1, 30.0),
                ("2024-12", 1, 1, 0, 0.0),
                ("2024-12", 1, 2, 0, 0.0),
                ("2024-12", 1, 3, 1, 12.0),
                ("2025-01", 2, 0, 2, 200.0),
                ("2025-01", 2, 1, 1, 20.0),
                ("2025-01", 2, 2, 1, 70.0),
                ("2025-02", 2, 0, 2, 100.0),
                ("2025-02", 2, 1, 0, 0.0),
                ("2025-03", 1, 0, 1, 90.0),
            ],
            id="end-inside-a-period",
        ),
        pytest.param(
            date(2025, 2, 10),
            None,
            # C's first order (3 February) is before the range: only D is in 2025-02.
            [
                ("2025-02", 1, 0, 1, 60.0),
                ("2025-02", 1, 1, 0, 0.0),
                ("2025-02", 1, 2, 1, 30.0),
                ("2025-03", 1, 0, 1, 90.0),
                ("2025-03", 1, 1, 0, 0.0),
            ],
            id="start-inside-a-period",
        ),
        pytest.param(
            date(2025, 3, 1),
            date(2025, 12, 31),
            # The data ends in April: no cells for May to December.
            [("2025-03", 1, 0, 1, 90.0), ("2025-03", 1, 1, 0, 0.0)],
            id="range-past-the-data",
        ),
        pytest.param(date(2026, 1, 1), date(2026, 3, 31), [], id="range-without-data"),
    ],
)
def test_date_range(shop, start, end, expected):
    table = cohort_table(shop, Filters(start=start, end=end), "month")
    assert table.schema == COHORT_SCHEMA
    got = table.select("cohort", "size", "period_index", "customers", "revenue").rows()
    assert got == expected


# ----- quarters ---------------------------------------------------------------------------


def test_quarterly_cohorts(shop):
    table = cohort_table(shop, EVERYTHING, "quarter", "revenue")
    assert _cells(table) == [
        (None, "2024-Q4", 1, 0, "2024-Q4", 1, 30.0),
        (None, "2024-Q4", 1, 1, "2025-Q1", 1, 12.0),
        (None, "2024-Q4", 1, 2, "2025-Q2", 0, 0.0),
        (None, "2025-Q1", 5, 0, "2025-Q1", 5, 495.0),
        (None, "2025-Q1", 5, 1, "2025-Q2", 1, 30.0),
    ]
    assert table["cohort_start"].to_list()[::3] == [date(2024, 10, 1), date(2025, 1, 1)]
    assert _values(table) == {
        "2024-Q4": [100.0, 40.0, 0.0],
        "2025-Q1": [100.0, pytest.approx(100 * 30 / 495)],
    }
    customers = cohort_table(shop, EVERYTHING, "quarter", "customers")
    assert _values(customers) == {"2024-Q4": [100.0, 100.0, 0.0], "2025-Q1": [100.0, 20.0]}


# ----- drilling into a cell ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("grain", "cohort_start", "k", "expected"),
    [
        pytest.param(
            "month",
            date(2025, 1, 1),
            0,
            [("A", "Ann", date(2025, 1, 5), 1, 150.0), ("B", "Ben", date(2025, 1, 20), 1, 50.0)],
            id="k0-is-the-whole-cohort",
        ),
        pytest.param(
            "month",
            date(2025, 1, 1),
            2,
            [("A", "Ann", date(2025, 1, 5), 2, 75.0)],
            id="k2-after-a-gap",
        ),
        pytest.param(
            "month",
            date(2025, 2, 1),
            2,
            [("D", "Di", date(2025, 2, 14), 1, 30.0)],
            id="k2",
        ),
        pytest.param(
            "month",
            date(2025, 3, 15),
            0,
            [("E", None, date(2025, 3, 9), 1, 90.0)],
            id="any-day-of-the-cohort-and-no-name",
        ),
        pytest.param("month", date(2025, 1, 1), 3, [], id="nobody-active"),
        pytest.param("month", date(2025, 3, 1), 5, [], id="after-the-data"),
        pytest.param(
            "quarter",
            date(2025, 1, 1),
            0,
            [
                ("A", "Ann", date(2025, 1, 5), 3, 225.0),
                ("E", None, date(2025, 3, 9), 1, 90.0),
                ("B", "Ben", date(2025, 1, 20), 2, 70.0),
                ("D", "Di", date(2025, 2, 14), 1, 60.0),
                ("C", "Cy", date(2025, 2, 3), 2, 50.0),
            ],
            id="quarter-sorted-by-revenue",
        ),
    ],
)
def test_cohort_customers(shop, grain, cohort_start, k, expected):
    customers = cohort_customers(shop, EVERYTHING, grain, cohort_start, k)
    assert customers.schema == COHORT_CUSTOMERS_SCHEMA
    assert customers.drop("segment").rows() == expected
    assert customers["segment"].null_count() == customers.height  # nothing segmented yet


def test_cohort_customers_in_a_group_and_under_filters(shop):
    us = cohort_customers(shop, EVERYTHING, "month", date(2025, 2, 1), 1, by="region", group="US")
    assert us.drop("segment").rows() == [("C", "Cy", date(2025, 2, 3), 1, 10.0)]
    web = Filters(channel=("web",))
    assert cohort_customers(shop, web, "month", date(2025, 1, 1), 1).is_empty()
    assert cohort_customers(shop, web, "month", date(2025, 3, 1), 0).drop("segment").rows() == [
        ("E", None, date(2025, 3, 9), 1, 90.0),
        ("G", "Gus", date(2025, 3, 5), 1, 12.0),
    ]
    numpy_index = cohort_customers(shop, EVERYTHING, "month", date(2025, 2, 1), np.int64(2))
    assert numpy_index["customer_id"].to_list() == ["D"]
    late = Filters(start=date(2025, 2, 10))
    assert cohort_customers(shop, late, "month", date(2025, 2, 1), 0)["customer_id"].to_list() == [
        "D"
    ]


@pytest.mark.parametrize(
    ("grain", "by", "filters"),
    [
        ("month", None, EVERYTHING),
        ("quarter", "region", EVERYTHING),
        ("month", "channel", Filters(start=date(2025, 1, 10), end=date(2025, 3, 10))),
        ("month", None, Filters(region=("EU", "US"), channel=("web",))),
    ],
)
def test_every_cell_drills_to_its_customers(shop, grain, by, filters):
    table = cohort_table(shop, filters, grain, by=by)
    assert table.height > 3
    for cell in table.iter_rows(named=True):
        customers = cohort_customers(
            shop, filters, grain, cell["cohort_start"], cell["period_index"], by=by,
            group=cell["group"],
        )  # fmt: skip
        assert customers.height == cell["customers"]
        assert customers["revenue"].sum() == pytest.approx(cell["revenue"])


# ----- no data and bad input --------------------------------------------------------------


@pytest.mark.parametrize("by", [None, "region", "channel"])
def test_empty_warehouse(warehouse, by):
    gateway = QueryGateway(warehouse)
    table = cohort_table(gateway, EVERYTHING, "month", by=by)
    assert table.schema == COHORT_SCHEMA
    assert table.is_empty()
    group = None if by is None else "EU"
    customers = cohort_customers(
        gateway, EVERYTHING, "month", date(2025, 1, 1), 0, by=by, group=group
    )
    assert customers.schema == COHORT_CUSTOMERS_SCHEMA
    assert customers.is_empty()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"grain": "week"},
            "The 'grain' must be one of month, quarter. Got 'week' instead.",
        ),
        (
            {"measure": "x"},
            "The 'measure' must be one of customers, revenue. Got 'x' instead.",
        ),
        (
            {"by": "colour"},
            "Cannot break down or filter by 'colour'. Use one of: region, country, plan, "
            "acquisition_channel, channel, product_category, segment, cluster.",
        ),
    ],
)
def test_cohort_table_rejects_bad_parameters(shop, kwargs, message):
    with pytest.raises(ConfigError) as caught:
        cohort_table(shop, EVERYTHING, **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("year", 0), {}, "The 'grain' must be one of month, quarter. Got 'year' instead."),
        (("month", -1), {}, "The 'period_index' must be an int >= 0. Got -1 instead."),
        (("month", 1.5), {}, "The 'period_index' must be an int >= 0. Got 1.5 instead."),
        (("month", True), {}, "The 'period_index' must be an int >= 0. Got True instead."),
        (
            ("month", 0),
            {"by": "region"},
            "A cell of cohorts broken down by region needs its 'group'. Got None instead.",
        ),
        (
            ("month", 0),
            {"group": "EU"},
            "The 'group' 'EU' needs 'by', the dimension it is a value of. Got None instead.",
        ),
        (
            ("month", 0),
            {"by": "colour", "group": "red"},
            "Cannot break down or filter by 'colour'. Use one of: region, country, plan, "
            "acquisition_channel, channel, product_category, segment, cluster.",
        ),
    ],
)
def test_cohort_customers_rejects_bad_parameters(shop, args, kwargs, message):
    grain, k = args
    with pytest.raises(ConfigError) as caught:
        cohort_customers(shop, EVERYTHING, grain, date(2025, 1, 1), k, **kwargs)
    assert str(caught.value) == message


# ----- the sample company -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> QueryGateway:
    warehouse = Warehouse(tmp_path_factory.mktemp("sample"))
    ensure_sample_loaded(warehouse, ROOT / "data" / "sample", user="t", progress=lambda s, f: None)
    return QueryGateway(warehouse)


def _buyers(gateway: QueryGateway) -> int:
    orders = gateway.warehouse.read("orders", columns=["customer_id", "status"])
    done = orders.filter(~pl.col("status").fill_null("completed").is_in(["returned", "cancelled"]))
    return done["customer_id"].n_unique()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("grain", "measure", "by"),
    [("month", "customers", None), ("quarter", "revenue", "acquisition_channel")],
)
def test_sample_company_cohorts_start_whole(sample, grain, measure, by):
    table = cohort_table(sample, EVERYTHING, grain, measure, by=by)
    first = table.filter(pl.col("period_index") == 0)
    assert first.height == table.select("group", "cohort").n_unique() > 1
    assert (first["value"] == 100.0).all()
    assert (first["customers"] == first["size"]).all()
    assert first["size"].sum() == _buyers(sample)
    assert (table["customers"] <= table["size"]).all()


@pytest.mark.slow
def test_sample_company_matches_an_independent_computation(sample):
    orders = sample.warehouse.read(
        "orders", columns=["customer_id", "order_date", "amount", "status"]
    )
    done = orders.filter(~pl.col("status").fill_null("completed").is_in(["returned", "cancelled"]))
    month = pl.col("p").dt.year() * 12 + pl.col("p").dt.month()
    cohort_month = pl.col("cohort_start").dt.year() * 12 + pl.col("cohort_start").dt.month()
    with_period = done.with_columns(p=pl.col("order_date").dt.truncate("1mo"))
    firsts = with_period.group_by("customer_id").agg(cohort_start=pl.col("p").min())
    expected = (
        with_period.join(firsts, on="customer_id")
        .group_by("cohort_start", (month - cohort_month).alias("period_index"))
        .agg(customers=pl.col("customer_id").n_unique(), revenue=pl.col("amount").sum())
        .sort("cohort_start", "period_index")
    )
    table = cohort_table(sample, EVERYTHING, "month")
    active = table.filter(pl.col("customers") > 0)
    assert (
        active.select("cohort_start", "period_index", "customers").rows()
        == expected.select("cohort_start", "period_index", "customers").rows()
    )
    assert active["revenue"].to_list() == pytest.approx(expected["revenue"].to_list())
    last = orders["order_date"].max().replace(day=1)
    ends = table.group_by("cohort_start").agg(pl.col("period").last())
    assert set(ends["period"]) == {f"{last.year}-{last.month:02d}"}
