"""A small sample company (3,000 customers) in its own warehouse, segmented once per module."""

from __future__ import annotations

import pytest

from analytics.bootstrap import load_sample_files
from analytics.sample import write_sample_company
from analytics.warehouse import Warehouse


@pytest.fixture(scope="module")
def small_company(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("small")
    files = write_sample_company(root / "exports", customers=3_000, seed=4242)
    warehouse = Warehouse(root / "warehouse")
    load_sample_files(warehouse, files, user="tester")
    return warehouse
