"""The months per segment carried over from an earlier segmentation's equal a full build's.

A random company (the one of `test_update`, with enough customers for clusters) takes random
sequences of loads; after each, the rollups, the segmentation and the rollups' parts per
segment are brought up to date as a load does (`derived.refresh_rest`), and every part per
segment of every family is compared with the parts a full build makes for the same
segmentation in a scratch warehouse.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import rollups, segments
from analytics.rollups import segmented
from analytics.rollups.layout import SEGMENTS_PART
from analytics.warehouse import SEGMENTS_FOLDER, Warehouse
from tests.analytics.rollups.test_update import (
    FIRST_DAY,
    LOADS,
    Company,
    _last_day,
    _load,
    _normal,
    start_company,
)
from tests.scratch_warehouse import built_in_full
from tests.slow_properties import slow_examples


def _start(tmp: Path, seed: int) -> tuple[Warehouse, Company]:
    """Enough customers for clusters, segmented as a load does."""
    return start_company(tmp, seed, (150, 900, 120, 80), _refresh)


def _refresh(warehouse: Warehouse) -> dict[str, float]:
    """As a load does: the rollups, then the segmentation, then the parts per segment."""
    built = rollups.refresh(warehouse, by_segment=False)
    segments.refresh(warehouse)
    return built | rollups.refresh(warehouse)


def _segment_parts(rollup: rollups.Rollup) -> list[str]:
    stem = f"{rollup.family}-{rollup.key}."
    names = [p.name.removeprefix(stem) for p in rollup.folder.glob(f"{stem}*.parquet")]
    return sorted(n.removesuffix(".parquet") for n in names if SEGMENTS_PART in n)


def assert_segment_parts_same_as_full(warehouse: Warehouse, scratch: Path) -> None:
    """Every part per segment of the current rollups equals a full build's, for the same
    segmentation, in a scratch warehouse."""

    def build(full: Warehouse) -> None:
        shutil.copytree(
            warehouse.root / SEGMENTS_FOLDER, full.root / SEGMENTS_FOLDER, copy_function=os.link
        )
        rollups.refresh(full)

    full = built_in_full(warehouse, scratch, build)
    for family in rollups.FAMILIES:
        mine, theirs = rollups.current(warehouse, family), rollups.current(full, family)
        assert mine is not None and theirs is not None
        assert _segment_parts(mine) == _segment_parts(theirs)
        assert _segment_parts(theirs)  # per the segmentation: there is one
        for part in _segment_parts(theirs):
            assert_frame_equal(
                _normal(mine, part),
                _normal(theirs, part),
                check_dtypes=False,
                rel_tol=1e-9,
                abs_tol=1e-6,
            )
            assert pl.read_parquet_schema(mine.path(part)) == pl.read_parquet_schema(
                theirs.path(part)
            )


@slow_examples(6)
@given(seed=st.integers(0, 10_000), loads=LOADS)
def test_carried_parts_per_segment_equal_full_builds(tmp_path_factory, seed, loads):
    tmp = tmp_path_factory.mktemp("segmented")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segmented, "MOST_MOVED", 1.0)  # carried whatever moved, to test it
        warehouse, company = _start(tmp, seed)
        for what in loads:
            _load(warehouse, company, what)
            _refresh(warehouse)
            assert_segment_parts_same_as_full(warehouse, tmp / "full")


@pytest.fixture
def started(tmp_path) -> tuple[Warehouse, Company]:
    return _start(tmp_path, 11)


def test_an_append_at_the_end_carries_every_familys_parts(started, tmp_path, monkeypatch):
    warehouse, company = started
    monkeypatch.setattr(segmented, "MOST_MOVED", 1.0)
    last = _last_day(warehouse, "orders")
    warehouse.commit(
        "orders", company.orders(40, (last, last + timedelta(days=5))), mode="append", metadata={}
    )
    built = _refresh(warehouse)
    assert {
        "orders (appended)",
        "orders by segment (carried)",
        "surveys by segment (carried)",
        "tickets by segment (carried)",
    } <= set(built)
    assert not {"orders by segment", "surveys by segment", "tickets by segment"} & set(built)
    assert_segment_parts_same_as_full(warehouse, tmp_path / "full")
    # Only the current segmentation's parts are left in the current rollups.
    for family in rollups.FAMILIES:
        current = rollups.current(warehouse, family)
        assert current is not None
        assert len({p.split(SEGMENTS_PART)[1] for p in _segment_parts(current)}) == 1


def test_too_many_moved_customers_or_a_replace_build_the_parts_in_full(
    started, tmp_path, monkeypatch
):
    warehouse, company = started
    last = _last_day(warehouse, "orders")
    rows = company.orders(40, (last, last + timedelta(days=5)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segmented, "MOST_MOVED", 0.0)
        warehouse.commit("orders", rows, mode="append", metadata={})
        built = _refresh(warehouse)
    assert "orders by segment" in built and "orders by segment (carried)" not in built
    assert_segment_parts_same_as_full(warehouse, tmp_path / "full")
    monkeypatch.setattr(segmented, "MOST_MOVED", 1.0)
    warehouse.commit("orders", company.orders(500, (FIRST_DAY, last)), mode="replace", metadata={})
    built = _refresh(warehouse)
    # The orders' rows were replaced: nothing to carry them from. Surveys and tickets
    # (the same rows) carry theirs to the new segmentation.
    assert "orders by segment" in built
    assert {"surveys by segment (carried)", "tickets by segment (carried)"} <= set(built)
    assert_segment_parts_same_as_full(warehouse, tmp_path / "full")
