"""Shared fixtures: a temporary warehouse wired through the environment, and a tiny company.

The tiny company's numbers are hand-computed so pages can be checked against exact values:

- customers: C1, C2, C3                                    -> 3 customers
- orders: O1 1,200.00, O2 80.50, O3 99.25 completed; O4 40.00 returned
                                                           -> 3 orders, revenue 1,379.75
- surveys: NPS 10, 9, 6, 8 -> promoters 2, detractors 1 of 4 -> NPS 25.0
           CSAT 5, 4, 2 (one response without)              -> 2 of 3 satisfied, CSAT 66.7%
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from analytics.ingest.pipeline import ingest
from analytics.warehouse import Warehouse

TINY_EXPORTS: dict[str, tuple[str, bytes]] = {
    "customers": (
        "customers.csv",
        b"customer_id,signup_date,name,country\n"
        b"C1,2025-01-05,Ada Lovelace,GB\n"
        b"C2,2025-02-10,Grace Hopper,US\n"
        b"C3,2025-03-15,Katherine Johnson,US\n",
    ),
    "orders": (
        "orders.csv",
        b"order_id,customer_id,order_date,amount,status\n"
        b"O1,C1,2025-04-01,1200.00,completed\n"
        b"O2,C2,2025-04-03,80.50,completed\n"
        b"O3,C3,2025-04-10,99.25,completed\n"
        b"O4,C1,2025-05-01,40.00,returned\n",
    ),
    "surveys": (
        "surveys.csv",
        b"response_id,customer_id,responded_at,nps,csat\n"
        b"R1,C1,2025-04-05 10:00:00,10,5\n"
        b"R2,C2,2025-04-06 11:30:00,9,4\n"
        b"R3,C3,2025-04-12 09:15:00,6,2\n"
        b"R4,,2025-04-20 16:45:00,8,\n",
    ),
}


@pytest.fixture
def warehouse_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty warehouse folder that the app and the CLI use (sample loading off)."""
    root = tmp_path / "warehouse"
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(root))
    monkeypatch.setenv("TOUCHPOINT_SAMPLE_ON_EMPTY", "false")
    monkeypatch.setenv("TOUCHPOINT_USER", "tester")
    # No accounts file: single-user local mode, whatever the developer's own setup holds.
    monkeypatch.setenv("TOUCHPOINT_ACCOUNTS", str(tmp_path / "accounts.toml"))
    return root


@pytest.fixture
def tiny_exports() -> dict[str, tuple[str, bytes]]:
    """dataset -> (file name, CSV bytes) of the tiny company."""
    return dict(TINY_EXPORTS)


@pytest.fixture
def warehouse(warehouse_dir: Path) -> Warehouse:
    return Warehouse(warehouse_dir)


@pytest.fixture
def tiny_warehouse(warehouse: Warehouse) -> Warehouse:
    """The warehouse with the tiny company loaded (customers, orders, surveys)."""
    for dataset_name, (file_name, content) in TINY_EXPORTS.items():
        result = ingest(
            content,
            dataset_name=dataset_name,
            warehouse=warehouse,
            file_name=file_name,
            user="tester",
        )
        assert result.loaded, result.message
    return warehouse


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The committed sample company loaded into a warehouse, once per test session (read-only)."""
    from analytics.bootstrap import ensure_sample_loaded

    root = tmp_path_factory.mktemp("sample") / "warehouse"
    loaded = Warehouse(root)
    sample_dir = Path(__file__).resolve().parents[1] / "data" / "sample"
    ensure_sample_loaded(loaded, sample_dir, user="tester", progress=lambda stage, done: None)
    return loaded


@pytest.fixture(scope="session")
def spark_engine() -> str:
    """The Spark engine's master for tests (`local[2]`), once pyspark and Java are there.

    Without them the Spark tests skip loudly, unless TOUCHPOINT_REQUIRE_SPARK=1 (CI), where
    they fail: `make test` installs both (Java only when root)."""
    import importlib.util
    import os
    import shutil

    missing = [
        what
        for what, there in (
            ("pyspark and sqlglot (pip install -e '.[spark]')", importlib.util.find_spec("pyspark")
             and importlib.util.find_spec("sqlglot")),
            ("Java 17 (apt-get install openjdk-17-jre-headless)", shutil.which("java")),
        )
        if not there
    ]  # fmt: skip
    if missing:
        reason = "SPARK TESTS NOT RUN: missing " + " and ".join(missing) + "."
        if os.environ.get("TOUCHPOINT_REQUIRE_SPARK") == "1":
            pytest.fail(reason + " TOUCHPOINT_REQUIRE_SPARK=1 requires them.")
        pytest.skip(reason)
    return "local[2]"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Let the dashboard's background builds that page tests started finish: an interpreter
    that exits while one of these daemon threads is inside DuckDB aborts (exit 134)."""
    for thread in threading.enumerate():
        if thread.name == "touchpoint-derived":
            thread.join(timeout=600)
