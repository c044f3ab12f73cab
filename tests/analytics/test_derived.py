"""Derived tables in one place: after a load, everything is built once, and nothing twice."""

from __future__ import annotations

from analytics import derived, rollups, segments
from analytics.settings import load_settings


def test_refresh_builds_the_rollups_and_the_segmentation_once(tiny_warehouse):
    assert derived.pending(tiny_warehouse)

    base = derived.refresh_base(tiny_warehouse)
    assert set(base) == {"orders", "surveys"}  # the tiny company has no tickets
    assert derived.pending(tiny_warehouse)  # the rest is still to come

    rest = derived.refresh_rest(tiny_warehouse)
    assert "segments" in rest and "orders by channel" in rest
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
