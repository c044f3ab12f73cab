"""Derived tables in one place: after a load, everything is built once, and nothing twice."""

from __future__ import annotations

from analytics import derived, rollups, segments
from analytics.settings import load_settings


def test_refresh_builds_the_rollups_and_the_segmentation_once(tiny_warehouse):
    assert derived.pending(tiny_warehouse)

    base = derived.refresh_base(tiny_warehouse)
    # The tiny company has no tickets; the sidebar's menus come with the rollups.
    assert set(base) == {"orders", "surveys", "filter values"}
    assert derived.pending(tiny_warehouse)  # the rest is still to come

    rest = derived.refresh_rest(tiny_warehouse)
    assert "segments" in rest and "orders by channel" in rest
    assert "orders by customer" in rest and "surveys by customer" in rest
    assert not derived.pending(tiny_warehouse)
    assert derived.refresh(tiny_warehouse) == {}
    assert rollups.current(tiny_warehouse, "orders") is not None
    assert segments.current(tiny_warehouse) is not None


def test_value_settings_come_from_the_settings_table():
    settings = load_settings({"TOUCHPOINT_CLV_MARGIN": "0.4", "TOUCHPOINT_CLV_HORIZON_DAYS": "180"})

    assert derived.value_settings(settings) == segments.ValueSettings(0.4, 0.10, 180)


def test_broken_journey_settings_skip_the_journeys_and_build_the_rest(tiny_warehouse):
    from analytics import derived
    from analytics.journeys.stages import SETTINGS_FILE

    (tiny_warehouse.root / SETTINGS_FILE).parent.mkdir()
    (tiny_warehouse.root / SETTINGS_FILE).write_text("{broken")

    built = derived.refresh(tiny_warehouse)

    assert "journeys" not in built and "segments" in built
    assert not derived.pending(tiny_warehouse)


def test_an_append_builds_the_months_per_segment_for_the_new_segmentation_only(
    tiny_warehouse, tmp_path, monkeypatch
):
    import shutil
    from datetime import timedelta

    import polars as pl

    from analytics.rollups import build
    from analytics.warehouse import QueryGateway, Warehouse

    derived.refresh(tiny_warehouse)
    shutil.copytree(tiny_warehouse.root, tmp_path / "copy")
    copy = Warehouse(tmp_path / "copy")
    orders = QueryGateway(copy).query("SELECT * FROM orders ORDER BY order_id LIMIT 3")
    last = QueryGateway(copy).query("SELECT max(order_date) FROM orders").item()
    copy.commit(
        "orders",
        orders.with_columns(
            order_id=pl.col("order_id") + "-again", order_date=pl.lit(last + timedelta(days=1))
        ),
        mode="append",
        metadata={"test": 1},
    )
    segmented: list[str | None] = []
    later_parts = build.later_parts

    def recorded(found, segments_file=None):
        segmented.append(None if segments_file is None else segments_file.name)
        return later_parts(found, segments_file)

    monkeypatch.setattr(build, "later_parts", recorded)
    assert set(derived.refresh_base(copy)) <= {"orders", "orders (appended)", "filter values"}
    rest = derived.refresh_rest(copy)

    new = segments.current(copy)
    assert new is not None and "segments" in rest
    # Before the new segmentation: no segment parts; after it: the new one's.
    assert segmented == [None, f"segments-{new.key}.customers.parquet"]
    assert "orders by segment" in rest
    assert not derived.pending(copy)
