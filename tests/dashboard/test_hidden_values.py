"""How pages show values hidden from viewers: marked with the reason, never as zero."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.cohorts import cohort_table
from analytics.disclosure import COMPLEMENTARY
from analytics.filters import Filters
from analytics.kpis import KPI_BY_KEY, trend
from analytics.warehouse import Access, QueryGateway
from dashboard import format as fmt
from dashboard.charts.cohorts import HIDDEN_GREY, cohort_heatmap
from dashboard.charts.kpis import breakdown_figure, trend_figure
from dashboard.charts.selection import clicked


def test_hidden_note_counts_values_per_reason():
    reasons = [None, "fewer than 5 responses", COMPLEMENTARY, "fewer than 5 responses"]

    assert fmt.hidden_note(reasons) == (
        f"3 values are hidden from you: fewer than 5 responses (2); {COMPLEMENTARY} (1)."
    )
    assert fmt.hidden_note(["fewer than 5 tickets"]) == (
        "1 value is hidden from you: fewer than 5 tickets (1)."
    )
    assert fmt.hidden_note([None, None]) is None


def test_a_hidden_bar_is_labelled_hidden_with_its_reason_on_hover(tiny_warehouse):
    viewer = QueryGateway(tiny_warehouse).scoped(Access(min_group=4))
    table = trend(viewer, ["csat"], Filters(start=date(2025, 4, 1)), "month", by="country")
    april = table.filter(pl.col("period") == "2025-04")

    figure = breakdown_figure(april, KPI_BY_KEY["csat"], "Country")

    assert april.select("group", "value", "hidden").rows() == [
        ("(not set)", None, None),  # the anonymous response has no CSAT: empty, not hidden
        ("GB", None, "fewer than 4 responses"),
        ("US", None, "fewer than 4 responses"),
    ]
    assert [(a.x, a.text) for a in figure.layout.annotations] == [
        ("GB", "hidden"),
        ("US", "hidden"),
    ]
    hovers = dict(zip(figure.data[0].x, figure.data[0].hovertext, strict=True))
    assert "CSAT: hidden, fewer than 4 responses" in hovers["GB"]
    assert "CSAT: —" in hovers["(not set)"]
    assert figure.layout.yaxis.showticklabels is False  # no scale without a value


def test_a_single_score_gets_ticks_that_do_not_repeat():
    table = pl.DataFrame(
        {
            "period": ["2025-04"],
            "group": ["email"],
            "value": [20.0],
            "n": [9],
            "ci_low": [-10.0],
            "ci_high": [50.0],
            "partial": [False],
            "delta_significant": [None],
            "hidden": [None],
        },
        schema_overrides={"delta_significant": pl.Boolean, "hidden": pl.String},
    )

    grouped = trend_figure(table, KPI_BY_KEY["nps"], grouped=True)
    single = trend_figure(table, KPI_BY_KEY["nps"], grouped=False)

    assert grouped.layout.yaxis.tickformat == ".1f"  # one point: a range of 2 around it
    assert single.layout.yaxis.tickformat == ".0f"  # the interval band spans 60 points


def test_hidden_cohort_cells_are_grey_and_their_size_says_hidden(tiny_warehouse):
    viewer = QueryGateway(tiny_warehouse).scoped(Access(min_group=4))
    table = cohort_table(viewer, Filters(), "month")

    figure = cohort_heatmap(table, "customers", "month")

    values, grey = figure.data
    assert values.y == ("2025-04 (size hidden)",)
    assert [list(row) for row in values.text] == [["", ""]]
    assert "Hidden: fewer than 4 customers" in values.hovertext[0][0]
    assert [list(row) for row in grey.z] == [[1, 1]]
    assert grey.colorscale[0][1] == HIDDEN_GREY


def test_a_click_on_a_heat_map_reads_the_point_with_customdata():
    event = {"selection": {"points": [{"z": 1}, {"customdata": ["2025-04-01", "1"], "z": 50.0}]}}

    assert clicked(event) == ["2025-04-01", "1"]
