"""The audit log: appended by loads, rollbacks, exports and access changes, safe to share."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from analytics import audit
from analytics.ingest.pipeline import ingest


def test_entries_read_back_newest_first(tmp_path):
    audit.record(tmp_path, "sign_in", "ana", now=datetime(2025, 7, 1, 9, 0, tzinfo=UTC))
    audit.record(
        tmp_path,
        "export",
        "ana",
        {"file": "x.csv", "rows": 3},
        now=datetime(2025, 7, 1, 9, 5, tzinfo=UTC),
    )

    log = audit.read_log(tmp_path)
    assert log.rows() == [
        ("2025-07-01T09:05:00+00:00", "export", "ana", "file=x.csv, rows=3"),
        ("2025-07-01T09:00:00+00:00", "sign_in", "ana", ""),
    ]
    assert audit.read_log(tmp_path, newest=1).height == 1
    assert (tmp_path / audit.AUDIT_FILE).stat().st_mode & 0o777 == 0o600


def test_an_unknown_event_is_a_bug():
    with pytest.raises(ValueError, match="The audit event must be one of sign_in"):
        audit.record(".", "coffee", "ana")  # type: ignore[arg-type]


def test_writers_at_the_same_time_lose_nothing(tmp_path):
    def write(i: int) -> None:
        for j in range(25):
            audit.record(tmp_path, "export", f"user{i}", {"n": j})

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert audit.read_log(tmp_path).height == 200


def test_loads_and_rollbacks_are_recorded(warehouse, tiny_exports):
    name, content = tiny_exports["orders"]
    ingest(content, dataset_name="orders", warehouse=warehouse, file_name=name, user="ana")
    ingest(
        content,
        dataset_name="orders",
        warehouse=warehouse,
        file_name=name,
        user="ana",
        mode="replace",
    )
    warehouse.rollback("orders", 0, user="bob")

    log = audit.read_log(warehouse.root)
    assert log["event"].to_list() == ["rollback", "load", "load"]
    assert log["user"].to_list() == ["bob", "ana", "ana"]
    assert log["details"][0] == "dataset=orders, restored=0, version=2"
    assert log["details"][2] == (
        "dataset=orders, file=orders.csv, mode=append, rows_loaded=4, rows_rejected=0, version=0"
    )


def test_a_refused_load_is_not_a_load(warehouse):
    result = ingest(
        b"order_id,customer_id\nO1,C1\n",
        dataset_name="orders",
        warehouse=warehouse,
        file_name="bad.csv",
        user="ana",
    )

    assert not result.loaded
    assert audit.read_log(warehouse.root).height == 0
