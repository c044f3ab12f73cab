"""Per-customer facts and features as of a reference date: the input of RFM, clustering and
lifetime value.

`customer_facts` reads, in one query per dataset, every known customer (the CRM's and any
customer id found in orders) with their completed orders up to the reference date, their
purchase days (for the lifetime-value models), survey averages, tickets and sales-channel
mix. `clustering_features` turns facts and the fitted lifetime-value models into the
behavioural features clustering uses; `FEATURES` documents each one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

import numpy as np
import polars as pl

from analytics import clv
from analytics import definitions as rules
from analytics.contract import DATASETS
from analytics.warehouse import QueryGateway

# Days a customer needs before their purchase rate is read as a yearly rate: a customer of a
# week with one order does not buy 52 times a year.
MIN_RATE_DAYS = 90
CHANNEL_SHARES = 4  # sales channels kept by name in the mix; the rest are "other"

# One scan of the orders: per customer, completed orders up to `$as_of` and their sales
# channels (`ch`: the channel's place among the named ones, 0 for the others), every
# customer id found in the orders being known whatever its orders' status or date; per
# customer and purchase day, the spend the lifetime-value models read, as of `$as_of` and of
# any earlier cut-offs; survey answers and tickets up to `$until`.
_FACTS_SQL = """
WITH o AS (
    SELECT customer_id, order_date, amount, coalesce(discount, 0) AS discount,
           {completed} AND order_date <= $as_of AS done,
           {channel_index} AS ch
    FROM orders WHERE customer_id IS NOT NULL
), per_customer AS (
    SELECT customer_id,
           count(*) FILTER (WHERE done) AS orders,
           coalesce(sum(amount) FILTER (WHERE done), 0) AS revenue,
           coalesce(sum(discount) FILTER (WHERE done), 0) AS discount{channels}
    FROM o GROUP BY customer_id
), days AS (
    SELECT customer_id, order_date, sum(amount) AS amount FROM o WHERE done GROUP BY ALL
), per_day AS (
    SELECT customer_id,
           min(order_date) AS first_order,
           max(order_date) AS last_order,
           count(*) AS purchase_days,
           arg_min(amount, order_date) AS first_amount{cutoffs}
    FROM days GROUP BY customer_id
), known AS (
    SELECT customer_id, min(signup_date) AS signup_date FROM customers
    WHERE customer_id IS NOT NULL GROUP BY customer_id
), answers AS (
    SELECT customer_id, avg(nps) AS avg_nps, avg(csat) AS avg_csat, count(*) AS responses
    FROM surveys WHERE customer_id IS NOT NULL AND responded_at < $until
    GROUP BY customer_id
), asked AS (
    SELECT customer_id, count(*) AS tickets
    FROM tickets WHERE customer_id IS NOT NULL AND opened_at < $until
    GROUP BY customer_id
), everyone AS (
    SELECT coalesce(k.customer_id, c.customer_id) AS customer_id,
           CASE WHEN k.signup_date <= $as_of THEN k.signup_date END AS signup_date,
           coalesce(c.orders, 0) AS orders,
           coalesce(c.revenue, 0) AS revenue,
           coalesce(c.discount, 0) AS discount,
           d.* EXCLUDE (customer_id),
           c.* EXCLUDE (customer_id, orders, revenue, discount)
    FROM known k
    FULL JOIN per_customer c ON c.customer_id = k.customer_id
    LEFT JOIN per_day d ON d.customer_id = c.customer_id
)
SELECT e.*, a.avg_nps, a.avg_csat, coalesce(a.responses, 0) AS responses,
       coalesce(t.tickets, 0) AS tickets
FROM everyone e
LEFT JOIN answers a ON a.customer_id = e.customer_id
LEFT JOIN asked t ON t.customer_id = e.customer_id
ORDER BY e.customer_id
"""

# Purchase days up to an earlier cut-off (`{at}`: its parameter), in columns named with
# `{suffix}` (the first purchase day is the same as of `$as_of`, if it is before the cut-off).
_CUTOFF_SQL = """,
           max(CASE WHEN order_date <= {at} THEN order_date END) AS "last_order{suffix}",
           count(CASE WHEN order_date <= {at} THEN 1 END) AS "purchase_days{suffix}",
           sum(CASE WHEN order_date <= {at} THEN amount END) AS "purchase_amount{suffix}\""""

_TOP_CHANNELS_SQL = """
SELECT coalesce(channel, '(not set)') AS channel, count(*) AS n
FROM orders
WHERE {completed} AND order_date <= $as_of AND customer_id IS NOT NULL
GROUP BY 1 ORDER BY n DESC, channel LIMIT $top
"""

# The purchase-day columns `customer_facts` gives as of `as_of` and, suffixed, each cut-off.
PURCHASE_DAY_COLUMNS = ("first_order", "last_order", "purchase_days", "repeat_amount")


class Queries(Protocol):
    """Where facts are counted: a gateway, or a workspace holding some customers' rows."""

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pl.DataFrame: ...


def customer_facts(
    gateway: QueryGateway, as_of: date, cutoffs: Sequence[date] = ()
) -> pl.DataFrame:
    """Every known customer with what they did up to `as_of` (inclusive).

    Returns
    -------
    polars.DataFrame
        One row per customer, sorted by `customer_id`: `signup_date`, completed `orders`,
        `revenue`, `discount` (currency), `first_order`, `last_order`, `purchase_days`
        (days with a completed order), `repeat_amount` (spend on purchase days after the
        first), `avg_nps`, `avg_csat`, `responses`, `tickets` (null or 0 where none), and
        `channel_<name>`: the share of the customer's completed orders in each of the
        `CHANNEL_SHARES` most used sales channels, and `channel_other` (null for customers
        without completed orders). For each of `cutoffs` (dates before `as_of`), the
        `PURCHASE_DAY_COLUMNS` up to that date too, read with `facts_at`; all from one pass
        over the orders.
    """
    top = top_channels(gateway, as_of)
    return finished_facts(counted_facts(gateway, as_of, cutoffs, top), cutoffs, top)


