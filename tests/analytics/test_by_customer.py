"""The records sorted by customer: the same rows, in the same order per customer, read by
Customer 360 through the gateway's limits and masks."""

from __future__ import annotations

import itertools
import shutil

import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from analytics import by_customer, customer360
from analytics.ingest.pipeline import ingest
from analytics.warehouse import MASKED, Access, QueryGateway, Warehouse

LIMITED = Access(limits=(("region", ("EMEA",)),), mask_pii=True, min_group=5)
# Customers with orders, responses, tickets and events (C10354: a few of each; C13578: more).
CUSTOMERS = ("C04361", "C10354", "C13578", "C00001", "C19999", "nobody")


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_warehouse) -> tuple[Warehouse, dict[str, float]]:
    """A copy of the sample company with its records sorted by customer."""
    root = tmp_path_factory.mktemp("by-customer") / "warehouse"
    shutil.copytree(sample_warehouse.root, root, ignore=shutil.ignore_patterns(by_customer.FOLDER))
    warehouse = Warehouse(root)
    return warehouse, by_customer.refresh(warehouse)


def test_each_record_dataset_gets_one_copy_of_its_version(built):
    warehouse, took = built
    copies = sorted(
        p.name.split("-")[0] for p in (warehouse.root / "_by_customer").glob("*.parquet")
    )

    assert sorted(took) == [
        "events by customer", "orders by customer", "surveys by customer", "tickets by customer"
    ]  # fmt: skip
    assert copies == ["events", "orders", "surveys", "tickets"]
    assert by_customer.refresh(warehouse) == {}  # built once per version
    assert not by_customer.pending(warehouse)


@pytest.mark.parametrize("name", by_customer.DATASETS)
def test_a_copy_holds_the_versions_rows_in_row_groups_of_disjoint_customers(built, name):
    warehouse, _ = built
    gateway = QueryGateway(warehouse)
    (path,) = by_customer.files_for(gateway)[name]
    footer = pq.read_metadata(path)
    column = footer.schema.names.index("customer_id")
    bounds = [
        (footer.row_group(i).column(column).statistics.min,
         footer.row_group(i).column(column).statistics.max)
        for i in range(footer.num_row_groups)
    ]  # fmt: skip
    rows = warehouse.row_count(name)

    assert footer.num_rows == rows
    assert footer.num_row_groups == -(-rows // by_customer.ROW_GROUP_ROWS)
    assert tuple(footer.schema.names) == warehouse.columns(name, warehouse.version(name))
    # Sorted: each row group starts at or after where the one before it ended.
    assert all(low >= high for (_, high), (low, _) in itertools.pairwise(bounds))
    sql = f"SELECT * FROM {name} ORDER BY ALL"
    assert_frame_equal(gateway.reading({name: (path,)}).query(sql), gateway.query(sql))


@pytest.mark.parametrize("name", by_customer.DATASETS)
@pytest.mark.parametrize("customer", CUSTOMERS)
def test_one_customers_rows_come_in_the_versions_order(built, name, customer):
    """Not only the same rows: the same order, so even a sum of floats is the same bits."""
    warehouse, _ = built
    gateway = QueryGateway(warehouse)
    sql = f"SELECT * FROM {name} WHERE customer_id = $id"
    copies = gateway.reading(by_customer.files_for(gateway))

    assert_frame_equal(copies.query(sql, {"id": customer}), gateway.query(sql, {"id": customer}))


@pytest.mark.parametrize("access", [Access(), LIMITED], ids=["everyone", "EMEA viewer"])
@pytest.mark.parametrize("customer", CUSTOMERS)
def test_customer_360_is_the_same_from_the_copies(built, monkeypatch, access, customer):
    warehouse, _ = built
    gateway = QueryGateway(warehouse).scoped(access)

    def page() -> tuple[object, ...]:
        records = customer360.customer_records(gateway, customer)
        return (
            customer360.customer_profile(gateway, customer, records),
            customer360.customer_orders(gateway, customer, records),
            customer360.customer_timeline(gateway, customer, records),
        )

    profile, orders, timeline = page()
    monkeypatch.setattr(by_customer, "files_for", lambda gateway: {})
    from_rows = page()

    assert profile == from_rows[0]
    assert_frame_equal(orders, from_rows[1])
    assert_frame_equal(timeline, from_rows[2])
    if customer == "C13578" and access == Access():
        assert timeline.height == 25 and profile is not None and profile.orders == 6
    if customer == "C10354" and access == LIMITED:  # in EMEA: shown, with PII masked
        assert profile is not None and profile.name == MASKED and timeline.height == 9


def test_a_load_makes_a_new_copy_and_the_old_version_keeps_its_own(tmp_path, tiny_warehouse):
    first = by_customer.refresh(tiny_warehouse)
    before = QueryGateway(tiny_warehouse)
    old = by_customer.files_for(before)["orders"]
    result = ingest(
        b"order_id,customer_id,order_date,amount\nO9,C1,2025-05-02,7\n",
        dataset_name="orders",
        warehouse=tiny_warehouse,
        file_name="more.csv",
        user="tester",
    )
    assert result.loaded, result.message
    now = QueryGateway(tiny_warehouse)

    assert sorted(first) == ["orders by customer", "surveys by customer"]  # what was loaded
    assert "orders" not in by_customer.files_for(now)  # until built: read from the files
    assert by_customer.pending(tiny_warehouse)
    assert list(by_customer.refresh(tiny_warehouse)) == ["orders by customer"]
    assert by_customer.files_for(now)["orders"] != old
    assert by_customer.files_for(before.at_versions({"orders": 0}))["orders"] == old
    ids = now.reading(by_customer.files_for(now)).query(
        "SELECT order_id FROM orders WHERE customer_id = 'C1'"
    )["order_id"]
    assert sorted(ids) == ["O1", "O4", "O9"]
