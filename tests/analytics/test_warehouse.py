"""Delta storage: commits, history, rollback, snapshots, and the locked-down SQL gateway."""

import json
import threading
from datetime import date, datetime

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

import analytics.warehouse as warehouse_module
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


# ----- the write path: Parquet written by Polars, committed through Delta's transaction API ---


def log_actions(table_path) -> list[list[dict]]:
    """Every commit's actions, oldest first."""
    logs = sorted((table_path / "_delta_log").glob("*.json"))
    return [[json.loads(line) for line in log.read_text().splitlines()] for log in logs]


def add_stats(actions: list[dict]) -> list[dict]:
    return [json.loads(a["add"]["stats"]) for a in actions if "add" in a]


def every_type() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": ["a" * 300 + "z", "b" * 100, "é" * 70],
            "customer_id": ["c1", None, "c3"],
            "order_date": [date(1900, 1, 1), date(2024, 2, 29), None],
            "amount": [float("nan"), 1.5, -2.0],
            "quantity": [1, None, -5],
            "attr_empty": [None, None, None],
            "attr_at": [datetime(2024, 1, 1, 12, 30, 45, 123000), None, datetime(1960, 1, 1)],
        },
        schema_overrides={"attr_empty": pl.String},
    )


def test_file_stats_match_what_delta_rs_writes(warehouse, tmp_path):
    frame = every_type()
    warehouse.commit("orders", frame, mode="append", metadata={})
    write_deltalake(str(tmp_path / "reference"), frame.to_arrow())
    ours = add_stats(log_actions(warehouse.table_path("orders"))[0])
    reference = add_stats(log_actions(tmp_path / "reference")[0])
    assert ours == reference
    assert ours[0]["numRecords"] == 3
    assert warehouse.row_count("orders") == 3


def test_timestamp_upper_bound_is_rounded_up_to_the_millisecond(warehouse):
    frame = pl.DataFrame(
        {
            "order_id": ["a", "b"],
            "attr_at": [datetime(2024, 1, 1, 0, 0, 0, 1), datetime(2024, 1, 1)],
        }
    )
    warehouse.commit("orders", frame, mode="append", metadata={})
    (stats,) = add_stats(log_actions(warehouse.table_path("orders"))[0])
    assert stats["minValues"]["attr_at"] == "2024-01-01 00:00:00"
    assert stats["maxValues"]["attr_at"] == "2024-01-01 00:00:00.001"


def test_a_big_load_is_several_files_in_one_commit(warehouse, monkeypatch):
    monkeypatch.setattr(warehouse_module, "_ROWS_PER_FILE", 2)
    warehouse.commit(
        "orders", orders(["a", "b", "c", "d", "e"], [1.0] * 5), mode="append", metadata={}
    )
    (commit,) = log_actions(warehouse.table_path("orders"))
    stats = add_stats(commit)
    assert [s["numRecords"] for s in stats] == [2, 2, 1]
    assert [(s["minValues"]["order_id"], s["maxValues"]["order_id"]) for s in stats] == [
        ("a", "b"),
        ("c", "d"),
        ("e", "e"),
    ]
    assert len(warehouse.files("orders", 0)) == 3
    assert warehouse.row_count("orders") == 5
    gateway = QueryGateway(warehouse)
    assert gateway.query("SELECT count(*), sum(amount) FROM orders").row(0) == (5, 5.0)


def test_commit_records_metadata_once_and_writes_no_extra_versions(warehouse):
    warehouse.commit("orders", orders(["a"], [1.0]), mode="replace", metadata={"user": "ana"})
    warehouse.commit("orders", orders(["b"], [2.0]), mode="append", metadata={"user": "bo"})
    warehouse.commit("orders", orders(["c"], [3.0]), mode="replace", metadata={"user": "cy"})
    infos = [actions[0]["commitInfo"] for actions in log_actions(warehouse.table_path("orders"))]
    touchpoint = [{k: v for k, v in i.items() if k.startswith("touchpoint.")} for i in infos]
    assert touchpoint == [
        {"touchpoint.user": "ana", "touchpoint.action": "load", "touchpoint.mode": "replace"},
        {"touchpoint.user": "bo", "touchpoint.action": "load", "touchpoint.mode": "append"},
        {"touchpoint.user": "cy", "touchpoint.action": "load", "touchpoint.mode": "replace"},
    ]


