"""Who to call this week: valuable customers whose chance of still buying (P(alive)) fell
over the last month, by value at risk.

Picking them reads every stored customer's P(alive) twice and value at risk. The list of a
user who sees every customer is the same for all such users, so the build picks its first
`STORED` rows once (`PART`); others' lists are picked from their own customers. Names are
looked up when a list is read, masked for viewers.
"""

from __future__ import annotations

import polars as pl

from analytics.filters import Filters
from analytics.segments.store import Segmentation
from analytics.segments.visible import (
    EVERYONE,
    customer_names,
    sees_everyone,
    visible_condition,
    where,
)
from analytics.warehouse import QueryGateway

PART = "fading"  # segments-<key>.fading.parquet: everyone's first `STORED` rows
STORED = 100  # the longest list stored (the page's); shorter ones are its head

FADING_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "name": pl.String(),
        "country": pl.String(),
        "rfm_segment": pl.String(),
        "cluster_name": pl.String(),
        "revenue": pl.Float64(),
        "p_alive_before": pl.Float64(),
        "p_alive_now": pl.Float64(),
        "clv": pl.Float64(),
        "value_at_risk": pl.Float64(),
    }
)
# What is picked before the names: the stored columns and how many are fading in all.
ROWS_SCHEMA = pl.Schema(
    {
        **{c: t for c, t in FADING_SCHEMA.items() if c not in ("name", "country")},
        "fading": pl.Int64(),
    }
)


def fading_customers(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    *,
    limit: int = STORED,
) -> pl.DataFrame:
    """ "Who to call this week": customers whose P(alive) fell over the last month, by value
    at risk (what they would be worth over the horizon if still buying, times the chance
    they are not). Empty without the purchase model, and for a viewer when fewer than the
    minimum are fading."""
    if sees_everyone(gateway, filters) and limit <= STORED:
        fading = pl.read_parquet(segmentation.path(PART)).head(limit)
    else:
        fading = fading_rows(gateway, segmentation, filters, limit=limit)
    if fading.is_empty() or fading["fading"][0] < gateway.access.min_group:
        return pl.DataFrame(schema=FADING_SCHEMA)
    names = customer_names(gateway, fading["customer_id"].to_list())
    joined = fading.join(names, on="customer_id", how="left", maintain_order="left")
    return joined.select(FADING_SCHEMA.names()).cast(FADING_SCHEMA)


def fading_rows(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    *,
    limit: int = STORED,
) -> pl.DataFrame:
    """The first `limit` fading customers this user may see within `filters`, unnamed, with
    how many are fading in all (`ROWS_SCHEMA`; empty without the purchase model)."""
    path = segmentation.path("customers")
    if "value_at_risk" not in pl.read_parquet_schema(path):
        return pl.DataFrame(schema=ROWS_SCHEMA)
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "s")
    falling = "s.p_alive_before IS NOT NULL AND s.p_alive_now < s.p_alive_before"
    return gateway.query(
        "SELECT s.customer_id, s.rfm_segment, s.cluster_name, s.revenue, s.p_alive_before, "
        "s.p_alive_now, s.clv, s.value_at_risk, count(*) OVER () AS fading "
        f"FROM read_parquet($path) s {where(condition, falling)} "
        "ORDER BY s.value_at_risk DESC, s.customer_id LIMIT $limit",
        params | {"path": str(path), "limit": limit},
    )
