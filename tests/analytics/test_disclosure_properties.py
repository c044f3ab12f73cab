"""Property tests of small-group hiding on the sample company: for any filters, breakdown,
period and limited viewer, no value the viewer sees rests on fewer than the minimum, and no
hidden value follows from a visible total minus the visible cells beside it.

The units behind each value are taken from what an analyst sees with the viewer's limit as
a filter, through a mapping written here independently of the KPI registry."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import kpis
from analytics.cohorts import cohort_table
from analytics.filters import DIMENSIONS, Filters
from analytics.warehouse import Access, QueryGateway

pytestmark = pytest.mark.slow

LIMITS = [("country", c) for c in ("Germany", "Japan", "Sweden", "Mexico", "Canada")] + [
    ("region", r) for r in ("APAC", "EMEA")
]
KEYS = [k.key for k in kpis.KPIS]

# KPI -> (analyst KPI whose figure counts the units behind it, "value" or "n").
UNITS = {
    "revenue": ("active_customers", "value"),
    "orders": ("active_customers", "value"),
    "aov": ("active_customers", "value"),
    "active_customers": ("active_customers", "value"),
    "new_customers": ("new_customers", "value"),
    "repeat_purchase_rate": ("active_customers", "value"),
    "retention_rate": ("retention_rate", "n"),
    "churn_rate": ("retention_rate", "n"),
    "return_rate": ("active_customers", "value"),
    "clv_historical": ("clv_historical", "n"),
    "nps": ("nps", "n"),
    "csat": ("csat", "n"),
    "ces": ("ces", "n"),
    "responses": ("responses", "value"),
    "tickets": ("tickets", "value"),
    "first_response_hours": ("first_response_hours", "n"),
    "resolution_hours": ("resolution_hours", "n"),
    "ticket_csat": ("ticket_csat", "n"),
}


@pytest.fixture(scope="module")
def gateway(sample_warehouse) -> QueryGateway:
    return QueryGateway(sample_warehouse)


ranges = st.tuples(
    st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31)),
    st.integers(min_value=0, max_value=500),
).map(lambda r: (r[0], min(r[0] + timedelta(days=r[1]), date(2025, 12, 31))))
extra = st.sampled_from([None, ("plan", "Basic"), ("plan", "Premium"), ("channel", "web")])
views = st.fixed_dictionaries(
    {
        "limit": st.sampled_from(LIMITS),
        "minimum": st.sampled_from([3, 5, 10, 30]),
        "range": ranges,
        "extra": extra,
    }
)


def _scopes(gateway, view):
    column, value = view["limit"]
    start, end = view["range"]
    filters = Filters(start=start, end=end)
    if view["extra"] is not None:
        filters = filters.narrowed(*view["extra"])
    viewer = gateway.scoped(
        Access(limits=((column, (value,)),), mask_pii=True, min_group=view["minimum"])
    )
    truth_filters = filters.narrowed(column, value)
    return viewer, filters, truth_filters


def _units(truth: pl.DataFrame) -> dict[tuple, int]:
    """(kpi, group, period) -> units behind the analyst's value."""
    figures = {(r["kpi"], r["group"], r["period"]): r for r in truth.to_dicts()}
    units = {}
    for (key, group, period), _ in figures.items():
        source, column = UNITS[key]
        found = figures[(source, group, period)][column]
        units[(key, group, period)] = int(found or 0)
    return units


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    view=views,
    grain=st.sampled_from(["week", "month", "quarter"]),
    by=st.sampled_from(list(DIMENSIONS)),
)
def test_no_visible_kpi_rests_on_too_few_and_no_hidden_one_can_be_derived(gateway, view, grain, by):
    viewer, filters, truth_filters = _scopes(gateway, view)
    minimum = view["minimum"]
    dimension = DIMENSIONS[by]
    keys = [k.key for k in kpis.KPIS if all(dimension.applies_to(d) for d in k.datasets)]
    keys += [UNITS[k][0] for k in keys if UNITS[k][0] not in keys]
    seen = kpis.trend(viewer, keys, filters, grain, by=by)
    totals = kpis.trend(viewer, keys, filters, grain)
    truth = kpis.trend(gateway, keys, truth_filters, grain, by=by)
    truth_totals = kpis.trend(gateway, keys, truth_filters, grain)
    units = _units(truth) | _units(truth_totals)

    # Primary: every value shown rests on at least the minimum (or on nothing), and is the
    # analyst's value; a hidden value shows nothing but its reason.
    expected = {(r["kpi"], r["group"], r["period"]): r["value"] for r in truth.to_dicts()}
    expected |= {(r["kpi"], None, r["period"]): r["value"] for r in truth_totals.to_dicts()}
    by_period: dict[tuple, dict] = {}
    for row in pl.concat([seen, totals]).to_dicts():
        cell = (row["kpi"], row["group"], row["period"])
        by_period[cell] = row
        if row["hidden"] is None:
            assert units[cell] == 0 or units[cell] >= minimum, (cell, units[cell])
            assert row["value"] == pytest.approx(expected[cell], nan_ok=True)
        else:
            assert (row["value"], row["n"], row["ci_low"], row["delta"]) == (None,) * 4
    # Comparisons never carry a hidden value: a shown previous value belongs to a shown cell.
    periods = seen["period"].unique(maintain_order=True).to_list()
    for row in seen.to_dicts():
        index = periods.index(row["period"])
        if row["previous"] is not None and index > 0:
            before = by_period[(row["kpi"], row["group"], periods[index - 1])]
            assert before["hidden"] is None

    # Complementary: where the total is shown, the hidden groups beside it are never one
    # alone, and together rest on at least the minimum unless nothing visible is left.
    overlapping = DIMENSIONS[by].level == "record"
    lines: dict[tuple, list[int]] = defaultdict(list)
    visible: dict[tuple, int] = defaultdict(int)
    for row in seen.to_dicts():
        line = (row["kpi"], row["period"])
        count = units[(row["kpi"], row["group"], row["period"])]
        if count == 0:
            continue
        if row["hidden"] is not None:
            lines[line].append(count)
        else:
            visible[line] += 1
    for (key, period), hidden in lines.items():
        total = by_period[(key, None, period)]
        if total["hidden"] is not None:
            continue
        family_overlaps = overlapping and kpis.KPI_BY_KEY[key].family == "orders"
        together = max(hidden) if family_overlaps else sum(hidden)
        if len(hidden) == 1:
            # Only possible when nothing visible is beside it and the total rests on
            # nothing (new customers by channel: first orders per channel, not in total).
            assert visible[(key, period)] == 0 and units[(key, None, period)] == 0, (
                key,
                period,
                hidden,
            )
        else:
            assert together >= minimum or visible[(key, period)] == 0, (key, period, hidden)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    view=views,
    grain=st.sampled_from(["month", "quarter"]),
    by=st.sampled_from([None, "region", "acquisition_channel", "channel"]),
)
def test_no_visible_cohort_cell_rests_on_too_few_and_no_hidden_one_can_be_derived(
    gateway, view, grain, by
):
    viewer, filters, truth_filters = _scopes(gateway, view)
    minimum = view["minimum"]
    seen = cohort_table(viewer, filters, grain, by=by)
    truth = cohort_table(gateway, truth_filters, grain, by=by)
    assert seen.height == truth.height
    cells = seen.with_columns(
        true_customers=truth["customers"], true_size=truth["size"], true_revenue=truth["revenue"]
    )

    shown = cells.filter(pl.col("hidden").is_null())
    assert shown["customers"].to_list() == shown["true_customers"].to_list()
    assert shown["revenue"].to_list() == pytest.approx(shown["true_revenue"].to_list())
    assert shown.filter(
        (pl.col("true_customers") > 0) & (pl.col("true_customers") < minimum)
    ).is_empty()
    assert cells.filter(pl.col("size").is_not_null() & (pl.col("true_size") < minimum)).is_empty()
    hidden = cells.filter(pl.col("hidden").is_not_null())
    assert hidden.select(pl.col("customers", "revenue", "value").null_count()).row(0) == (
        (hidden.height,) * 3
    )

    overlapping = by is not None and DIMENSIONS[by].level == "record"
    line_sets = [(("group", "period_index"), False), (("group", "cohort_start"), False)]
    if by is not None:
        line_sets.append((("cohort_start", "period_index"), overlapping))
    for keys, overlaps in line_sets:
        members = cells.filter(pl.col("true_customers") > 0)
        if "cohort_start" in keys and "period_index" not in keys:
            members = members.filter(pl.col("period_index") > 0)  # a cohort's later periods
        for _, line in members.group_by(list(keys)):
            hidden_counts = line.filter(pl.col("hidden").is_not_null())["true_customers"]
            visible_n = line.filter(pl.col("hidden").is_null()).height
            if hidden_counts.len() == 0 or visible_n == 0:
                continue
            together = hidden_counts.max() if overlaps else hidden_counts.sum()
            assert hidden_counts.len() >= 2, (keys, line)
            assert together >= minimum, (keys, line)


def test_analysts_see_every_value_of_the_same_views(gateway):
    start, end = date(2024, 1, 1), date(2025, 12, 31)
    analyst = gateway.scoped(Access(limits=(("country", ("Germany",)),)))
    viewer = gateway.scoped(Access(limits=(("country", ("Germany",)),), mask_pii=True, min_group=5))

    for by in ("channel", "plan"):
        mine = kpis.trend(analyst, KEYS, Filters(start=start, end=end), "month", by=by)
        theirs = kpis.trend(viewer, KEYS, Filters(start=start, end=end), "month", by=by)
        assert mine["hidden"].null_count() == mine.height
        assert theirs["hidden"].null_count() < theirs.height  # the same view hides some
    table = cohort_table(analyst, Filters(start=start, end=end), "month")
    assert table["hidden"].null_count() == table.height
    assert cohort_table(viewer, Filters(start=start, end=end), "month")["hidden"].null_count() < (
        table.height
    )
