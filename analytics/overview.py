"""Headline numbers for the Overview: the whole data range, straight from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.warehouse import QueryGateway

# Completed orders exclude returns and cancellations (docs/metrics.md).
_HEADLINE_SQL = """
WITH o AS (
    SELECT count(*) AS orders, coalesce(sum(amount), 0) AS revenue,
           min(order_date) AS first_order, max(order_date) AS last_order
    FROM orders WHERE coalesce(status, 'completed') = 'completed'
), s AS (
    SELECT count(*) AS responses,
           count(nps) AS nps_n,
           count(*) FILTER (WHERE nps >= 9) AS promoters,
           count(*) FILTER (WHERE nps <= 6) AS detractors,
           count(csat) AS csat_n,
           count(*) FILTER (WHERE csat >= 4) AS satisfied
    FROM surveys
), c AS (SELECT count(*) AS customers FROM customers)
SELECT * FROM c, o, s
"""


@dataclass(frozen=True)
class Headline:
    """The Overview's numbers; scores are None when there is nothing to score."""

    customers: int
    orders: int
    revenue: float
    responses: int
    nps: float | None
    nps_n: int
    csat: float | None
    csat_n: int


def headline(gateway: QueryGateway) -> Headline:
    """Customers, completed orders and their revenue, survey responses, NPS and CSAT.

    NPS = 100 × (promoters 9–10 − detractors 0–6) / responses with an NPS score.
    CSAT = 100 × share of CSAT responses scoring 4 or 5.
    """
    row = gateway.query(_HEADLINE_SQL).row(0, named=True)
    nps_n, csat_n = int(row["nps_n"]), int(row["csat_n"])
    nps = 100.0 * (row["promoters"] - row["detractors"]) / nps_n if nps_n else None
    csat = 100.0 * row["satisfied"] / csat_n if csat_n else None
    return Headline(
        customers=int(row["customers"]),
        orders=int(row["orders"]),
        revenue=float(row["revenue"]),
        responses=int(row["responses"]),
        nps=nps,
        nps_n=nps_n,
        csat=csat,
        csat_n=csat_n,
    )
