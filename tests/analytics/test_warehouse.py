"""Delta storage: commits, history, rollback, snapshots, and the locked-down SQL gateway."""

import threading
from datetime import date

import duckdb
import polars as pl
import pytest

from analytics.errors import WarehouseError
from analytics.warehouse import QueryGateway, Warehouse, history_frame


def orders(ids, amounts):
    return pl.DataFrame(
        {
            "order_id": ids,
            "customer_id": ["c1"] * len(ids),
            "order_date": [date(2025, 1, 1)] * len(ids),
            "amount": amounts,
        }
    )


@pytest.fixture
def warehouse(tmp_path):
    return Warehouse(tmp_path / "wh")


def test_empty_warehouse_queries_return_typed_empty_results(warehouse):
    gateway = QueryGateway(warehouse)
    assert warehouse.is_empty()
    assert warehouse.data_version() == "customers=-,orders=-,surveys=-,tickets=-,events=-"
    result = gateway.query("SELECT count(*) AS n, sum(amount) AS s FROM orders")
    assert result.row(0) == (0, None)


def test_each_load_is_one_version_with_its_metadata(warehouse):
    v0 = warehouse.commit(
        "orders",
        orders(["a"], [1.0]),
        mode="append",
        metadata={
            "source_file": "jan.csv",
            "sha256": "ab" * 32,
            "rows_read": 1,
            "rows_loaded": 1,
            "rows_rejected": 0,
            "mapping": "automatic",
            "user": "ana",
        },
    )
    v1 = warehouse.commit(
        "orders",
        orders(["b", "c"], [2.0, 3.5]),
        mode="append",
        metadata={"source_file": "feb.csv", "user": "ana"},
    )
    assert (v0, v1) == (0, 1)
    history = history_frame(warehouse.history("orders"))
    assert history.select(
        "version", "action", "mode", "source_file", "rows_loaded", "user"
    ).rows() == [
        (1, "load", "append", "feb.csv", None, "ana"),
        (0, "load", "append", "jan.csv", 1, "ana"),
    ]
    assert warehouse.data_version() == "customers=-,orders=1,surveys=-,tickets=-,events=-"


def test_replace_then_rollback_restores_earlier_rows(warehouse):
    gateway = QueryGateway(warehouse)
    warehouse.commit("orders", orders(["a", "b"], [1.0, 2.0]), mode="append", metadata={})
    warehouse.commit("orders", orders(["z"], [9.0]), mode="replace", metadata={})
    assert gateway.query("SELECT sum(amount) FROM orders").item() == 9.0
    new_version = warehouse.rollback("orders", 0, user="ana")
    assert new_version == 2
    assert gateway.query("SELECT sum(amount) FROM orders").item() == 3.0
    latest = warehouse.history("orders")[0]
    assert (latest.action, latest.user, latest.note) == ("rollback", "ana", "restored version 0")


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (
            5,
            "Cannot roll orders back to version 5: choose a version from 0 to 0 (the current "
            "version is 1; see `history`).",
        ),
        (
            -1,
            "Cannot roll orders back to version -1: choose a version from 0 to 0 (the current "
            "version is 1; see `history`).",
        ),
    ],
)
def test_rollback_out_of_range(warehouse, to, message):
    warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={})
    warehouse.commit("orders", orders(["b"], [1.0]), mode="append", metadata={})
    with pytest.raises(WarehouseError) as err:
        warehouse.rollback("orders", to, user="x")
    assert str(err.value) == message


def test_rollback_of_never_loaded_dataset(warehouse):
    with pytest.raises(WarehouseError) as err:
        warehouse.rollback("tickets", 0, user="x")
    assert str(err.value) == "tickets has never been loaded, so there is nothing to roll back."


def test_new_attribute_columns_merge_into_the_schema(warehouse):
    gateway = QueryGateway(warehouse)
    warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={})
    extra = orders(["b"], [2.0]).with_columns(attr_coupon=pl.lit("SPRING"))
    warehouse.commit("orders", extra, mode="append", metadata={})
    rows = gateway.query("SELECT order_id, attr_coupon FROM orders ORDER BY order_id").rows()
    assert rows == [("a", None), ("b", "SPRING")]


def test_many_appends_are_compacted(warehouse):
    for i in range(20):
        warehouse.commit("orders", orders([f"o{i}"], [1.0]), mode="append", metadata={})
    version = warehouse.version("orders")
    assert len(warehouse.files("orders", version)) <= 16
    assert warehouse.row_count("orders") == 20


def test_bound_values_cannot_inject(warehouse):
    gateway = QueryGateway(warehouse)
    warehouse.commit("orders", orders(["a", "b"], [1.0, 2.0]), mode="append", metadata={})
    hostile = "a' OR 1=1 --"
    result = gateway.query("SELECT count(*) FROM orders WHERE order_id = $id", {"id": hostile})
    assert result.item() == 0


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "COPY (SELECT 1) TO '/tmp/touchpoint-leak.csv'",
        "ATTACH '/tmp/other.duckdb' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
    ],
)
def test_gateway_is_locked_down(warehouse, sql):
    gateway = QueryGateway(warehouse)
    with pytest.raises(duckdb.Error):
        gateway.query(sql)


def test_concurrent_readers_each_get_a_cursor(warehouse):
    gateway = QueryGateway(warehouse)
    warehouse.commit("orders", orders(["a", "b"], [1.0, 2.0]), mode="append", metadata={})
    errors: list[Exception] = []
    sums: list[float] = []

    def read():
        try:
            for _ in range(20):
                sums.append(gateway.query("SELECT sum(amount) FROM orders").item())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sums == [3.0] * 160
