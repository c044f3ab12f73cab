"""Drill lists (`analytics.drill`): the customers behind every KPI value add up to it."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from analytics import drill
from analytics.filters import Filters
from analytics.kpis import KPIS, trend
from analytics.warehouse import QueryGateway, Warehouse

JUNE = date(2025, 6, 1)


@pytest.fixture(scope="module")
def gateway(sample_warehouse: Warehouse) -> QueryGateway:
    return QueryGateway(sample_warehouse)


@pytest.mark.parametrize("key", [k.key for k in KPIS])
@pytest.mark.parametrize(
    ("filters", "by", "group"),
    [(Filters(), None, None), (Filters(start=date(2025, 6, 10)), "region", "EMEA")],
    ids=["everything", "EMEA from the 10th"],
)
def test_every_kpis_customers_add_up_to_its_value(gateway, key, filters, by, group):
    found = drill.kpi_customers(gateway, key, filters, "month", JUNE, by=by, group=group)
    cell = trend(
        gateway,
        [key],
        filters.with_range(max(JUNE, filters.start or JUNE), date(2025, 6, 30)),
        "month",
        by=by,
    )
    if by is not None:
        cell = cell.filter(pl.col("group") == group)
    value = cell["value"][0]
    assert found.total > 0
    if found.contribution_total is None:  # medians have no contributions
        assert found.kpi.estimator == "median"
    else:
        assert found.contribution_total == pytest.approx(value, rel=1e-9)
    # The list shows the largest contributions first, each with the customer's name.
    assert found.customers.height == min(found.total, 1000)
    assert found.customers["name"].null_count() < found.customers.height


def test_a_short_list_names_its_rows_and_counts_them_all(gateway):
    found = drill.kpi_customers(gateway, "revenue", Filters(), "month", JUNE, limit=5)
    everyone = drill.kpi_customers(gateway, "revenue", Filters(), "month", JUNE)
    assert found.customers.height == 5
    assert found.total == everyone.total > 5
    assert found.customers.rows() == everyone.customers.head(5).rows()
    assert found.customers["name"].null_count() == 0


def test_a_search_finds_customers_by_name(gateway):
    everyone = drill.kpi_customers(gateway, "revenue", Filters(), "month", JUNE)
    name = everyone.customers["name"][0]
    found = drill.kpi_customers(gateway, "revenue", Filters(), "month", JUNE, search=name[:5])
    assert 0 < found.total < everyone.total
    assert all(name[:5].lower() in n.lower() for n in found.customers["name"].fill_null(""))


@pytest.mark.parametrize("key", ["revenue", "retention_rate", "return_rate"])
def test_figures_to_date_count_every_order_before_the_period(gateway, key):
    """A KPI of the period reads only its orders (and the period before); the orders,
    revenue and first order to date of the customers shown are counted over all of theirs."""
    found = drill.kpi_customers(gateway, key, Filters(), "month", JUNE, by="region", group="EMEA")
    shown = found.customers.select(
        "customer_id", "orders_to_date", "revenue_to_date", "first_order", "is_new"
    )
    orders = gateway.query(
        "SELECT customer_id, order_date, amount FROM orders WHERE order_date <= DATE '2025-06-30' "
        "AND coalesce(status, '') NOT IN ('returned', 'cancelled')"
    )
    expected = (
        orders.group_by("customer_id")
        .agg(
            orders_to_date=pl.len().cast(pl.Int64),
            revenue_to_date=pl.col("amount").fill_null(0).sum(),
            first_order=pl.col("order_date").min(),
        )
        .with_columns(is_new=pl.col("first_order") >= JUNE)
    )
    joined = shown.join(expected, on="customer_id", how="left", suffix="_expected")
    assert shown.height > 100
    assert (joined["orders_to_date"] == joined["orders_to_date_expected"].fill_null(0)).all()
    assert joined["revenue_to_date"].to_list() == pytest.approx(
        joined["revenue_to_date_expected"].fill_null(0.0).to_list(), rel=1e-9
    )
    assert joined["first_order"].to_list() == joined["first_order_expected"].to_list()
    assert joined["is_new"].to_list() == joined["is_new_expected"].to_list()
    assert joined["orders_to_date"].max() > 3  # orders before June are counted