def top_channels(gateway: QueryGateway, as_of: date) -> list[str]:
    """The `CHANNEL_SHARES` sales channels with the most completed orders up to `as_of`."""
    sql = _TOP_CHANNELS_SQL.format(**rules.sql_rules())
    top: list[str] = gateway.query(sql, {"as_of": as_of, "top": CHANNEL_SHARES})[
        "channel"
    ].to_list()
    return top


def counted_facts(
    source: Queries, as_of: date, cutoffs: Sequence[date], top: Sequence[str]
) -> pl.DataFrame:
    """The counts `customer_facts` are made of (`finished_facts`), by customer: one query
    over the `orders`, `customers`, `surveys` and `tickets` that `source` reads, with the
    channels `top` named (`n_channel_<i>`), the first purchase day's amount and the amounts
    up to each cut-off."""
    if any(cutoff > as_of for cutoff in cutoffs):
        raise ValueError(f"Cut-offs must not be after {as_of}: got {list(cutoffs)}.")
    until = datetime.combine(as_of + timedelta(days=1), time.min)
    params: dict[str, object] = {"as_of": as_of, "until": until}
    params |= {f"channel_{i}": channel for i, channel in enumerate(top)}
    params |= {f"cutoff_{i}": cutoff for i, cutoff in enumerate(cutoffs)}
    sql = _FACTS_SQL.format(
        channel_index="CASE coalesce(channel, '(not set)') "
        + "".join(f"WHEN $channel_{i} THEN {i + 1} " for i in range(len(top)))
        + "ELSE 0 END",
        channels="".join(
            f",\n count(*) FILTER (WHERE done AND ch = {i + 1}) AS n_channel_{i}"
            for i in range(len(top))
        ),
        cutoffs="".join(
            _CUTOFF_SQL.format(at=f"$cutoff_{i}", suffix=suffix(cutoff))
            for i, cutoff in enumerate(cutoffs)
        ),
        **rules.sql_rules(),
    )
    return source.query(sql, params)


def columns_counted(name: str) -> tuple[str, ...]:
    """The columns of dataset `name` that `counted_facts` reads."""
    sql = _FACTS_SQL.format(**rules.sql_rules(), channel_index="channel", channels="", cutoffs="")
    words = set(re.findall(r"\w+", sql))
    return tuple(c for c in DATASETS[name].column_names if c in words)


def finished_facts(
    counted: pl.DataFrame, cutoffs: Sequence[date], top: Sequence[str]
) -> pl.DataFrame:
    """`customer_facts` from their counts (`counted_facts` with these `cutoffs` and `top`)."""
    first = pl.col("first_order")
    return (
        counted.with_columns(
            pl.col("^purchase_days.*$").fill_null(0),
            repeat_amount=pl.when(pl.col("purchase_days") > 0)
            .then(pl.col("revenue") - pl.col("first_amount"))
            .otherwise(0.0),
            **{f"first_order{suffix(c)}": pl.when(first <= c).then(first) for c in cutoffs},
            **{
                f"repeat_amount{suffix(c)}": pl.when(pl.col(f"purchase_days{suffix(c)}") > 0)
                .then(pl.col(f"purchase_amount{suffix(c)}") - pl.col("first_amount"))
                .otherwise(0.0)
                for c in cutoffs
            },
        )
        .with_columns(_channel_shares(list(top)))
        .drop(
            "first_amount",
            *(c for c in counted.columns if c.startswith(("purchase_amount", "n_channel_"))),
        )
    )


def suffix(cutoff: date) -> str:
    """The suffix of the columns counted up to `cutoff`."""
    return f"@{cutoff.isoformat()}"


def _channel_shares(top: list[str]) -> list[pl.Expr]:
    """The share of completed orders in each named channel (channels whose names read the
    same in a column name share it) and in the others; null without completed orders."""
    columns: dict[str, list[str]] = {}
    for i, channel in enumerate(top):
        name = "channel_" + re.sub(r"\W+", "_", channel.lower())
        columns.setdefault(name, []).append(f"n_channel_{i}")
    orders = pl.when(pl.col("orders") > 0).then(pl.col("orders"))
    named = [pl.sum_horizontal(counts) for counts in columns.values()]
    other = pl.col("orders") - pl.sum_horizontal(named) if named else pl.col("orders")
    return [
        *(
            (counts / orders).alias(name)
            for name, counts in sorted(zip(columns, named, strict=True))
        ),
        (other / orders).alias("channel_other"),
    ]


def facts_at(facts: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """The `PURCHASE_DAY_COLUMNS` up to `cutoff` (one of `customer_facts`' cut-offs) under
    their usual names, by `customer_id`: what `purchase_summary` reads."""
    return facts.select(
        "customer_id", *(pl.col(f"{c}{suffix(cutoff)}").alias(c) for c in PURCHASE_DAY_COLUMNS)
    )


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
        # Without any spend (orders without an amount) there is nothing to weigh: the
        # population's share.
        discount_share=pl.when(pl.col("revenue") > 0)
        .then(
            (pl.col("discount") + population_share * mean_order) / (pl.col("revenue") + mean_order)
        )
        .otherwise(population_share),
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
