"""Architecture rules that keep the layers apart (DESIGN.md §1)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYTICS = sorted((ROOT / "analytics").rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", ANALYTICS, ids=lambda p: str(p.relative_to(ROOT)))
def test_analytics_never_imports_ui_libraries(path):
    assert imported_modules(path).isdisjoint({"streamlit", "plotly", "dashboard"})


def test_only_the_gateway_talks_to_duckdb():
    users = [p.relative_to(ROOT).as_posix() for p in ANALYTICS if "duckdb" in imported_modules(p)]
    assert users == ["analytics/warehouse.py"]


def test_only_the_spark_engine_imports_pyspark_and_sqlglot():
    users = [
        p.relative_to(ROOT).as_posix()
        for p in ANALYTICS
        if imported_modules(p) & {"pyspark", "sqlglot"}
    ]
    assert users == ["analytics/spark.py"]


def test_only_dashboard_data_module_caches():
    cachers = [
        p.relative_to(ROOT).as_posix()
        for p in sorted((ROOT / "dashboard").rglob("*.py"))
        if "st.cache_data" in p.read_text(encoding="utf-8")
        or "st.cache_resource" in p.read_text(encoding="utf-8")
    ]
    assert cachers == ["dashboard/data.py"]
