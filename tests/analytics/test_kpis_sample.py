"""The KPI engine recovers the sample company's planted truths (data/sample/README.md)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from analytics.filters import Filters
from analytics.kpis import trend
from analytics.warehouse import QueryGateway


@pytest.fixture(scope="module")
def quarterly_nps(sample_warehouse) -> dict[str, dict]:
    table = trend(
        QueryGateway(sample_warehouse),
        ["nps"],
        Filters(start=date(2023, 1, 1), end=date(2025, 12, 31)),
        "quarter",
    )
    return {row["period"]: row for row in table.iter_rows(named=True)}


def test_the_planted_nps_drop_is_reported_as_significant(quarterly_nps):
    before, after = quarterly_nps["2025-Q1"], quarterly_nps["2025-Q2"]

    assert round(before["value"], 1) == 28.4
    assert round(after["value"], 1) == 11.9
    assert after["delta"] == pytest.approx(after["value"] - before["value"])
    assert after["delta_significant"] is True
    assert after["delta_p"] < 0.001
    assert after["yoy_significant"] is True  # and against 2024-Q2 too


@pytest.mark.parametrize(("quarter", "delta"), [("2024-Q2", -4.1), ("2025-Q4", -4.0)])
def test_an_ordinary_quarter_to_quarter_wobble_is_not(quarterly_nps, quarter, delta):
    row = quarterly_nps[quarter]

    assert round(row["delta"], 1) == delta
    assert row["delta_significant"] is False


def test_breakdown_groups_add_up_to_the_total_for_counts(sample_warehouse):
    gateway = QueryGateway(sample_warehouse)
    filters = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31))
    total = trend(gateway, ["orders", "revenue"], filters, "quarter")
    by_region = trend(gateway, ["orders", "revenue"], filters, "quarter", by="region")

    summed = by_region.group_by("kpi", "period").agg(pl.col("value").sum())
    joined = total.join(summed, on=["kpi", "period"], suffix="_groups")
    assert joined.height == 8
    for row in joined.iter_rows(named=True):
        assert row["value_groups"] == pytest.approx(row["value"])