def test_append_conforms_to_the_table_schema(warehouse):
    gateway = QueryGateway(warehouse)
    first = orders(["a"], [1.0]).with_columns(attr_rating=pl.lit(4.0))
    warehouse.commit("orders", first, mode="append", metadata={})
    # Fewer columns, an int amount and a numeric text attribute: nulls and casts, same schema.
    second = pl.DataFrame({"order_id": ["b"], "amount": [2], "attr_rating": ["5"]})
    assert warehouse.commit("orders", second, mode="append", metadata={}) == 1
    assert "metaData" not in {k for a in log_actions(warehouse.table_path("orders"))[1] for k in a}
    rows = gateway.query(
        "SELECT order_id, customer_id, amount, attr_rating FROM orders ORDER BY order_id"
    ).rows()
    assert rows == [("a", "c1", 1.0, 4.0), ("b", None, 2.0, 5.0)]
    assert warehouse.read("orders").schema == first.schema


def test_append_of_a_mistyped_column_changes_nothing(warehouse):
    first = orders(["a"], [1.0]).with_columns(attr_rating=pl.lit(4.0))
    warehouse.commit("orders", first, mode="append", metadata={})
    files_before = sorted(warehouse.table_path("orders").glob("*.parquet"))
    bad = pl.DataFrame({"order_id": ["b"], "attr_rating": ["great"]})
    with pytest.raises(WarehouseError) as err:
        warehouse.commit("orders", bad, mode="append", metadata={})
    assert str(err.value) == (
        "Column attr_rating holds text values, but earlier loads stored it as number. Nothing "
        "was changed; load the file with mode replace, or rename the column."
    )
    assert warehouse.version("orders") == 0
    assert sorted(warehouse.table_path("orders").glob("*.parquet")) == files_before


def test_failed_commit_removes_its_files(warehouse, monkeypatch):
    warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={})
    files_before = sorted(warehouse.table_path("orders").glob("*.parquet"))

    def conflict(self, *args, **kwargs):
        raise CommitFailedError("concurrent commit")

    monkeypatch.setattr(DeltaTable, "create_write_transaction", conflict)
    with pytest.raises(WarehouseError, match="could not be committed: concurrent commit"):
        warehouse.commit("orders", orders(["b"], [2.0]), mode="append", metadata={})
    assert warehouse.version("orders") == 0
    assert sorted(warehouse.table_path("orders").glob("*.parquet")) == files_before


def test_replace_overwrites_schema_and_files(warehouse):
    gateway = QueryGateway(warehouse)
    first = orders(["a", "b"], [1.0, 2.0]).with_columns(attr_coupon=pl.lit("X"))
    warehouse.commit("orders", first, mode="append", metadata={})
    old_files = set(warehouse.files("orders", 0))
    v1 = warehouse.commit("orders", orders(["z"], [9.0]), mode="replace", metadata={})
    assert v1 == 1
    assert not old_files & set(warehouse.files("orders", 1))
    assert warehouse.read("orders").columns == ["order_id", "customer_id", "order_date", "amount"]
    assert warehouse.row_count("orders") == 1
    assert gateway.query("SELECT sum(amount) FROM orders").item() == 9.0
    # The replaced files stay on disk for rollback.
    warehouse.rollback("orders", 0, user="ana")
    assert gateway.query("SELECT sum(amount), min(attr_coupon) FROM orders").row(0) == (3.0, "X")


def test_replace_with_a_timestamp_upgrades_the_protocol(warehouse):
    warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={})
    assert not DeltaTable(str(warehouse.table_path("orders"))).protocol().writer_features
    stamped = orders(["b"], [2.0]).with_columns(attr_at=pl.lit(datetime(2025, 1, 1, 8, 30)))
    assert warehouse.commit("orders", stamped, mode="replace", metadata={"user": "x"}) == 1
    table = DeltaTable(str(warehouse.table_path("orders")))
    assert "timestampNtz" in (table.protocol().writer_features or [])
    assert warehouse.read("orders").rows() == stamped.rows()
    assert warehouse.history("orders")[0].user == "x"


def test_empty_load_commits_a_typed_empty_version(warehouse):
    gateway = QueryGateway(warehouse)
    assert warehouse.commit("orders", orders([], []), mode="append", metadata={}) == 0
    assert warehouse.row_count("orders") == 0
    assert gateway.query("SELECT count(*), sum(amount) FROM orders").row(0) == (0, None)


def test_leftovers_of_a_killed_first_load_are_ignored(warehouse):
    table = warehouse.table_path("orders")
    table.mkdir(parents=True)
    orders(["ghost"], [99.0]).write_parquet(table / "part-00000-killed-c000.snappy.parquet")
    assert warehouse.version("orders") is None
    assert warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={}) == 0
    assert QueryGateway(warehouse).query("SELECT order_id FROM orders").rows() == [("a",)]
    assert warehouse.row_count("orders") == 1


