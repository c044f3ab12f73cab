"""The filter menus' values per data version: the same lists as from the rows."""

from __future__ import annotations

import shutil
from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import derived, filter_values, rollups
from analytics.contract import DATASETS
from analytics.filters import dimension_values
from analytics.ingest.pipeline import ingest
from analytics.warehouse import Access, QueryGateway, Warehouse
from tests.slow_properties import slow_examples

EMEA = Access(limits=(("region", ("EMEA",)),), mask_pii=True, min_group=5)


@pytest.fixture(scope="module")
def sample(tmp_path_factory, sample_warehouse) -> Warehouse:
    root = tmp_path_factory.mktemp("filter-values") / "warehouse"
    shutil.copytree(
        sample_warehouse.root, root, ignore=shutil.ignore_patterns(filter_values.FOLDER)
    )
    return Warehouse(root)


def _from_rows(gateway: QueryGateway, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    with monkeypatch.context() as patched:
        patched.setattr(filter_values, "stored", lambda gateway: None)
        return dimension_values(gateway)


def test_the_menus_come_from_the_table_once_built_with_the_same_values(sample, monkeypatch):
    gateway = QueryGateway(sample)
    assert filter_values.stored(gateway) is None  # not built yet: read from the rows
    assert filter_values.pending(sample)

    took = filter_values.refresh(sample)
    table = filter_values.stored(gateway)
    values = dimension_values(gateway)

    assert list(took) == ["filter values"] and not filter_values.pending(sample)
    assert filter_values.refresh(sample) == {}  # once per data version
    assert table is not None
    assert sorted(set(table["dimension"])) == sorted(filter_values.KEYS)
    assert values == _from_rows(gateway, monkeypatch)
    assert values["region"] == ["APAC", "Americas", "EMEA"]
    assert len(values["country"]) == table.filter(dimension="country").height > 3


def test_a_user_with_row_limits_is_offered_the_values_of_their_rows(sample, monkeypatch):
    filter_values.refresh(sample)
    limited = QueryGateway(sample).scoped(EMEA)

    assert filter_values.stored(limited) is None
    assert dimension_values(limited)["region"] == ["EMEA"]
    assert dimension_values(limited) == _from_rows(limited, monkeypatch)


def test_a_load_is_read_from_the_rows_until_its_table_is_built(tiny_warehouse):
    derived.refresh_base(tiny_warehouse)
    gateway = QueryGateway(tiny_warehouse)
    assert filter_values.stored(gateway) is not None
    assert dimension_values(gateway)["channel"] == []

    result = ingest(
        b"order_id,customer_id,order_date,amount,channel\nO9,C1,2025-05-02,7,Web\n",
        dataset_name="orders",
        warehouse=tiny_warehouse,
        file_name="more.csv",
        user="tester",
    )
    assert result.loaded, result.message

    assert filter_values.stored(gateway) is None
    assert derived.pending(tiny_warehouse)
    assert dimension_values(gateway)["channel"] == ["Web"]
    assert list(derived.refresh_base(tiny_warehouse)).count("filter values") == 1
    assert dimension_values(gateway)["channel"] == ["Web"]
    assert filter_values.stored(gateway) is not None
    # An earlier version keeps the values it had.
    assert dimension_values(gateway.at_versions({"orders": 0}))["channel"] == []


def test_the_background_build_makes_the_table_when_a_load_built_only_the_rollups(
    tiny_warehouse,
):
    rollups.refresh(tiny_warehouse)  # what a load made before this table existed
    assert filter_values.pending(tiny_warehouse) and derived.pending(tiny_warehouse)

    assert "filter values" in derived.refresh_rest(tiny_warehouse)
    assert not filter_values.pending(tiny_warehouse)


# ----- after appends -------------------------------------------------------------------------

LOADS = st.lists(
    st.tuples(
        st.sampled_from(["append", "append", "replace", "rollback"]),
        st.sampled_from(["customers", "orders", "surveys", "tickets"]),
        st.lists(st.sampled_from(["web", "App", "store", "Ünï", None]), min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=6,
)


def _rows(name: str, values: list[str | None], made: int) -> pl.DataFrame:
    """Rows of dataset `name` whose dimension columns take `values`."""
    schema = DATASETS[name].schema
    ids = [f"{name[0]}{made + i}" for i in range(len(values))]
    columns: dict[str, list[object]] = {
        "customer_id": [f"C{made + i}" for i in range(len(values))],
        DATASETS[name].time_column: [date(2024, 1, 1 + i % 28) for i in range(len(values))],
    }
    if name == "customers":
        columns |= {"region": values, "plan": values, "country": values}
    else:
        columns |= {next(c for c in schema if c.endswith("_id") and c != "customer_id"): ids}
        columns |= {"channel": values}
        if name == "orders":
            columns["product_category"] = values[::-1]
    return pl.DataFrame(
        {c: pl.Series(c, columns.get(c, [None] * len(values))).cast(t) for c, t in schema.items()}
    )


@slow_examples(10)
@given(loads=LOADS)
def test_tables_after_appends_equal_the_values_read_from_the_rows(
    tmp_path_factory, monkeypatch, loads
):
    warehouse = Warehouse(tmp_path_factory.mktemp("values") / "w")
    for name in ("customers", "orders", "surveys", "tickets"):
        warehouse.commit(name, _rows(name, ["web"], 0), mode="replace", metadata={})
    filter_values.refresh(warehouse)
    for made, (what, name, values) in enumerate(loads, start=1):
        version = warehouse.version(name)
        if what == "rollback" and version:
            warehouse.rollback(name, version - 1, user="test")
        else:
            mode = "append" if what == "append" else "replace"
            warehouse.commit(name, _rows(name, values, made * 10), mode=mode, metadata={})
        filter_values.refresh(warehouse)
        gateway = QueryGateway(warehouse)
        assert filter_values.stored(gateway) is not None
        assert dimension_values(gateway) == _from_rows(gateway, monkeypatch)


def test_an_append_reads_only_the_appended_files(tmp_path, monkeypatch):
    warehouse = Warehouse(tmp_path / "w")
    for name in ("customers", "orders", "surveys"):
        warehouse.commit(name, _rows(name, ["web", "App"], 0), mode="replace", metadata={})
    filter_values.refresh(warehouse)
    warehouse.commit("orders", _rows("orders", ["Kiosk", None], 50), mode="append", metadata={})
    read: list[str] = []
    query = QueryGateway.query

    def spy(self, sql, params=None):
        read.append(sql)
        return query(self, sql, params)

    monkeypatch.setattr(QueryGateway, "query", spy)
    assert list(filter_values.refresh(warehouse)) == ["filter values"]
    monkeypatch.undo()

    (sql,) = read
    # The earlier table and the orders' values, read from the appended file only.
    assert "FROM customers" not in sql and "FROM surveys" not in sql and "FROM orders" in sql
    values = dimension_values(QueryGateway(warehouse))
    assert values["channel"] == ["App", "Kiosk", "web"]
    assert values["product_category"] == ["App", "Kiosk", "web"]
    assert values == _from_rows(QueryGateway(warehouse), monkeypatch)
