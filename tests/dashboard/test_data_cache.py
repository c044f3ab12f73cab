"""dashboard/data.py: one cache helper keyed by data version and access."""

from __future__ import annotations

from datetime import date

import pytest

from analytics.accounts import Account
from analytics.ingest.pipeline import ingest
from dashboard import data, state


@pytest.fixture(autouse=True)
def admin():
    state.set_account(Account("tester", "admin", ""))


def test_results_follow_the_data_version(tiny_warehouse):
    before = data.bounds(tiny_warehouse)
    result = ingest(
        b"order_id,customer_id,order_date,amount\nO9,C2,2025-08-20,10.00\n",
        dataset_name="orders",
        warehouse=tiny_warehouse,
        file_name="late.csv",
    )
    assert result.loaded, result.message

    assert before == (date(2025, 4, 1), date(2025, 5, 1))
    assert data.bounds(tiny_warehouse) == (date(2025, 4, 1), date(2025, 8, 20))


def test_cached_functions_with_the_same_arguments_do_not_share_results(tiny_warehouse):
    orders = data.customer_orders(tiny_warehouse, "C1")
    timeline = data.customer_timeline(tiny_warehouse, "C1")

    assert orders["order_id"].to_list() == ["O1", "O4"]
    assert timeline.columns == ["at", "kind", "title", "detail", "amount", "score"]
    assert data.customer_orders.__name__ == "customer_orders"  # the page-facing name


def test_keyword_and_positional_arguments_are_both_part_of_the_key(tiny_warehouse):
    assert data.customer_search(tiny_warehouse, "C", 1)["customer_id"].to_list() == ["C1"]
    assert data.customer_search(tiny_warehouse, "C", limit=2).height == 2


def test_another_users_access_gets_its_own_results(tiny_warehouse):
    assert data.customer_orders(tiny_warehouse, "C1").height == 2

    state.set_account(Account("vera", "viewer", "", (("country", ("US",)),)))

    assert data.customer_orders(tiny_warehouse, "C1").height == 0  # C1 is in GB
