"""Journeys on a hand-made fixture with exact steps, funnel counts, timings and pain points,
and the sample company's planted Paid Social drop-off."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from analytics.journeys import (
    STAGES,
    JourneySettings,
    funnel,
    measures,
    merge_steps,
    pain_points,
    reached,
    read_steps,
)
from analytics.warehouse import QueryGateway

DAY = 86_400


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 1, day, hour)


def fixture_steps() -> pl.DataFrame:
    events = pl.DataFrame(
        [
            ("A", at(1), "Social ad", None),
            ("A", at(2), "Product page", "consideration"),
            ("A", at(5), "Welcome email", None),
            ("B", at(1), "Search ad", "Awareness"),
            ("B", at(3), "Product page", "consideration"),
            ("B", at(4, 12), "Checkout", "purchase"),
            ("C", at(2), "Social ad", None),
            ("C", at(2, 12), "Size guide", None),
            ("C", at(4), "Mystery", None),
        ],
        schema=["customer_id", "at", "touchpoint", "stage"],
        orient="row",
    )
    orders = pl.DataFrame({"customer_id": ["A", "B"], "day": [date(2024, 1, 3), date(2024, 1, 4)]})
    surveys = pl.DataFrame(
        {"customer_id": ["A", "C"], "at": [at(6), at(3)], "nps": [3, 10], "csat": [2, 5]}
    )
    tickets = pl.DataFrame({"customer_id": ["A"], "at": [at(7)]})
    return merge_steps(events, orders, surveys, tickets, JourneySettings())


def test_sources_merge_into_one_ordered_journey_per_customer():
    steps = fixture_steps()

    a = steps.filter(pl.col("customer_id") == "A")
    assert a.select("touchpoint", "stage", "source", "in_path").rows() == [
        ("Social ad", "awareness", "event", True),  # stage from the touchpoint map
        ("Product page", "consideration", "event", True),
        ("Purchase", "purchase", "order", True),  # no checkout event that day
        ("Welcome email", "onboarding", "event", True),
        ("Survey", "onboarding", "survey", True),  # the stage the customer was in
        ("Support ticket", "service", "ticket", True),
    ]
    assert a["at"][2] == datetime(2024, 1, 3, 23, 59, 59)  # an order ends its day
    assert a.filter(pl.col("source") != "event")["context_touchpoint"].to_list() == [
        "Purchase",
        "Welcome email",
        "Welcome email",
    ]
    b = steps.filter(pl.col("customer_id") == "B")
    # The export's own stage wins (in any case); the order of the checkout day is its echo.
    assert b.select("touchpoint", "stage", "in_path").rows() == [
        ("Search ad", "awareness", True),
        ("Product page", "consideration", True),
        ("Checkout", "purchase", True),
        ("Purchase", "purchase", False),
    ]
    c = steps.filter(pl.col("customer_id") == "C")
    assert c.select("touchpoint", "stage", "context_touchpoint").rows() == [
        ("Social ad", "awareness", "Social ad"),
        ("Size guide", "consideration", "Size guide"),
        ("Survey", "consideration", "Size guide"),
        ("Mystery", None, "Mystery"),  # kept, in no stage
    ]


def test_the_ordered_funnel_counts_conversions_and_timings():
    steps = fixture_steps()
    groups = pl.DataFrame({"customer_id": ["A", "B", "C"], "group": ["all"] * 3})

    table = funnel(reached(steps, STAGES), groups, STAGES)

    assert table.select("step", "stage", "customers").rows() == [
        (1, "awareness", 3),
        (2, "consideration", 3),
        (3, "purchase", 2),
        (4, "onboarding", 1),
        (5, "service", 1),
        (6, "loyalty", 0),
    ]
    assert table["conversion_from_previous"].to_list() == [None, 1.0, 2 / 3, 0.5, 1.0, 0.0]
    assert table["conversion_from_start"].to_list() == [1.0, 1.0, 2 / 3, 1 / 3, 1 / 3, 0.0]
    # consideration: A 1 day, B 2 days, C half a day after awareness
    assert table["median_days_from_previous"][1] == pytest.approx(1.0)
    assert table["p90_days_from_previous"][1] == pytest.approx(1.8)
    # purchase: A's order at the end of 3 Jan (a day and 86,399 s), B's checkout 1.5 days
    a_purchase = 1 + 86_399 / DAY
    assert table["median_days_from_previous"][2] == pytest.approx((1.5 + a_purchase) / 2)
    assert table["p90_days_from_previous"][2] == pytest.approx(1.5 + 0.9 * (a_purchase - 1.5))
    assert table["median_days_from_previous"][3] == pytest.approx(1 + 1 / DAY)
    assert table["median_days_from_previous"][4] == pytest.approx(2.0)
    assert table["median_days_from_previous"][5] is None


def test_a_stage_reached_before_the_previous_one_does_not_count():
    events = pl.DataFrame(
        [("A", at(1), "Product page", None), ("A", at(2), "Social ad", None)],
        schema=["customer_id", "at", "touchpoint", "stage"],
        orient="row",
    )
    empty_orders = pl.DataFrame(schema={"customer_id": pl.String, "day": pl.Date})
    no_surveys = pl.DataFrame(
        schema={"customer_id": pl.String, "at": pl.Datetime, "nps": pl.Int64, "csat": pl.Int64}
    )
    no_tickets = pl.DataFrame(schema={"customer_id": pl.String, "at": pl.Datetime})
    steps = merge_steps(events, empty_orders, no_surveys, no_tickets, JourneySettings())

    table = funnel(
        reached(steps, STAGES), pl.DataFrame({"customer_id": ["A"], "group": ["x"]}), STAGES
    )

    assert table["customers"].to_list()[:2] == [1, 0]


def test_the_map_carries_the_mean_sentiment_of_comments_where_they_were_given():
    steps = fixture_steps().with_columns(
        sentiment=pl.when((pl.col("source") == "survey") & (pl.col("customer_id") == "A"))
        .then(-0.5)
        .when((pl.col("source") == "survey") & (pl.col("customer_id") == "C"))
        .then(0.8)
    )
    groups = pl.DataFrame({"customer_id": ["A", "B", "C"], "group": ["all"] * 3})
    table = measures(steps, reached(steps, STAGES), groups, STAGES)

    whole = pain_points(table, STAGES, min_customers=1, min_answers=1).filter(
        pl.col("touchpoint").is_null()
    )
    by_stage = dict(whole.select("stage", "avg_sentiment").iter_rows())
    # A answered in onboarding (after the welcome email), C in consideration.
    assert by_stage == {"consideration": 0.8, "onboarding": -0.5, "purchase": None,
                        "service": None, "awareness": None}  # fmt: skip
    strict = pain_points(table, STAGES, min_customers=1, min_answers=2)
    assert strict["avg_sentiment"].is_null().all()


def test_pain_points_rank_by_the_documented_score_with_reasons():
    steps = fixture_steps()
    groups = pl.DataFrame({"customer_id": ["A", "B", "C"], "group": ["all"] * 3})

    table = measures(steps, reached(steps, STAGES), groups, STAGES)
    ranked = pain_points(table, STAGES, min_customers=1, min_answers=1)

    assert ranked.select("rank", "stage", "touchpoint", "score").rows()[:7] == [
        (1, "consideration", "Size guide", 0.5),  # its one customer never bought
        (2, "purchase", "Checkout", 0.5),  # B bought and went no further
        (3, "onboarding", None, 0.5),  # one detractor (0.3) and one ticket each (0.2)
        (4, "onboarding", "Welcome email", 0.5),
        (5, "service", None, 0.5),
        (6, "purchase", None, 0.25),
        (7, "consideration", None, pytest.approx(0.5 / 3)),
    ]
    onboarding = ranked.row(2, named=True)
    assert onboarding["reason"] == (
        "100% of 1 NPS answers here are detractors; 1.00 tickets per customer; "
        "0% of the 1 customers at onboarding never reached service."
    )
    assert onboarding["avg_nps"] == 3.0 and onboarding["avg_csat"] == 2.0
    # With two answers needed, one answer gives no mean and no detractor share.
    strict = pain_points(table, STAGES, min_customers=1, min_answers=2)
    place = strict.filter(pl.col("stage") == "onboarding", pl.col("touchpoint").is_null())
    assert place.select("avg_nps", "avg_csat", "dissatisfaction").row(0) == (None, None, None)


def test_compared_groups_count_what_exceeds_everyone_else():
    steps = fixture_steps()
    groups = pl.DataFrame({"customer_id": ["A", "B", "C"], "group": ["Social", "Search", "Social"]})

    table = measures(steps, reached(steps, STAGES), groups, STAGES)
    ranked = pain_points(table, STAGES, min_customers=1, min_answers=1)

    social = ranked.filter(pl.col("group") == "Social")
    top = social.row(0, named=True)
    # Social loses C at consideration (1 of 2) where Search loses no one.
    assert (top["stage"], top["touchpoint"], top["score"]) == ("consideration", "Size guide", 0.5)
    stage = social.filter(pl.col("stage") == "consideration", pl.col("touchpoint").is_null())
    assert stage["score"].to_list() == [0.25]
    assert stage["reason"].to_list() == [
        "50% of the 2 customers at consideration never reached purchase (everyone else: 0%); "
        "0% of 1 NPS answers here are detractors."
    ]


@pytest.mark.slow
def test_the_planted_paid_social_drop_is_the_top_pain_point(sample_warehouse):
    gateway = QueryGateway(sample_warehouse)
    steps = read_steps(gateway, sample_warehouse, JourneySettings())
    groups = gateway.query(
        'SELECT customer_id, acquisition_channel AS "group" FROM customers '
        "WHERE acquisition_channel IS NOT NULL"
    )
    reach = reached(steps, STAGES)

    table = funnel(reach, groups, STAGES)
    to_purchase = {
        row["group"]: row["conversion_from_previous"]
        for row in table.filter(pl.col("stage") == "purchase").iter_rows(named=True)
    }
    ranked = pain_points(measures(steps, reach, groups, STAGES), STAGES)

    assert round(to_purchase.pop("Paid Social"), 3) == 0.415  # data/sample/README.md
    assert min(to_purchase.values()) > 0.9
    top = ranked.filter(pl.col("group") == "Paid Social").row(0, named=True)
    assert top["stage"] == "consideration" and top["rank"] == 1
    assert "never reached purchase" in top["reason"]
    for group in to_purchase:  # nowhere else is consideration the worst place
        assert ranked.filter(pl.col("group") == group).row(0, named=True)["stage"] != (
            "consideration"
        )


def test_the_documented_score_is_the_one_computed():
    from pathlib import Path

    from analytics.journeys.painpoints import MIN_ANSWERS, MIN_CUSTOMERS, WEIGHTS

    text = (Path(__file__).resolve().parents[3] / "docs" / "journeys.md").read_text()
    formula = " + ".join(
        f"{WEIGHTS[name]} × {label}"
        for name, label in (
            ("drop_off", "drop-off"),
            ("dissatisfaction", "dissatisfaction"),
            ("tickets", "tickets"),
        )
    )
    assert f"**Score** = {formula}" in text
    assert f"counted from {MIN_ANSWERS} answers on" in text
    assert f"fewer than {MIN_CUSTOMERS}\ncustomers are not ranked" in text


def test_paths_from_each_anchor_with_counts_shares_and_conversion():
    from analytics.journeys.paths import PathOptions, journey_path_counts, path_table

    steps = fixture_steps()

    start = path_table(journey_path_counts(steps, PathOptions(steps=3)))
    assert start.rows() == [
        (["Search ad", "Product page", "Checkout"], 1, 1 / 3, 1.0),
        (["Social ad", "Product page", "Purchase"], 1, 1 / 3, 1.0),
        (["Social ad", "Size guide", "Survey"], 1, 1 / 3, 0.0),
    ]
    after_first = path_table(
        journey_path_counts(steps, PathOptions(steps=3, anchor="first_purchase"))
    )
    assert after_first.rows() == [
        (["Checkout"], 1, 0.5, 0.0),
        (["Purchase", "Welcome email", "Survey"], 1, 0.5, 0.0),
    ]
    never = path_table(journey_path_counts(steps, PathOptions(steps=3, anchor="no_purchase")))
    assert never.rows() == [(["Size guide", "Survey", "Mystery"], 1, 1.0, 0.0)]


def test_rare_touchpoints_become_other_and_repeats_collapse():
    from analytics.journeys.paths import PathOptions, journey_paths

    steps = fixture_steps()
    grouped = journey_paths(steps, PathOptions(steps=3, max_nodes=2)).sort("customer_id")
    assert grouped["path"].to_list() == [
        ["Social ad", "Product page", "Other"],
        ["Other", "Product page", "Other"],
        ["Social ad", "Other"],  # "Other > Other" collapsed
    ]
    events = pl.DataFrame(
        [("A", at(1), "Newsletter", None), ("A", at(2), "Newsletter", None),
         ("A", at(3), "Product page", None)],
        schema=["customer_id", "at", "touchpoint", "stage"],
        orient="row",
    )  # fmt: skip
    none = pl.DataFrame(schema={"customer_id": pl.String, "day": pl.Date})
    no_surveys = pl.DataFrame(
        schema={"customer_id": pl.String, "at": pl.Datetime, "nps": pl.Int64, "csat": pl.Int64}
    )
    no_tickets = pl.DataFrame(schema={"customer_id": pl.String, "at": pl.Datetime})
    repeats = merge_steps(events, none, no_surveys, no_tickets, JourneySettings())
    assert journey_paths(repeats, PathOptions())["path"].to_list() == [
        ["Newsletter", "Product page"]
    ]
    assert journey_paths(repeats, PathOptions(collapse=False))["path"].to_list() == [
        ["Newsletter", "Newsletter", "Product page"]
    ]


def test_grouping_collapses_other_in_every_path_or_in_none():
    from analytics.journeys.paths import PathOptions, customer_paths, positions

    cut = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "start": [["Ad", "Blog", "Cart"], ["Ad", "Deal", "Cart"], ["Ad", "Blog", "Deal"]],
            "bought": [True, False, False],
            "bought_again": [False, False, False],
            "detractor": [False, True, False],
        }
    )
    every = customer_paths(positions(cut), PathOptions(steps=3, max_nodes=1)).sort("customer_id")
    assert every.rows() == [
        ("A", ["Ad", "Other"], True, False),
        ("B", ["Ad", "Other"], False, True),
        ("C", ["Ad", "Other"], False, False),
    ]
    none = customer_paths(positions(cut), PathOptions(steps=3, max_nodes=3)).sort("customer_id")
    assert none["path"].to_list() == [
        ["Ad", "Blog", "Cart"], ["Ad", "Other", "Cart"], ["Ad", "Blog", "Other"]
    ]  # fmt: skip


def test_links_give_step_to_step_and_overall_conversion():
    from analytics.journeys.paths import PathOptions, journey_path_counts, link_table

    links = link_table(journey_path_counts(fixture_steps(), PathOptions(steps=3)))

    assert links.select(
        "step", "source", "target", "customers", "conversion_step", "conversion_overall"
    ).rows() == [
        (1, "Search ad", "Product page", 1, 1.0, 1 / 3),
        (1, "Social ad", "Product page", 1, 0.5, 1 / 3),
        (1, "Social ad", "Size guide", 1, 0.5, 1 / 3),
        (2, "Product page", "Checkout", 1, 0.5, 1 / 3),
        (2, "Product page", "Purchase", 1, 0.5, 1 / 3),
        (2, "Size guide", "Survey", 1, 1.0, 1 / 3),
    ]
    # A's journey holds a detractor answer (after these steps); B's and C's do not.
    assert links.filter(pl.col("source") == "Social ad")["detractors"].to_list() == [1.0, 0.0]


def test_the_steps_take_the_sentiment_the_feedback_analysis_scored(sample_warehouse, monkeypatch):
    from analytics import feedback
    from analytics.feedback import sentiment
    from analytics.feedback import store as feedback_store

    feedback.refresh(sample_warehouse)
    gateway = QueryGateway(sample_warehouse)
    monkeypatch.setattr(feedback_store, "known_scores", lambda warehouse: None)
    afresh = read_steps(gateway, sample_warehouse, JourneySettings())
    monkeypatch.undo()
    scored: list[str] = []
    real = sentiment.score_all

    def counting(texts):
        scored.extend(texts)
        return real(texts)

    monkeypatch.setattr(sentiment, "score_all", counting)

    reused = read_steps(gateway, sample_warehouse, JourneySettings())

    assert scored == []  # every comment's text was scored by the feedback analysis
    # Customers come in the order the rows were read (no keys): compare as sets of steps.
    assert reused.sort(pl.all()).equals(afresh.sort(pl.all()))
    assert reused["sentiment"].is_not_null().sum() > 1_000


def test_a_load_of_orders_keeps_the_touchpoint_counts_and_a_load_of_events_counts_again(
    small_company, tmp_path, monkeypatch
):
    import shutil

    from analytics import journeys
    from analytics.ingest.pipeline import ingest
    from analytics.journeys import store
    from analytics.warehouse import Warehouse

    shutil.copytree(small_company.root, tmp_path / "warehouse")
    warehouse = Warehouse(tmp_path / "warehouse")
    first = journeys.current(warehouse)
    assert first is not None
    kept = pl.read_parquet(first.path("touchpoints"))
    someone = QueryGateway(warehouse).query("SELECT min(customer_id) FROM customers").item()
    counted: list[int] = []
    real = store.touchpoint_counts
    monkeypatch.setattr(store, "touchpoint_counts", lambda g: counted.append(1) or real(g))

    order = f"order_id,customer_id,order_date,amount,status\nNEW1,{someone},2025-12-31,20,\n"
    assert ingest(order.encode(), dataset_name="orders", warehouse=warehouse, user="t").loaded
    journeys.refresh(warehouse)

    second = journeys.current(warehouse)
    assert second is not None and second.key != first.key
    assert counted == []  # the same events: their counts were kept
    assert pl.read_parquet(second.path("touchpoints")).equals(kept)

    event = f"customer_id,occurred_at,touchpoint,stage\n{someone},2025-12-31 12:00:00,Blog post,\n"
    assert ingest(event.encode(), dataset_name="events", warehouse=warehouse, user="t").loaded
    journeys.refresh(warehouse)

    third = journeys.current(warehouse)
    assert third is not None and counted == [1]
    counts = pl.read_parquet(third.path("touchpoints"))
    assert counts["events"].sum() == kept["events"].sum() + 1
    order_by = ["touchpoint", "exported"]
    assert counts.sort(order_by).equals(real(QueryGateway(warehouse)).sort(order_by))
