"""The story in reading order: the sections of the incident quarter and of a calm one, their
messages written from the data, and the replay line that names the data versions."""

from __future__ import annotations

import polars as pl
import pytest

from analytics import derived, review
from analytics.review import story
from analytics.review.story import Section
from analytics.warehouse import QueryGateway


@pytest.fixture(scope="module")
def gateway(sample_warehouse) -> QueryGateway:
    derived.refresh(sample_warehouse)
    return QueryGateway(sample_warehouse)


@pytest.mark.slow
def test_the_incident_quarter_reads_in_order_with_a_slide_per_change(gateway):
    found = review.quarterly_review(gateway, "2025-Q2")
    parts = story.sections(found)

    assert [p.key for p in parts] == [
        "summary", "scorecard", "kpi-nps", "kpi-csat", "kpi-retention_rate",
        "kpi-active_customers", "kpi-orders", "kpi-tickets", "groups", "themes", "tickets",
        "migration", "pain_points", "at_risk", "about",
    ]  # fmt: skip
    summary, _, nps = parts[:3]
    assert summary.message == "6 headline KPIs changed significantly from 2025-Q1."
    assert summary.points[0] == found.highlights[0].text
    assert nps.message == found.highlights[0].text and nps.chart == "kpi_trend"
    assert nps.data is not None and nps.data["period"].to_list() == [
        "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2",
    ]  # fmt: skip
    by_key = {p.key: p for p in parts}
    assert by_key["themes"].message == (
        "Detractor comments about delivery rose from 23% to 60% of detractor comments."
    )
    assert by_key["tickets"].message == (
        "Delivery tickets rose from 19% to 54% of tickets (478 tickets)."
    )
    assert by_key["pain_points"].message.startswith(
        "The pain point that worsened most: service (score 0.55 to 0.65; detractors among "
        "its answers 11% to 38%)"
    )
    assert by_key["themes"].link == "/feedback?fgroup=detractor&fquarter=2025-Q2"


@pytest.mark.slow
def test_the_about_page_says_how_to_reproduce_the_review(gateway):
    found = review.quarterly_review(gateway, "2025-Q2")
    about = story.sections(found)[-1]
    versions = ",".join(f"{k}={v}" for k, v in gateway.warehouse.versions().items())
    assert found.replay == versions
    assert about.points[1] == (
        "Reproduce it after new loads with: python -m analytics report --quarter 2025-Q2 "
        f"--as-of-versions {versions} --format pdf"
    )
    assert story.subtitle(found) == "Compared with 2025-Q1 and 2024-Q2 · all customers"


@pytest.mark.slow
def test_a_quarter_without_significant_changes_says_so_first(gateway, monkeypatch):
    found = review.quarterly_review(gateway, "2025-Q4")
    calm = found.scorecard.with_columns(delta_significant=pl.lit(False))
    quiet = review.Review(
        found.quarter, found.data_versions, calm,
        [h for h in found.highlights if not h.significant] or [
            review.core._highlights(calm, "2025-Q4", review.core._Causes(None, None))[0]
        ],
        found.movers, found.trend, found.filters,
    )  # fmt: skip
    summary = story.sections(quiet)[0]
    assert summary.message.startswith("No headline KPI changed significantly from 2025-Q3")
    assert summary.points == []
    assert not any(p.key.startswith("kpi-") for p in story.sections(quiet))


def _migration(rows: list[tuple[str, str, int]]) -> Section | None:
    table = pl.DataFrame(
        rows, schema=["from_segment", "to_segment", "customers"], orient="row"
    ).with_columns(share=pl.lit(0.0), hidden=pl.lit(None, pl.String))
    found = review.Review(
        "2025-Q2", {}, pl.DataFrame(), [], {"segment_migration": table}, pl.DataFrame()
    )
    return story._migration(found)


def test_migration_counts_moves_up_down_and_first_purchases():
    part = _migration(
        [("Champions", "Loyal", 30), ("Loyal", "Champions", 10), ("Loyal", "Loyal", 50),
         ("Prospects", "New", 7), ("At risk", "Lost", 5)]
    )  # fmt: skip
    assert part is not None
    assert part.message == (
        "10 customers moved to a better segment, 35 to a worse one and 7 bought for the "
        "first time; the largest move: 30 Champions became Loyal."
    )
