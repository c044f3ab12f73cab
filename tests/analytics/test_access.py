"""Row- and column-level access, enforced in the gateway's views for every query."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import customer360, drill, kpis
from analytics.errors import WarehouseError
from analytics.filters import Filters
from analytics.warehouse import Access, QueryGateway

US_ONLY = Access(limits=(("country", ("US",)),))


@pytest.fixture
def gateway(tiny_warehouse) -> QueryGateway:
    return QueryGateway(tiny_warehouse)


def test_a_customer_limit_narrows_every_dataset(gateway):
    us = gateway.scoped(US_ONLY)

    assert us.query("SELECT customer_id FROM customers ORDER BY 1")["customer_id"].to_list() == [
        "C2",
        "C3",
    ]
    assert us.query("SELECT order_id FROM orders ORDER BY 1")["order_id"].to_list() == ["O2", "O3"]
    # R4 has no customer: under a customer limit it is not visible either.
    assert us.query("SELECT response_id FROM surveys ORDER BY 1")["response_id"].to_list() == [
        "R2",
        "R3",
    ]
    assert gateway.query("SELECT count(*) AS n FROM orders")["n"][0] == 4  # unscoped: all


def test_limited_numbers_equal_the_unrestricted_numbers_filtered_the_same_way(gateway):
    keys = [k.key for k in kpis.KPIS]
    spring = Filters(start=date(2025, 4, 1), end=date(2025, 5, 31))
    limited = kpis.trend(gateway.scoped(US_ONLY), keys, spring, "month")
    filtered = kpis.trend(gateway, keys, spring.narrowed("country", "US"), "month")

    assert limited.height == filtered.height == 2 * len(keys)
    assert limited.equals(filtered)


def test_a_filter_for_another_value_cannot_widen_the_limit(gateway):
    gb = Filters(start=date(2025, 4, 1), end=date(2025, 5, 31), country=("GB",))
    table = kpis.trend(gateway.scoped(US_ONLY), ["orders"], gb, "month")

    assert table["value"].to_list() == [0.0, 0.0]  # GB's C1 stays invisible


def test_drill_and_customer_search_stay_inside_the_limit(gateway):
    us = gateway.scoped(US_ONLY)
    result = drill.kpi_customers(us, "revenue", Filters(), "quarter", date(2025, 4, 1))

    assert sorted(result.customers["customer_id"].to_list()) == ["C2", "C3"]
    assert customer360.find_customers(us, "C1")["customer_id"].to_list() == []
    assert customer360.customer_profile(us, "C1") is None
    assert customer360.customer_timeline(us, "C1").height == 0


def test_personal_data_is_masked(gateway):
    masked = gateway.scoped(Access(mask_pii=True))

    names = masked.query("SELECT name FROM customers ORDER BY customer_id")["name"].to_list()
    assert names == ["•••", "•••", "•••"]
    assert customer360.find_customers(masked, "Grace")["customer_id"].to_list() == []
    assert customer360.find_customers(masked, "C2")["customer_id"].to_list() == ["C2"]


def test_hostile_limit_values_match_nothing_and_break_nothing(gateway):
    hostile = gateway.scoped(Access(limits=(("country", ("US' OR 1=1 --",)),)))

    assert hostile.query("SELECT count(*) AS n FROM orders")["n"][0] == 0


def test_a_limit_on_a_column_no_dataset_has_is_refused(gateway):
    with pytest.raises(WarehouseError, match="'salary', which no dataset has"):
        gateway.scoped(Access(limits=(("salary", ("1",)),)))


def test_access_key_round_trip():
    access = Access(limits=(("region", ("EMEA", "APAC")),), mask_pii=True)

    assert Access.from_key(access.key()) == access


def test_only_viewers_get_the_minimum_and_the_mask(tmp_path):
    from analytics.accounts import Account

    viewer = Account("vera", "viewer", "x", (("region", ("EMEA",)),))
    analyst = Account("ana", "analyst", "x")
    assert viewer.access(min_group=5) == Access(
        limits=(("region", ("EMEA",)),), mask_pii=True, min_group=5
    )
    assert analyst.access(min_group=5) == Access()
