"""The filter menus' values per data version: the same lists as from the rows."""

from __future__ import annotations

import shutil

import pytest

from analytics import derived, filter_values, rollups
from analytics.filters import dimension_values
from analytics.ingest.pipeline import ingest
from analytics.warehouse import Access, QueryGateway, Warehouse

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
