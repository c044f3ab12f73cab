"""Names users choose (mapping profiles, upload file names, sheet names) never reach a path
or a query: hostile ones are refused or stay text."""

from __future__ import annotations

import os

import pytest

from analytics.errors import MappingError, ReadError
from analytics.ingest.mapping import save_profile
from analytics.ingest.pipeline import ingest, list_quarantines, suggest_mapping
from analytics.ingest.readers import read_export

HOSTILE = [
    "../../etc/passwd",
    "/tmp/x",
    "a'; DROP TABLE orders; --",
    "<script>",
    "=cmd|' /C calc'!A0",
]
ORDERS = b"order_id,customer_id,order_date,amount\nO1,C1,2025-01-05,10.0\nO2,C2,2025-01-06,x\n"


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_mapping_names_are_refused_and_write_nothing(tmp_path, warehouse, name):
    raw = read_export(ORDERS, file_name="o.csv")
    matches = suggest_mapping(raw, "orders", warehouse).matches

    with pytest.raises(MappingError, match="cannot be used"):
        save_profile(tmp_path / "mappings", name, "orders", matches)
    assert not (tmp_path / "mappings").exists() or not os.listdir(tmp_path / "mappings")


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_upload_names_are_only_labels(warehouse, name):
    result = ingest(
        ORDERS,
        dataset_name="orders",
        warehouse=warehouse,
        file_name=name,
        user="t",
        on_error="quarantine",
    )

    assert result.loaded
    files = [p for p in warehouse.root.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(warehouse.root.resolve()) for p in files)
    quarantine = list_quarantines(warehouse)
    assert len(quarantine) == 1 and name not in str(quarantine[0])


@pytest.mark.parametrize("sheet", HOSTILE)
def test_hostile_sheet_names_are_an_unknown_sheet(tmp_path, sheet):
    import polars as pl

    book = tmp_path / "book.xlsx"
    pl.DataFrame({"order_id": ["O1"]}).write_excel(book, worksheet="Orders")

    with pytest.raises(ReadError, match="sheet"):
        read_export(book.read_bytes(), file_name="book.xlsx", sheet=sheet)
