"""RFM scores and segments, hand-computed; the rule table and its documentation."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from analytics.segments import rfm

AS_OF = date(2025, 12, 31)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "segments.md"


def facts(rows):
    """customer_id, orders, revenue, discount, first_order, last_order, signup_date."""
    return pl.DataFrame(
        rows,
        schema={
            "customer_id": pl.String,
            "orders": pl.Int64,
            "revenue": pl.Float64,
            "discount": pl.Float64,
            "first_order": pl.Date,
            "last_order": pl.Date,
            "signup_date": pl.Date,
        },
        orient="row",
    )


# Ten buyers and a prospect. Recency days, orders, mean order value:
#   A 1, 10, 100 | B 5, 8, 90 | C 20, 6, 80 | D 40, 4, 70 | E 60, 3, 60
#   F 100, 2, 50 | G 200, 2, 40 | H 300, 1, 30 | I 400, 1, 20 | J 500, 1, 10 | P: none
RECENCY = {
    "A": 1,
    "B": 5,
    "C": 20,
    "D": 40,
    "E": 60,
    "F": 100,
    "G": 200,
    "H": 300,
    "I": 400,
    "J": 500,
}
ORDERS = {"A": 10, "B": 8, "C": 6, "D": 4, "E": 3, "F": 2, "G": 2, "H": 1, "I": 1, "J": 1}
MEAN = {"A": 100, "B": 90, "C": 80, "D": 70, "E": 60, "F": 50, "G": 40, "H": 30, "I": 20, "J": 10}


@pytest.fixture
def table() -> pl.DataFrame:
    rows = [
        (
            c,
            ORDERS[c],
            float(ORDERS[c] * MEAN[c]),
            10.0 if c == "A" else 0.0,
            date(2023, 1, 1),
            date.fromordinal(AS_OF.toordinal() - RECENCY[c]),
            date(2022, 6, 1),
        )
        for c in ORDERS
    ] + [("P", 0, 0.0, 0.0, None, None, date(2025, 1, 1))]
    return rfm.rfm_table(facts(rows), AS_OF)


def test_scores_are_quintiles_with_ties_kept_together(table):
    scores = {c: (r, f, m) for c, r, f, m in table.select("customer_id", "r", "f", "m").rows()}

    # Ten buyers: two per quintile. F: J, I, H tie on 1 order (ranks 1-3) -> 1; G, F tie
    # on 2 (rank 4) -> 1 + floor(5 x 3 / 10) = 2; E (rank 6) -> 3; D -> 4; C -> 4; B, A -> 5.
    assert scores == {
        "A": (5, 5, 5),
        "B": (5, 5, 5),
        "C": (4, 4, 4),
        "D": (4, 4, 4),
        "E": (3, 3, 3),
        "F": (3, 2, 3),
        "G": (2, 2, 2),
        "H": (2, 1, 2),
        "I": (1, 1, 1),
        "J": (1, 1, 1),
        "P": (None, None, None),
    }


def test_segments_follow_the_table_and_prospects_stay(table):
    segments = dict(table.select("customer_id", "rfm_segment").rows())

    assert segments == {
        "A": "Champions",
        "B": "Champions",
        "C": "Loyal",
        "D": "Loyal",
        "E": "Need attention",
        "F": "About to sleep",
        "G": "Hibernating",
        "H": "Hibernating",
        "I": "Lost",
        "J": "Lost",
        "P": "Prospects",
    }


def test_the_measures_behind_the_scores(table):
    a = table.filter(pl.col("customer_id") == "A").row(0, named=True)
    p = table.filter(pl.col("customer_id") == "P").row(0, named=True)

    assert (a["recency_days"], a["frequency"], a["monetary"], a["revenue"]) == (
        1,
        10,
        100.0,
        1000.0,
    )
    assert a["tenure_days"] == (AS_OF - date(2022, 6, 1)).days  # sign-up before the first order
    assert a["discount_share"] == pytest.approx(0.01)
    assert (p["frequency"], p["monetary"], p["recency_days"]) == (0, None, None)
    assert p["tenure_days"] == (AS_OF - date(2025, 1, 1)).days


def test_every_score_combination_has_exactly_the_segment_of_its_first_matching_rule():
    grid = pl.DataFrame(
        list(itertools.product(rfm.SCORES, repeat=3)), schema=["r", "f", "m"], orient="row"
    )
    named = grid.with_columns(segment=rfm.segment_expression())

    assert named["segment"].null_count() == 0
    for r, f, m, segment in named.rows():
        first = next(
            rule.name
            for rule in rfm.RFM_SEGMENTS
            if rule.r[0] <= r <= rule.r[1]
            and rule.f[0] <= f <= rule.f[1]
            and rule.m[0] <= m <= rule.m[1]
        )
        assert segment == first
    assert set(named["segment"]) == {rule.name for rule in rfm.RFM_SEGMENTS}  # none unreachable


def test_a_replaced_rule_table_is_used():
    two = (
        rfm.RfmRule("Recent", (4, 5), (1, 5), (1, 5), "", ""),
        rfm.RfmRule("Other", (1, 3), (1, 5), (1, 5), "", ""),
    )
    scores = pl.DataFrame({"r": [5, 2], "f": [1, 1], "m": [1, 1]})

    assert scores.select(rfm.segment_expression(two))["literal"].to_list() == ["Recent", "Other"]


def test_docs_segments_md_is_generated_from_the_table():
    assert DOCS.read_text(encoding="utf-8") == rfm.render_markdown(), (
        "docs/segments.md is out of date: run `python -m analytics segments --docs "
        "docs/segments.md`."
    )
