"""Which stored customers a user sees: the segmentation's rows narrowed to the gateway's access
and to the filters' customer attributes (record filters, such as a sales channel, keep the
customers with a completed order that has them).

`sees_everyone` tells when no narrowing applies: only then may a reader use the answers the
build stored for everyone (`analytics.segments.store`), since a total over every customer
says nothing about a region's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

import polars as pl

from analytics import definitions as rules
from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS, Filters, scoped_rows
from analytics.segments.store import Segmentation
from analytics.warehouse import QueryGateway

Method = Literal["rfm", "cluster"]
METHODS: tuple[Method, ...] = ("rfm", "cluster")
UNCLUSTERED = "(no purchase)"  # the cluster of customers without a completed order
EVERYONE = Filters()


def check_method(method: str) -> Method:
    if method not in METHODS:
        raise ConfigError(
            f"The segment method must be one of {', '.join(METHODS)}. Got {method!r} instead."
        )
    return method


def sees_everyone(gateway: QueryGateway, filters: Filters) -> bool:
    """Whether this user, within `filters`, sees every stored customer: no access limit and
    no dimension chosen (membership ignores the date range)."""
    return not gateway.access.limits and not filters.with_range(None, None).selections()


def _visible_ids(filters: Filters, until: date) -> tuple[str, dict[str, object]]:
    """SQL of the customer ids this user may see within `filters`' dimensions."""
    record = [k for k in filters.selections() if DIMENSIONS[k].level == "record"]
    people = [k for k in filters.selections() if DIMENSIONS[k].level == "customer"]
    dimensions_only = filters.with_range(None, None)
    if record:
        rows, params = scoped_rows("orders", dimensions_only, until=until)
        completed = rules.completed_sql("o")
        return f"SELECT o.customer_id FROM ({rows}) o WHERE {completed}", params
    rows, params = scoped_rows("customers", dimensions_only)
    sql = f"SELECT customer_id FROM ({rows})"
    if not people:  # customers known only from their orders count too
        sql += " UNION SELECT customer_id FROM orders"
    return sql, params


def visible_condition(
    gateway: QueryGateway, filters: Filters, until: date, alias: str
) -> tuple[str | None, dict[str, object]]:
    """A condition keeping the stored customers (`alias`) this user may see within
    `filters`' dimensions; None when they see everyone, which spares reading every order's
    customer id."""
    if sees_everyone(gateway, filters):
        return None, {}
    ids, params = _visible_ids(filters, until)
    return f"{alias}.customer_id IN ({ids})", params


def where(*conditions: str | None) -> str:
    """A WHERE clause of the conditions given (none: empty)."""
    kept = [c for c in conditions if c]
    return f"WHERE {' AND '.join(kept)}" if kept else ""


def visible_customer_ids(gateway: QueryGateway, filters: Filters, as_of: date) -> list[str]:
    """The ids of the customers this user may see within `filters`' dimensions."""
    ids, params = _visible_ids(filters, as_of)
    return gateway.query(ids, params)["customer_id"].to_list()


def segment_column(method: Method, columns: Sequence[str]) -> pl.Expr:
    """A stored customer's segment by `method`: the RFM segment, or the cluster's name where
    the stored `columns` have clusters."""
    if method == "rfm" or "cluster_name" not in columns:
        return pl.col("rfm_segment")
    return pl.col("cluster_name").fill_null(UNCLUSTERED)


def segment_customers(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    method: str = "rfm",
) -> pl.DataFrame:
    """The stored customers this user may see within `filters`, with `segment` set to the
    RFM segment or the cluster name (`method`). Sorted by customer id."""
    chosen = check_method(method)
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "s")
    path = segmentation.path("customers")
    if condition is None:  # every stored customer: the file as it is, written sorted
        frame = pl.read_parquet(path)
        if not frame.get_column("customer_id").is_sorted():
            frame = frame.sort("customer_id")
    else:
        frame = gateway.query(
            f"SELECT s.* FROM read_parquet($path) s {where(condition)} ORDER BY s.customer_id",
            params | {"path": str(path)},
        )
    return frame.with_columns(segment=segment_column(chosen, frame.columns))


def customer_names(gateway: QueryGateway, ids: list[str], *, plan: bool = False) -> pl.DataFrame:
    """Name and country (and plan) of these customers, masked for viewers by the gateway."""
    extra = ", plan" if plan else ""
    return gateway.query(
        f"SELECT customer_id, name, country{extra} FROM customers WHERE customer_id = ANY($ids)",
        {"ids": ids},
    )
