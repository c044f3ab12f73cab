"""RFM: recency, frequency and monetary scores 1-5, and named segments from one rule table.

Scores are quintiles over the customers with a completed order, with ties kept together: a
customer's score is 1 + floor(5 × (rank − 1) / n), where rank is the lowest rank of their
value (1 = worst: the longest recency, the fewest orders, the lowest mean order value) among
n buyers. Every customer with the same value gets the same score, so a score may be empty
when many customers tie (with 40 % of buyers on one order, F jumps from 1 to 3).

Segments come from `RFM_SEGMENTS`, a table of rules on score ranges read top to bottom (the
first rule a customer matches names their segment); `test_rfm.py` checks that the table
names every one of the 125 score combinations. Customers without a completed order are
`PROSPECTS`, never dropped. `docs/segments.md` is generated from the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

PROSPECTS = "Prospects"
SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class RfmRule:
    """A named segment: the customers whose R, F and M scores lie in these (inclusive)
    ranges, unless an earlier rule took them."""

    name: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]
    description: str
    action: str


RFM_SEGMENTS: tuple[RfmRule, ...] = (
    RfmRule(
        "Champions",
        (5, 5),
        (4, 5),
        (1, 5),
        "Bought recently, buy often.",
        "Reward them; ask for reviews and referrals; early access to new products.",
    ),
    RfmRule(
        "Loyal",
        (3, 5),
        (4, 5),
        (1, 5),
        "Buy often, and not long ago.",
        "Upsell higher-value products; loyalty programme.",
    ),
    RfmRule(
        "Potential loyalists",
        (4, 5),
        (2, 3),
        (1, 5),
        "Recent customers with a few orders.",
        "Membership or loyalty offers; recommend related products.",
    ),
    RfmRule(
        "New",
        (5, 5),
        (1, 1),
        (1, 5),
        "First order, very recently.",
        "Onboarding: welcome, help, a reason for a second order.",
    ),
    RfmRule(
        "Promising",
        (4, 4),
        (1, 1),
        (1, 5),
        "One order, recently.",
        "Build the relationship: content, free shipping on the second order.",
    ),
    RfmRule(
        "Need attention",
        (3, 3),
        (3, 3),
        (1, 5),
        "Average recency and frequency.",
        "Limited-time offers based on their past purchases.",
    ),
    RfmRule(
        "About to sleep",
        (3, 3),
        (1, 2),
        (1, 5),
        "Few orders, not recently.",
        "Share popular products and discounts; reconnect before they lapse.",
    ),
    RfmRule(
        "Can't lose them",
        (1, 2),
        (4, 5),
        (4, 5),
        "Bought often and spent much, but long ago.",
        "Win them back personally: call, survey, a strong offer.",
    ),
    RfmRule(
        "At risk",
        (1, 2),
        (3, 5),
        (1, 5),
        "Used to buy regularly; long since the last order.",
        "Personal emails and renewal offers.",
    ),
    RfmRule(
        "Hibernating",
        (2, 2),
        (1, 2),
        (1, 5),
        "Few orders, long ago.",
        "Offer other relevant products; do not over-spend on them.",
    ),
    RfmRule(
        "Lost",
        (1, 1),
        (1, 2),
        (1, 5),
        "Few orders, longest ago.",
        "Revive with a campaign, otherwise let go.",
    ),
)

SEGMENT_ORDER: tuple[str, ...] = (*(rule.name for rule in RFM_SEGMENTS), PROSPECTS)

RFM_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "recency_days": pl.Int64(),
        "frequency": pl.Int64(),
        "monetary": pl.Float64(),
        "revenue": pl.Float64(),
        "tenure_days": pl.Int64(),
        "discount_share": pl.Float64(),
        "r": pl.Int8(),
        "f": pl.Int8(),
        "m": pl.Int8(),
        "rfm_segment": pl.String(),
    }
)


def quintile_scores(values: pl.Expr, *, higher_is_better: bool = True) -> pl.Expr:
    """Scores 1-5 by quintiles with ties kept together (see the module docstring)."""
    ranked = (values if higher_is_better else -values).rank("min")
    n = values.count()
    return (1 + ((ranked - 1) * 5 / n).floor()).clip(1, 5).cast(pl.Int8)


def rfm_table(
    facts: pl.DataFrame,
    as_of: date,
    rules: tuple[RfmRule, ...] = RFM_SEGMENTS,
) -> pl.DataFrame:
    """Recency, frequency, monetary value, scores and segment of every customer.

    Parameters
    ----------
    facts : polars.DataFrame
        `analytics.segments.features.customer_facts` as of `as_of`: `customer_id`,
        `orders`, `revenue`, `discount`, `first_order`, `last_order`, `signup_date`.
    as_of : date
        The reference date the facts were read at.
    rules : tuple of RfmRule
        The segment table, read top to bottom.

    Returns
    -------
    polars.DataFrame
        `RFM_SCHEMA`, one row per customer: `recency_days` (since the last completed
        order), `frequency` (completed orders), `monetary` (mean order value), `revenue`
        (total), `tenure_days` (since sign-up or the first order, whichever is earlier),
        `discount_share` (discount over gross spend), the scores `r`, `f`, `m` and
        `rfm_segment`; prospects have null scores and the segment `PROSPECTS`.
    """
    end = pl.lit(as_of)
    start = pl.min_horizontal("signup_date", "first_order")
    base = facts.select(
        "customer_id",
        recency_days=(end - pl.col("last_order")).dt.total_days(),
        frequency=pl.col("orders"),
        monetary=pl.when(pl.col("orders") > 0).then(pl.col("revenue") / pl.col("orders")),
        revenue="revenue",
        tenure_days=(end - start).dt.total_days(),
        discount_share=pl.when(pl.col("revenue") > 0).then(pl.col("discount") / pl.col("revenue")),
    )
    buyers = base.filter(pl.col("frequency") > 0).with_columns(
        r=quintile_scores(pl.col("recency_days"), higher_is_better=False),
        f=quintile_scores(pl.col("frequency")),
        m=quintile_scores(pl.col("monetary")),
    )
    named = buyers.with_columns(rfm_segment=segment_expression(rules))
    prospects = base.filter(pl.col("frequency") == 0).with_columns(
        r=pl.lit(None, pl.Int8),
        f=pl.lit(None, pl.Int8),
        m=pl.lit(None, pl.Int8),
        rfm_segment=pl.lit(PROSPECTS),
    )
    return pl.concat([named, prospects]).cast(RFM_SCHEMA).sort("customer_id")


def segment_expression(rules: tuple[RfmRule, ...] = RFM_SEGMENTS) -> pl.Expr:
    """The segment of scores `r`, `f`, `m`: the first rule they match (null: none)."""
    chain: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(rules):
        match = (
            pl.col("r").is_between(*rule.r)
            & pl.col("f").is_between(*rule.f)
            & pl.col("m").is_between(*rule.m)
        )
        chain = pl.when(match).then(pl.lit(rule.name)).otherwise(chain)
    return chain


def render_markdown(rules: tuple[RfmRule, ...] = RFM_SEGMENTS) -> str:
    """The segment table as the Markdown page `docs/segments.md`."""

    def span(low_high: tuple[int, int]) -> str:
        low, high = low_high
        return str(low) if low == high else f"{low}–{high}"

    lines = [
        "# Segments",
        "",
        "Generated from `analytics/segments/rfm.py` by `python -m analytics segments "
        "--docs`; a test fails when this page and the code disagree.",
        "",
        "## RFM",
        "",
        "Every customer is scored as of a reference date (the end of the data unless "
        "chosen): **recency** (days since the last completed order), **frequency** "
        "(completed orders) and **monetary** value (mean order value). Each score is 1–5 "
        "by quintiles over the customers with a completed order: 1 + ⌊5 × (rank − 1) / n⌋, "
        "where rank is the lowest rank of the customer's value among the n buyers (5 is "
        "best: most recent, most orders, highest mean order value). Customers with the "
        "same value share a score.",
        "",
        "Segments are read from this table top to bottom; a customer belongs to the first "
        "row their scores match. Every one of the 125 score combinations has a segment.",
        "",
        "| segment | R | F | M | who | what to do |",
        "|---|---|---|---|---|---|",
    ]
    for rule in rules:
        lines.append(
            f"| {rule.name} | {span(rule.r)} | {span(rule.f)} | {span(rule.m)} | "
            f"{rule.description} | {rule.action} |"
        )
    lines += [
        f"| {PROSPECTS} | – | – | – | No completed order yet (never dropped). | "
        "Convert: first-order offer. |",
        "",
    ]
    return "\n".join(lines)