def test_files_left_by_a_killed_load_are_vacuumed_after_the_rollback_window(warehouse):
    import os
    import time

    warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={})
    folder = warehouse.table_path("orders")
    stale = folder / "part-00000-left-by-a-killed-load.parquet"
    fresh = folder / "part-00000-being-written-now.parquet"
    orders(["x"], [9.0]).write_parquet(stale)
    orders(["y"], [9.0]).write_parquet(fresh)
    old = time.time() - (warehouse.rollback_days + 1) * 86_400
    os.utime(stale, (old, old))
    for i in range(10):  # version 10 is a checkpoint version
        warehouse.commit("orders", orders([f"o{i}"], [1.0]), mode="append", metadata={})
    assert warehouse.version("orders") >= 10
    assert not stale.exists()
    assert fresh.exists()
    assert warehouse.row_count("orders") == 11


def _ids_in(files: tuple[str, ...]) -> list[str]:
    return sorted(pl.concat([pl.read_parquet(f) for f in files])["order_id"].to_list())


def test_appended_names_the_files_of_the_appended_rows_across_compactions(warehouse):
    for i in range(3):
        warehouse.commit("orders", orders([f"o{i}"], [1.0]), mode="append", metadata={})
    assert _ids_in(warehouse.appended("orders", 0, 2)) == ["o1", "o2"]  # type: ignore[arg-type]
    for i in range(3, 20):  # the 17th file is compacted with the rest (a version of its own)
        warehouse.commit("orders", orders([f"o{i}"], [1.0]), mode="append", metadata={})
    history = [r.action for r in warehouse.history("orders")]
    assert "compact" in history
    last = warehouse.version("orders")
    assert last is not None
    added = warehouse.appended("orders", 2, last)
    assert added is not None and _ids_in(added) == sorted(f"o{i}" for i in range(3, 20))
    assert warehouse.appended("orders", last, last) is None  # nothing after it
    assert warehouse.appended("orders", last, 2) is None


def test_appended_is_none_across_a_replace_a_rollback_or_a_schema_change(warehouse):
    warehouse.commit("orders", orders(["a"], [1.0]), mode="append", metadata={})
    warehouse.commit("orders", orders(["b"], [1.0]), mode="replace", metadata={})
    assert warehouse.appended("orders", 0, 1) is None
    warehouse.commit("orders", orders(["c"], [1.0]), mode="append", metadata={})
    assert warehouse.appended("orders", 1, 2) is not None
    warehouse.rollback("orders", 1, user="me")
    assert warehouse.appended("orders", 2, 3) is None
    extra = orders(["d"], [2.0]).with_columns(attr_coupon=pl.lit("SPRING"))
    warehouse.commit("orders", extra, mode="append", metadata={})
    assert warehouse.appended("orders", 3, 4) is None
    (warehouse.table_path("orders") / "_delta_log" / f"{4:020d}.json").rename(
        warehouse.root / "moved.json"
    )
    assert warehouse.appended("orders", 3, 4) is None  # a log no longer kept


def test_a_workspace_keeps_its_tables_between_statements_and_needs_full_access(warehouse):
    from analytics.warehouse import Access

    warehouse.commit("orders", orders(["a", "b"], [1.0, 2.0]), mode="append", metadata={})
    gateway = QueryGateway(warehouse)
    with gateway.workspace() as workspace:
        workspace.load("picked", "orders", where="amount > 1")
        assert workspace.query("SELECT order_id FROM picked").rows() == [("b",)]
    limited = gateway.scoped(Access(limits=(("customer_id", ("c1",)),)))
    with pytest.raises(WarehouseError, match="read every row"), limited.workspace():
        pass


def test_a_query_can_read_rows_the_gateway_returned_in_place_of_a_dataset(warehouse):
    warehouse.commit("orders", orders(["a", "b"], [1.0, 2.0]), mode="append", metadata={})
    gateway = QueryGateway(warehouse)
    mine = gateway.query("SELECT * FROM orders WHERE order_id = $id", {"id": "b"})
    total = "SELECT sum(amount) AS total FROM orders"
    assert gateway.query(total).item() == 3.0
    assert gateway.query(total, rows={"orders": mine}).item() == 2.0


def test_an_engine_the_machine_cannot_run_is_refused_with_what_to_install(monkeypatch):
    import importlib.util
    import shutil

    from analytics.errors import ConfigError
    from analytics.warehouse import check_engine

    check_engine("duckdb")  # always there
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n: None if n == "pyspark" else real_find_spec(n)
    )
    with pytest.raises(ConfigError, match=r"needs pyspark: pip install -e '\.\[spark\]'"):
        check_engine("spark", "local[*]")
    monkeypatch.setattr(importlib.util, "find_spec", lambda n: object())
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="needs Java 17: apt-get install openjdk-17-jre"):
        check_engine("spark", "local[*]")
    check_engine("spark", "sc://cluster:15002")  # a remote server brings its own Java
