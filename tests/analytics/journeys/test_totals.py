"""The views of everyone a build holds (all dates and every quarter: the funnel and the
map's measures) are the ones computed from the steps, on the sample company and a small
generated one; the views read them only where nothing is compared, filtered or hidden by a
row limit, and then answer exactly as they do computing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import journeys
from analytics.filters import Filters
from analytics.journeys import ALL, funnel, measures, reached, read_steps, totals, views
from analytics.journeys.funnel import in_groups
from analytics.journeys.steps import within
from analytics.periods import period_end, period_label, periods_between
from analytics.review import movers
from analytics.warehouse import FULL_ACCESS, Access, QueryGateway, Warehouse
from tests.slow_properties import slow_examples

VIEWS: dict[str, Callable[..., Any]] = {
    "funnel": views.funnel_table,
    "journey map": views.journey_map,
    "pain points": views.pain_table,
}


def built(company: Warehouse) -> journeys.StoredJourneys:
    stored = journeys.current(company)
    assert stored is not None
    return stored


def held(stored: journeys.StoredJourneys) -> list[tuple[date | None, date | None]]:
    return [
        (None if a is None else date.fromisoformat(a), None if b is None else date.fromisoformat(b))
        for a, b in stored.meta["ranges"]
    ]


def from_the_build_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any view that reads customers or steps fail: what answers reads the build."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("read the customers or steps, not the build's table")

    monkeypatch.setattr(views, "customer_groups", refuse)
    monkeypatch.setattr(views, "journey_steps", refuse)


def test_a_build_holds_all_dates_and_every_quarter_its_steps_touch(company):
    stored = built(company)
    first, last = (datetime.fromisoformat(str(stored.meta[k])).date() for k in ("first", "last"))

    ranges = held(stored)

    assert ranges[0] == (None, None)
    assert ranges[1:] == [
        (q, period_end(q, "quarter")) for q in periods_between(first, last, "quarter")
    ]
    touched = pl.read_parquet(stored.steps_path, columns=["at"]).select(
        pl.col("at").dt.date().dt.truncate("1q").unique()
    )
    assert set(touched["at"]) <= {start for start, _ in ranges[1:]}


def test_the_held_tables_are_every_customers_funnel_and_measures_from_the_steps(company):
    gateway = QueryGateway(company)
    stored = built(company)
    stages = stored.settings.stages
    # Read afresh with customer ids as text: nothing of the build's parts or keys is used.
    every_step = read_steps(gateway, company, stored.settings)
    groups = every_step.select(pl.col("customer_id").unique(), group=pl.lit(ALL))
    funnels = pl.read_parquet(stored.path("funnels"))
    counted = pl.read_parquet(stored.path("measures"))

    for start, end in held(stored):
        steps = within(every_step.lazy(), start, end).collect()
        reach = reached(steps, stages)
        assert_frame_equal(totals.pick(funnels, start, end), funnel(reach, groups, stages))
        assert_frame_equal(totals.pick(counted, start, end), measures(steps, reach, groups, stages))
    everything = totals.pick(funnels, None, None)
    assert (
        everything["customers"][0]
        == every_step.filter(pl.col("stage") == stages[0])["customer_id"].n_unique()
    )


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("access", [FULL_ACCESS, Access(min_group=40)], ids=["analyst", "viewer"])
def test_the_views_of_everyone_read_the_build_and_answer_as_computed(
    company, view, access, monkeypatch
):
    gateway = QueryGateway(company).scoped(access)
    stored = built(company)
    ranges = held(stored)
    chosen = [ranges[0], ranges[1], ranges[-1]]  # all dates, the first and the last quarter
    with monkeypatch.context() as patched:
        from_the_build_only(patched)
        read = [VIEWS[view](gateway, stored, Filters(start=s, end=e)) for s, e in chosen]

    monkeypatch.setattr(totals, "holds", lambda *args: False)
    computed = [VIEWS[view](gateway, stored, Filters(start=s, end=e)) for s, e in chosen]

    for table, expected in zip(read, computed, strict=True):
        assert_frame_equal(table, expected)
    assert not read[0].is_empty()


def test_the_reviews_pain_points_of_two_quarters_read_the_build(company, monkeypatch):
    gateway = QueryGateway(company)
    stored = built(company)
    last_quarter = period_label(held(stored)[-1][0], "quarter")
    with monkeypatch.context() as patched:
        from_the_build_only(patched)
        read = movers.worsened_pain_points(gateway, stored, last_quarter, Filters())

    monkeypatch.setattr(totals, "holds", lambda *args: False)

    assert_frame_equal(read, movers.worsened_pain_points(gateway, stored, last_quarter, Filters()))


@pytest.mark.parametrize(
    ("by", "filters", "access", "days"),
    [
        ("region", Filters(), FULL_ACCESS, None),
        (None, Filters(region=("EMEA",)), FULL_ACCESS, None),
        (None, Filters(), Access(limits=(("region", ("EMEA",)),)), None),
        (None, Filters(), FULL_ACCESS, 45),  # not a quarter
    ],
    ids=["compared", "filtered", "row limits", "other range"],
)
def test_what_the_build_does_not_hold_is_computed(company, by, filters, access, days, monkeypatch):
    gateway = QueryGateway(company).scoped(access)
    stored = built(company)
    if days is not None:
        start = held(stored)[-1][0]
        assert start is not None
        filters = filters.with_range(start, date.fromordinal(start.toordinal() + days))

    def refuse(*args: object) -> pl.DataFrame:
        raise AssertionError("answered from the build's table of everyone")

    monkeypatch.setattr(totals, "pick", refuse)
    for view in VIEWS.values():
        assert not view(gateway, stored, filters, by).is_empty()


@settings(max_examples=80, deadline=None)
@given(
    keys=st.one_of(
        st.integers(1, 12).map(lambda n: list(range(n))),  # every key of a build
        st.lists(st.integers(0, 12), min_size=1, unique=True).map(sorted),
    ),
    data=st.data(),
)
def test_one_group_keeps_the_rows_of_its_customers_with_or_without_a_join(keys, data):
    # Customers mostly below the number of keys: where a gap in the keys matters.
    customers = data.draw(st.lists(st.integers(0, len(keys)), max_size=30))
    frame = pl.DataFrame({"customer_id": customers, "row": range(len(customers))},
                         schema={"customer_id": pl.UInt32, "row": pl.Int64})  # fmt: skip
    groups = pl.DataFrame({"customer_id": keys, "group": "All"},
                          schema={"customer_id": pl.UInt32, "group": pl.String})  # fmt: skip
    chosen = in_groups(frame, groups)

    expected = frame.filter(pl.col("customer_id").is_in(keys)).with_columns(group=pl.lit("All"))
    assert_frame_equal(chosen.sort("row"), expected)


@slow_examples(6)
@given(cuts=st.lists(st.floats(0, 1), max_size=12))
def test_tallies_of_customers_apart_put_together_equal_one_of_everyone(company, cuts):
    """Split at random into sets of whole customers (some sets empty, down to a customer or
    two each), tallied apart and put together: every table is the one counted of everyone
    at once, a reaction at a touchpoint only other customers touched included."""
    stored = built(company)
    stages, ranges = stored.settings.stages, held(stored)
    every_step = pl.read_parquet(stored.steps_path)
    reach, touched, reactions = (
        pl.read_parquet(stored.path(p)) for p in ("reach", "touched", "reactions")
    )
    everyone = totals.everyone(pl.read_parquet(stored.path("customers")))
    customers = everyone.height
    bounds = sorted({0, customers, *(int(c * customers) for c in cuts)})
    tallies = []
    for low, high in itertools.pairwise(bounds):

        def mine(frame: pl.DataFrame, low: int = low, high: int = high) -> pl.DataFrame:
            return frame.filter(pl.col("customer_id").is_between(low, high - 1))

        steps = mine(every_step)
        kept = tuple(mine(frame) for frame in (reach, touched, reactions))
        first, last = steps["at"].min(), steps["at"].max()
        own = totals.held_ranges(first and first.date(), last and last.date())
        tallies.append(totals.tally(steps, *kept, everyone, stages, own))

    put_together = totals.tables(tallies, everyone, stages, ranges)
    everything = totals.tally(every_step, reach, touched, reactions, everyone, stages, ranges)
    at_once = totals.tables([everything], everyone, stages, ranges)

    for part in totals.TABLES:
        assert_frame_equal(put_together[part], at_once[part])
        assert_frame_equal(at_once[part], pl.read_parquet(stored.path(part)))


def test_an_answer_at_a_touchpoint_only_another_customer_touched_counts_when_tallied_apart():
    """Customer 0 touched x at stage a; customer 1 answered right after x there but touched
    nothing counted at a (x was off their path). Apart, customer 1's tally has no place
    (a, x); together, the place holds customer 0 and customer 1's answer."""
    stages = ["a", "b"]
    ids = {"customer_id": pl.UInt32}
    reach = pl.DataFrame(
        {"customer_id": [0, 1], "step": [1, 1], "stage": ["a", "a"],
         "at": [datetime(2025, 1, 1)] * 2, "days": [None, None], "continued": [0, 0]},
        schema_overrides=ids | {"days": pl.Float64, "continued": pl.Int32},
    )  # fmt: skip
    touched = pl.DataFrame(
        {"customer_id": [0], "stage": ["a"], "touchpoint": ["x"], "continued": [0]},
        schema_overrides=ids | {"continued": pl.Int32},
    )
    reactions = pl.DataFrame(
        {"customer_id": [1], "stage": ["a"], "touchpoint": ["x"], "answers": [1],
         "detractors": [1], "nps_sum": [3], "csat_answers": [0], "csat_sum": [0],
         "comments": [0], "sentiment_sum": [0], "tickets": [0]},
        schema_overrides=ids,
    )  # fmt: skip
    everyone = pl.DataFrame({"customer_id": [0, 1], "group": ALL}, schema_overrides=ids)
    every_date = [(None, None)]

    def tallied(who: int) -> totals.Tally:
        parts = (f.filter(pl.col("customer_id") == who) for f in (reach, touched, reactions))
        return totals.tally(reach.clear(), *parts, everyone, stages, every_date)

    apart = totals.tables([tallied(0), tallied(1)], everyone, stages, every_date)["measures"]

    place = apart.filter(pl.col("touchpoint") == "x").select(
        "customers", "continued", "answers", "detractors", "nps_sum"
    )
    assert place.rows() == [(1, 0, 1, 1, 3)]
    together = totals.tally(reach, reach, touched, reactions, everyone, stages, every_date)
    at_once = totals.tables([together], everyone, stages, every_date)
    assert_frame_equal(apart, at_once["measures"])
