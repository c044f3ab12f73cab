"""The gateway's dataset views carry every contract column, loaded or not."""

from __future__ import annotations

from analytics.contract import DATASETS
from analytics.warehouse import QueryGateway


def test_columns_no_load_provided_read_as_typed_nulls(tiny_warehouse):
    # Regression: the tiny surveys export has no `ces` column, and the KPI query over surveys
    # failed with "Referenced column ces not found".
    gateway = QueryGateway(tiny_warehouse)

    frame = gateway.query("SELECT * FROM surveys ORDER BY response_id")

    assert set(DATASETS["surveys"].column_names) <= set(frame.columns)
    assert frame["ces"].to_list() == [None, None, None, None]
    assert str(frame.schema["ces"]) == "Int64"
    assert frame["nps"].to_list() == [10, 9, 6, 8]


def test_a_dataset_never_loaded_is_an_empty_typed_view(tiny_warehouse):
    frame = QueryGateway(tiny_warehouse).query("SELECT * FROM tickets")

    assert frame.height == 0
    assert list(frame.columns) == list(DATASETS["tickets"].column_names)
