"""The journeys as users see them, on the sample company and a small generated one: a user
limited to some rows gets the funnel, pain points and paths of the customers they see,
computed from the steps they may read; a date range reads each customer's steps in order."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import journeys
from analytics.filters import Filters
from analytics.journeys import ALL, funnel, measures, pain_points, reached, read_steps, views
from analytics.journeys.paths import PathOptions, journey_path_counts, path_table
from analytics.journeys.steps import within
from analytics.periods import period_end, period_start
from analytics.warehouse import Access, QueryGateway, Warehouse

EMEA = Access(limits=(("region", ("EMEA",)),))


def built(company: Warehouse) -> journeys.StoredJourneys:
    stored = journeys.current(company)
    assert stored is not None
    return stored


def span(stored: journeys.StoredJourneys) -> tuple[date, date]:
    """The first and last day of the build's steps."""
    first, last = (datetime.fromisoformat(str(stored.meta[k])).date() for k in ("first", "last"))
    return first, last


def latest_quarter(stored: journeys.StoredJourneys) -> Filters:
    start = period_start(span(stored)[1], "quarter")
    return Filters(start=start, end=period_end(start, "quarter"))


@pytest.mark.parametrize("when", ["all dates", "latest quarter"])
def test_a_row_limited_user_gets_the_journeys_of_the_customers_they_see(company, when):
    gateway = QueryGateway(company)
    limited = gateway.scoped(EMEA)
    stored = built(company)
    stages = stored.settings.stages
    filters = Filters() if when == "all dates" else latest_quarter(stored)
    seen = within(read_steps(limited, company, stored.settings).lazy(), filters.start, filters.end)
    steps = seen.collect()  # every step of theirs they may read, none of anyone else's
    groups = steps.select(pl.col("customer_id").unique(), group=pl.lit(ALL))
    reach = reached(steps, stages)

    shown = views.funnel_table(limited, stored, filters)

    assert_frame_equal(shown.drop("hidden"), funnel(reach, groups, stages))
    everyone = views.funnel_table(gateway, stored, filters)
    assert 0 < shown["customers"][0] < everyone["customers"][0]
    assert_frame_equal(
        views.pain_table(limited, stored, filters),
        pain_points(measures(steps, reach, groups, stages), stages),
    )
    paths, _ = views.path_tables(limited, stored, filters)
    assert_frame_equal(paths, path_table(journey_path_counts(steps, PathOptions())))


def test_a_date_range_reads_each_customers_steps_in_time_order(company):
    # Regression: the steps of a date range came back from the join with the customers in
    # any order, and so did each customer's touchpoints in the range's paths.
    gateway = QueryGateway(company)
    stored = built(company)
    first, last = span(stored)
    everything = Filters(start=first, end=last)
    keys = pl.read_parquet(stored.path("customers")).select(customer_id="key")

    steps = views.journey_steps(stored, keys, everything)

    assert_frame_equal(steps, pl.read_parquet(stored.steps_path))
    for options in (PathOptions(), PathOptions(steps=8, anchor="no_purchase", collapse=False)):
        ranged = views.path_tables(gateway, stored, everything, options)
        whole = views.path_tables(gateway, stored, Filters(), options)
        for table, expected in zip(ranged, whole, strict=True):
            assert_frame_equal(table, expected)
