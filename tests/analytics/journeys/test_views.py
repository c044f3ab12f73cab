"""The journeys as users see them, on the sample company and a small generated one: a date
range reads each customer's steps in order."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from analytics import journeys
from analytics.filters import Filters
from analytics.journeys import views
from analytics.journeys.paths import PathOptions
from analytics.warehouse import QueryGateway, Warehouse


def built(company: Warehouse) -> journeys.StoredJourneys:
    stored = journeys.current(company)
    assert stored is not None
    return stored


def span(stored: journeys.StoredJourneys) -> tuple[date, date]:
    """The first and last day of the build's steps."""
    first, last = (datetime.fromisoformat(str(stored.meta[k])).date() for k in ("first", "last"))
    return first, last


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
