"""Per-customer facts and features as of a reference date: the input of RFM, clustering and
lifetime value.

`customer_facts` reads, in one query per dataset, every known customer (the CRM's and any
customer id found in orders) with their completed orders up to the reference date, their
purchase days (for the lifetime-value models), survey averages, tickets and sales-channel
mix. `clustering_features` turns facts and the fitted lifetime-value models into the
behavioural features clustering uses; `FEATURES` documents each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import polars as pl

from analytics import clv
from analytics import definitions as rules
from analytics.warehouse import QueryGateway

# Days a customer needs before their purchase rate is read as a yearly rate: a customer of a
# week with one order does not buy 52 times a year.
MIN_RATE_DAYS = 90
CHANNEL_SHARES = 4  # sales channels kept by name in the mix; the rest are "other"

_FACTS_SQL = """
WITH o AS (
    SELECT customer_id, order_date, amount, coalesce(discount, 0) AS discount
    FROM orders
    WHERE {completed} AND order_date <= $as_of AND customer_id IS NOT NULL
), days AS (
    SELECT customer_id, order_date, sum(amount) AS amount FROM o GROUP BY ALL
), purchase_days AS (
    SELECT customer_id, count(*) AS purchase_days,
           sum(amount) - arg_min(amount, order_date) AS repeat_amount
    FROM days GROUP BY customer_id
), bought AS (
    SELECT customer_id, count(*) AS orders, sum(amount) AS revenue,
           sum(discount) AS discount, min(order_date) AS first_order,
           max(order_date) AS last_order
    FROM o GROUP BY customer_id
), known AS (
    SELECT customer_id, min(signup_date) AS signup_date FROM customers
    WHERE customer_id IS NOT NULL GROUP BY customer_id
    UNION ALL
    SELECT DISTINCT customer_id, CAST(NULL AS DATE) FROM orders
    WHERE customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM customers)
)
SELECT k.customer_id,
       CASE WHEN k.signup_date <= $as_of THEN k.signup_date END AS signup_date,
       coalesce(b.orders, 0) AS orders,
       coalesce(b.revenue, 0) AS revenue,
       coalesce(b.discount, 0) AS discount,
       b.first_order, b.last_order,
       coalesce(p.purchase_days, 0) AS purchase_days,
       coalesce(p.repeat_amount, 0) AS repeat_amount
