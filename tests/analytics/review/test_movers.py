"""What moved: on the sample company's incident quarter the detractor theme and the ticket
category that grew are delivery's, the worsened journey place is the service stage, the
migration accounts for every customer, and a hand-made pain table is compared exactly."""

from __future__ import annotations

import polars as pl
import pytest

from analytics import derived, review, stats
from analytics.filters import Filters
from analytics.journeys import views as journey_views
from analytics.review import movers
from analytics.warehouse import QueryGateway


@pytest.fixture(scope="module")
def incident(sample_warehouse) -> review.Review:
    derived.refresh(sample_warehouse)
    return review.quarterly_review(QueryGateway(sample_warehouse), "2025-Q2")


@pytest.mark.slow
def test_every_part_is_there_once_everything_is_built(incident):
    assert list(incident.movers) == [
        "region", "acquisition_channel", "segment", "themes", "ticket_categories",
        "segment_migration", "customers_at_risk", "pain_points",
    ]  # fmt: skip
    assert incident.left_out == []


@pytest.mark.slow
def test_the_incident_shows_in_themes_tickets_and_the_service_stage(incident):
    theme = incident.movers["themes"].row(0, named=True)
    assert theme["label"].split(" · ")[0] == "delivery"
    assert (round(theme["share_previous"], 3), round(theme["share"], 3)) == (0.227, 0.599)
    category = incident.movers["ticket_categories"].row(0, named=True)
    assert (category["category"], category["tickets"]) == ("Delivery", 478)
    worst = incident.movers["pain_points"].row(0, named=True)
    assert (worst["stage"], worst["touchpoint"]) == ("service", None)
    assert round(worst["dissatisfaction_previous"], 3) == 0.114
    assert round(worst["dissatisfaction"], 3) == 0.378
    assert worst["change"] == pytest.approx(worst["score"] - worst["score_previous"])


@pytest.mark.slow
def test_movers_by_group_leave_out_small_samples_and_rank_by_size(incident):
    by_segment = incident.movers["segment"].filter(pl.col("kpi") == "nps")
    assert by_segment["group"].to_list() == ["Potential loyalists", "Champions", "At risk"]
    sizes = by_segment["delta"].abs().to_list()
    assert sizes == sorted(sizes, reverse=True)
    region = incident.movers["region"].filter(pl.col("kpi") == "nps").row(0, named=True)
    assert (region["group"], round(region["delta"], 1)) == ("APAC", -26.9)


@pytest.mark.slow
def test_migration_accounts_for_every_customer_in_both_quarters(incident, sample_warehouse):
    table = incident.movers["segment_migration"]
    assert table["hidden"].null_count() == table.height
    assert int(table["customers"].sum()) == 13_667
    shares = table.group_by("from_segment").agg(pl.col("share").sum())
    assert shares["share"].round(6).unique().to_list() == [100.0]


@pytest.mark.slow
def test_customers_at_risk_are_the_most_valuable_fading_ones(incident):
    people = incident.movers["customers_at_risk"]
    assert people.height == movers.AT_RISK
    assert people["customer_id"][0] == "C03618"
    assert people["value_at_risk"].to_list() == sorted(people["value_at_risk"], reverse=True)
    assert (people["p_alive_now"] < people["p_alive_before"]).all()


def test_a_missing_build_is_left_out_and_said(tiny_warehouse):
    found = review.quarterly_review(QueryGateway(tiny_warehouse), "2024-Q2")
    assert "themes" not in found.movers and "pain_points" not in found.movers
    assert found.left_out == [
        "themes: the feedback analysis of this data is not built",
        "segments, migration and customers at risk: no segmentation is built",
        "journey pain points: the journeys of this data are not built",
    ]


def test_worsened_pain_points_compare_the_two_quarters_exactly(monkeypatch):
    def table(stage_rows):
        return pl.DataFrame(
            stage_rows,
            schema=["stage", "touchpoint", "customers", "score", "drop_off", "dissatisfaction",
                    "reason"],
            orient="row",
        )  # fmt: skip

    now = [
        ("service", None, 200, 0.6, 0.5, 0.4, "r1"),
        ("purchase", "Cart", 100, 0.2, 0.3, None, "r2"),
        ("loyalty", None, 50, 0.1, None, 0.1, "r3"),
    ]
    before = [
        ("service", None, 100, 0.4, 0.4, 0.1, "x"),
        ("purchase", "Cart", 120, 0.25, 0.2, None, "y"),
        ("loyalty", None, 40, 0.05, None, 0.05, "z"),
    ]
    quarters = {"2025-04-01": table(now), "2025-01-01": table(before)}
    monkeypatch.setattr(
        journey_views,
        "pain_table",
        lambda gateway, stored, filters: quarters[str(filters.start)],
    )
    found = movers.worsened_pain_points(None, None, "2025-Q2", Filters())  # type: ignore[arg-type]

    assert found.select("stage", "touchpoint").rows() == [("service", None), ("loyalty", None)]
    service = found.row(0, named=True)
    assert service["change"] == pytest.approx(0.2)
    assert service["drop_off_p"] == pytest.approx(stats.proportion_change_p((40, 100), (100, 200)))
    assert found.row(1, named=True)["drop_off_p"] is None  # the last stage has no drop-off