FROM known k
LEFT JOIN bought b ON b.customer_id = k.customer_id
LEFT JOIN purchase_days p ON p.customer_id = k.customer_id
ORDER BY k.customer_id
"""

_SURVEYS_SQL = """
SELECT customer_id, avg(nps) AS avg_nps, avg(csat) AS avg_csat, count(*) AS responses
FROM surveys WHERE customer_id IS NOT NULL AND responded_at < $until
GROUP BY customer_id
"""

_TICKETS_SQL = """
SELECT customer_id, count(*) AS tickets
FROM tickets WHERE customer_id IS NOT NULL AND opened_at < $until
GROUP BY customer_id
"""

_CHANNELS_SQL = """
SELECT customer_id, coalesce(channel, '(not set)') AS channel, count(*) AS n
FROM orders
WHERE {completed} AND order_date <= $as_of AND customer_id IS NOT NULL
GROUP BY ALL
"""


def customer_facts(gateway: QueryGateway, as_of: date) -> pl.DataFrame:
    """Every known customer with what they did up to `as_of` (inclusive).

    Returns
    -------
    polars.DataFrame
        One row per customer, sorted by `customer_id`: `signup_date`, completed `orders`,
        `revenue`, `discount` (currency), `first_order`, `last_order`, `purchase_days`
        (days with a completed order), `repeat_amount` (spend on purchase days after the
        first), `avg_nps`, `avg_csat`, `responses`, `tickets` (null or 0 where none), and
        `channel_<name>`: the share of the customer's completed orders in each of the
        `CHANNEL_SHARES` most used sales channels, and `channel_other`.
    """
    until = datetime.combine(as_of + timedelta(days=1), time.min)
    facts = gateway.query(_FACTS_SQL.format(**rules.sql_rules()), {"as_of": as_of})
    surveys = gateway.query(_SURVEYS_SQL, {"until": until})
    tickets = gateway.query(_TICKETS_SQL, {"until": until})
    channels = gateway.query(_CHANNELS_SQL.format(**rules.sql_rules()), {"as_of": as_of})
    facts = facts.join(surveys, on="customer_id", how="left").join(
        tickets, on="customer_id", how="left"
    )
    facts = facts.with_columns(pl.col("responses").fill_null(0), pl.col("tickets").fill_null(0))
    return facts.join(_channel_mix(channels), on="customer_id", how="left").sort("customer_id")


def _channel_mix(channels: pl.DataFrame) -> pl.DataFrame:
    if channels.is_empty():
        return pl.DataFrame(schema={"customer_id": pl.String(), "channel_other": pl.Float64()})
    top = (
        channels.group_by("channel")
        .agg(pl.col("n").sum())
        .sort(["n", "channel"], descending=[True, False])
        .head(CHANNEL_SHARES)["channel"]
        .to_list()
    )
    named = channels.with_columns(
        pl.when(pl.col("channel").is_in(top))
        .then(
            pl.lit("channel_") + pl.col("channel").str.to_lowercase().str.replace_all(r"\W+", "_")
        )
        .otherwise(pl.lit("channel_other"))
        .alias("column")
    )
    shares = named.with_columns(share=pl.col("n") / pl.col("n").sum().over("customer_id"))
    wide = shares.pivot(on="column", index="customer_id", values="share", aggregate_function="sum")
    columns = sorted(c for c in wide.columns if c != "customer_id" and c != "channel_other")
    wide = wide.with_columns(
        [pl.lit(0.0).alias(c) for c in ("channel_other",) if c not in wide.columns]
    )
    return wide.select("customer_id", *columns, "channel_other").fill_null(0.0)


def purchase_summary(facts: pl.DataFrame, as_of: date, unit_days: float = 7.0) -> pl.DataFrame:
    """The lifetime-value models' summary (`analytics.clv.SUMMARY_SCHEMA`) of the buyers in
    `facts`: repeat purchase days, first-to-last and first-to-`as_of` in `unit_days`."""
    buyers = facts.filter(pl.col("purchase_days") > 0)
    end = pl.lit(as_of)
    return buyers.select(
        "customer_id",
        frequency=(pl.col("purchase_days") - 1).cast(pl.Int64),
        recency=(pl.col("last_order") - pl.col("first_order")).dt.total_days() / unit_days,
        T=(end - pl.col("first_order")).dt.total_days() / unit_days,
        monetary=pl.when(pl.col("purchase_days") > 1)
        .then(pl.col("repeat_amount") / (pl.col("purchase_days") - 1))
        .otherwise(0.0),
    ).cast(clv.SUMMARY_SCHEMA)


@dataclass(frozen=True)
class Feature:
    """One clustering feature: its column, how it reads, and how it is made."""

    name: str
    label: str
    definition: str


# The behavioural features clustering measures distance on (standardised); `profile_only`
# features describe clusters but take no part in the distance.
FEATURES: tuple[Feature, ...] = (
    Feature(
        "log_recency",
        "Recency",
        "log(1 + days since the last completed order).",
    ),
    Feature(
        "log_rate",
        "Purchase rate",
        f"log(completed orders per year of tenure, tenure at least {MIN_RATE_DAYS} days).",
    ),
    Feature(
        "log_spend",
        "Spend per purchase",
        "log of the expected spend per purchase day: the Gamma-Gamma posterior mean over "
        "every purchase day, which pulls the mean spend of customers with few purchases "
        "toward the population's.",
    ),
    Feature(
        "log_tenure",
        "Tenure",
        "log(1 + days since the first completed order).",
    ),
    Feature(
        "discount_share",
        "Discount share",
        "Discount as a share of gross spend, counting the population's share as one more "
        "order (so that one discounted order does not make a bargain hunter).",
    ),
    Feature(
        "p_alive",
        "P(alive)",
        "BG/NBD probability that the customer still buys, given their purchase days.",
    ),
)
PROFILE_ONLY: tuple[Feature, ...] = (
    Feature("orders", "Orders", "Completed orders."),
    Feature("revenue", "Revenue", "Completed revenue to date."),
    Feature("avg_nps", "Mean NPS", "Mean NPS answer (customers who answered)."),
    Feature("avg_csat", "Mean CSAT", "Mean CSAT answer (customers who answered)."),
    Feature("ticket_rate", "Tickets per order", "Support tickets per completed order."),
)


def clustering_features(
    facts: pl.DataFrame, as_of: date, purchases: clv.Fit, spend: clv.Fit
) -> pl.DataFrame:
    """The `FEATURES` (and `PROFILE_ONLY`) of every buyer in `facts`, by `customer_id`.

    Survey answers, tickets and the channel mix are not part of the distance: most
    customers never answer a survey, so imputing them would sort customers by whether they
    answered rather than by what they do. They describe the clusters instead.
    """
    summary = purchase_summary(facts, as_of)
    x = summary["frequency"].to_numpy().astype(float)
    alive = clv.p_alive(purchases, x, summary["recency"].to_numpy(), summary["T"].to_numpy())
    # The spend posterior over every purchase day, the first included: for segmenting, a
    # customer's one purchase says something about their spend.
    days = facts.filter(pl.col("purchase_days") > 0).sort("customer_id")
    assert days["customer_id"].equals(summary["customer_id"])
    every_day = days["purchase_days"].to_numpy().astype(float)
    expected = clv.expected_spend(spend, every_day, days["revenue"].to_numpy() / every_day)
    model = summary.select("customer_id").with_columns(
        p_alive=pl.Series(alive), expected_spend=pl.Series(expected)
    )
    buyers = facts.filter(pl.col("orders") > 0).join(model, on="customer_id", how="left")
    spent = float(buyers["revenue"].sum())
    population_share = float(buyers["discount"].sum()) / spent if spent > 0 else 0.0
    end = pl.lit(as_of)
    tenure_days = (end - pl.col("first_order")).dt.total_days()
    mean_order = pl.col("revenue") / pl.col("orders")
    channels = [c for c in facts.columns if c.startswith("channel_")]
    return buyers.select(
        "customer_id",
        *channels,
        log_recency=((end - pl.col("last_order")).dt.total_days() + 1).log(),
        log_rate=(pl.col("orders") / (tenure_days.clip(lower_bound=MIN_RATE_DAYS) / 365.25)).log(),
        log_spend=pl.col("expected_spend").fill_null(mean_order).clip(lower_bound=0.01).log(),
        log_tenure=(tenure_days + 1).log(),
        discount_share=(pl.col("discount") + population_share * mean_order)
        / (pl.col("revenue") + mean_order),
        p_alive=pl.col("p_alive").fill_null(1.0),
        orders="orders",
        revenue="revenue",
        avg_nps="avg_nps",
        avg_csat="avg_csat",
        ticket_rate=pl.col("tickets") / pl.col("orders"),
    )


def feature_matrix(features: pl.DataFrame) -> np.ndarray:
    """The distance features as a float matrix, in `FEATURES` order."""
    return features.select([f.name for f in FEATURES]).to_numpy().astype(float)
