"""Customer segmentation: RFM segments, behavioural clusters, migration and lifetime value.

The heavy work happens once per data version (`store.refresh`, after loads); the functions
here read the stored segmentation for one user and one set of filters:

- `segment_customers`: one row per customer with the chosen method's `segment`, scores,
  features and lifetime value;
- `segment_summary`: per segment, its size, revenue, lifetime value (with a 95 % interval
  from the purchase model's parameter uncertainty) and NPS;
- `segment_migration`: the RFM transition matrix between two quarter ends;
- `fading_customers`: valuable customers whose P(alive) is falling, by value at risk.

Rows are narrowed to the gateway's access (the stored table is read through the same views
that narrow every dataset) and to the filters' customer attributes; record filters (sales
channel, product category) keep the customers with a completed order that has them.
Membership is as of the segmentation's reference date (the end of the data), whatever the
filters' date range; migration compares earlier quarter ends. Viewers see no segment, flow
or list resting on fewer than the minimum of customers (`analytics.disclosure`).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import polars as pl

from analytics import clv, disclosure
from analytics import definitions as rules
from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS, Filters, scoped_rows
from analytics.segments.migration import MIGRATION_SCHEMA, migration
from analytics.segments.migration import flow_customers as migration_flow_ids
from analytics.segments.rfm import PROSPECTS, SEGMENT_ORDER
from analytics.segments.store import (
    GRADIENT_PREFIX,
    Segmentation,
    ValueSettings,
    current,
    fit_from_meta,
    pending,
    refresh,
)
from analytics.warehouse import QueryGateway

__all__ = [
    "METHODS",
    "PROSPECTS",
    "Segmentation",
    "ValueSettings",
    "current",
    "fading_customers",
    "pending",
    "refresh",
    "segment_customers",
    "segment_migration",
    "segment_summary",
    "visible_customer_ids",
]

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


def _visible_where(
    gateway: QueryGateway, filters: Filters, until: date, alias: str
) -> tuple[str, dict[str, object]]:
    """A WHERE clause keeping the stored customers (`alias`) this user may see within
    `filters`' dimensions; none when they see everyone (no filter, no access limit), which
    spares reading every order's customer id."""
    if not filters.with_range(None, None).selections() and not gateway.access.limits:
        return "", {}
    ids, params = _visible_ids(filters, until)
    return f"WHERE {alias}.customer_id IN ({ids})", params


def visible_customer_ids(gateway: QueryGateway, filters: Filters, as_of: date) -> list[str]:
    """The ids of the customers this user may see within `filters`' dimensions."""
    ids, params = _visible_ids(filters, as_of)
    return gateway.query(ids, params)["customer_id"].to_list()


def segment_customers(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    method: str = "rfm",
) -> pl.DataFrame:
    """The stored customers this user may see within `filters`, with `segment` set to the
    RFM segment or the cluster name (`method`). Sorted by customer id."""
    chosen = check_method(method)
    where, params = _visible_where(gateway, filters, segmentation.as_of, "s")
    params["path"] = str(segmentation.path("customers"))
    frame = gateway.query(
        f"SELECT s.* FROM read_parquet($path) s {where} ORDER BY s.customer_id", params
    )
    if chosen == "rfm" or "cluster_name" not in frame.columns:
        segment = pl.col("rfm_segment")
    else:
        segment = pl.col("cluster_name").fill_null(UNCLUSTERED)
    return frame.with_columns(segment=segment)


SUMMARY_SCHEMA = pl.Schema(
    {
        "segment": pl.String(),
        "customers": pl.Int64(),
        "share": pl.Float64(),
        "revenue": pl.Float64(),
        "revenue_share": pl.Float64(),
        "clv": pl.Float64(),
        "clv_low": pl.Float64(),
        "clv_high": pl.Float64(),
        "mean_clv": pl.Float64(),
        "p_alive": pl.Float64(),
        "value_at_risk": pl.Float64(),
        "nps": pl.Float64(),
        "nps_n": pl.Int64(),
        "hidden": pl.String(),
        "nps_hidden": pl.String(),
    }
)

_NPS_SQL = """
SELECT customer_id,
       count(nps) AS nps_n,
       count(*) FILTER (WHERE {promoter}) AS promoters,
       count(*) FILTER (WHERE {detractor}) AS detractors
FROM surveys
WHERE customer_id IS NOT NULL AND CAST(responded_at AS DATE) > $since
  AND CAST(responded_at AS DATE) <= $as_of
GROUP BY customer_id
"""
NPS_DAYS = 365  # the NPS of a segment: its customers' answers in the year to the reference date


def segment_summary(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    method: str = "rfm",
) -> pl.DataFrame:
    """One row per segment: customers and their share, revenue to date and its share, the
    sum of CLV over the horizon with its 95 % interval, mean CLV and P(alive), value at
    risk, and the NPS of the segment's answers in the last `NPS_DAYS` (with its n).
    `SUMMARY_SCHEMA`, in the segments' order. For viewers, segments under the minimum of
    customers are hidden (`hidden`: the reason), and so is an NPS under the minimum of
    answers (`nps_hidden`), each with one more where a single one would follow from the
    total."""
    people = segment_customers(gateway, segmentation, filters, method)
    as_of = segmentation.as_of
    answers = gateway.query(
        _NPS_SQL.format(**rules.sql_rules()),
        {"since": as_of.replace(year=as_of.year - 1), "as_of": as_of},
    )
    people = people.join(answers, on="customer_id", how="left")
    has_value = "clv" in people.columns
    value = pl.col("clv") if has_value else pl.lit(None, dtype=pl.Float64)
    grouped = people.group_by("segment").agg(
        customers=pl.len(),
        revenue=pl.col("revenue").sum(),
        clv=pl.when(value.count() > 0).then(value.sum()),
        mean_clv=value.mean(),
        p_alive=(pl.col("p_alive_now") if has_value else pl.lit(None, pl.Float64)).mean(),
        value_at_risk=pl.when(value.count() > 0).then(
            (pl.col("value_at_risk") if has_value else pl.lit(None, pl.Float64)).sum()
        ),
        promoters=pl.col("promoters").sum(),
        detractors=pl.col("detractors").sum(),
        nps_n=pl.col("nps_n").sum(),
    )
    half = _clv_half_widths(people, segmentation) if has_value else {}
    total_customers = max(people.height, 1)
    total_revenue = float(people["revenue"].sum()) or 1.0
    summary = grouped.with_columns(
        share=100.0 * pl.col("customers") / total_customers,
        revenue_share=100.0 * pl.col("revenue") / total_revenue,
        nps=pl.when(pl.col("nps_n") > 0).then(
            100.0 * (pl.col("promoters") - pl.col("detractors")) / pl.col("nps_n")
        ),
        clv_low=pl.col("clv")
        - pl.col("segment").replace_strict(half, default=None, return_dtype=pl.Float64),
        clv_high=pl.col("clv")
        + pl.col("segment").replace_strict(half, default=None, return_dtype=pl.Float64),
        unit=pl.lit("customers"),
        line=pl.lit(0),
    )
    summary = disclosure.protect(
        summary,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("line",))],
    )
    summary = disclosure.blank(
        summary,
        [c for c in SUMMARY_SCHEMA.names() if c not in ("segment", "hidden", "nps_hidden")],
    )
    # NPS rests on its own answers, fewer than the customers: hidden on their count.
    answers_cells = summary.with_columns(
        unit=pl.lit("responses"), nps_n=pl.col("nps_n").fill_null(0)
    ).rename({"hidden": "row_hidden"})
    answers_cells = disclosure.protect(
        answers_cells,
        count="nps_n",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("line",))],
        hidden="row_hidden",
    )
    summary = disclosure.blank(answers_cells, ["nps", "nps_n"]).rename(
        {"hidden": "nps_hidden", "row_hidden": "hidden"}
    )
    order = _segment_order(summary["segment"].to_list(), segmentation)
    return (
        summary.with_columns(
            pl.col("segment").replace_strict(order, return_dtype=pl.Int64).alias("_o")
        )
        .sort("_o")
        .select(SUMMARY_SCHEMA.names())
        .cast(SUMMARY_SCHEMA)
    )


def _segment_order(names: list[str], segmentation: Segmentation) -> dict[str, int]:
    known = [*SEGMENT_ORDER, *(c["name"] for c in segmentation.clusters), UNCLUSTERED]
    ordered = [n for n in dict.fromkeys(known) if n in names]
    ordered += sorted(n for n in names if n not in known)
    return {name: i for i, name in enumerate(ordered)}


def _clv_half_widths(people: pl.DataFrame, segmentation: Segmentation) -> dict[str, float]:
    """Half-width of the 95 % interval of each segment's CLV sum from the models' parameter
    uncertainty (delta method on the stored per-customer gradients)."""
    meta = segmentation.meta
    if "purchases" not in meta:
        return {}
    purchases, spend = fit_from_meta(meta["purchases"]), fit_from_meta(meta["spend"])
    columns = [c for c in people.columns if c.startswith(GRADIENT_PREFIX)]
    sums = people.group_by("segment").agg(pl.col(columns).fill_null(0.0).sum())
    return {
        row["segment"]: clv.sum_interval(
            {c.removeprefix(GRADIENT_PREFIX): np.array([row[c]]) for c in columns},
            purchases,
            spend,
        )
        for row in sums.iter_rows(named=True)
    }


def segment_migration(
    gateway: QueryGateway,
    segmentation: Segmentation,
    before: str,
    after: str,
    filters: Filters = EVERYONE,
) -> pl.DataFrame:
    """The RFM transition matrix from the end of quarter `before` to the end of `after`
    (labels like "2025-Q1"), for the customers this user may see within `filters`:
    `MIGRATION_SCHEMA` plus `hidden`."""
    quarters = _quarters(gateway, segmentation, filters)
    labels = set(quarters["quarter"].unique().to_list())
    for label in (before, after):
        if label not in labels:
            known = ", ".join(sorted(labels)) or "none"
            raise ConfigError(f"There is no quarter {label!r} in the data. Quarters: {known}.")
    table = migration(quarters, before, after).with_columns(unit=pl.lit("customers"))
    table = disclosure.protect(
        table,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("from_segment",)), disclosure.Line(("to_segment",))],
    )
    return disclosure.blank(table, ["customers", "share"]).drop("unit")


def _quarters(gateway: QueryGateway, segmentation: Segmentation, filters: Filters) -> pl.DataFrame:
    where, params = _visible_where(gateway, filters, segmentation.as_of, "q")
    params["path"] = str(segmentation.path("quarters"))
    return gateway.query(f"SELECT q.* FROM read_parquet($path) q {where}", params)


def quarter_labels(gateway: QueryGateway, segmentation: Segmentation) -> list[str]:
    """The quarters migration can compare, oldest first."""
    params = {"path": str(segmentation.path("quarters"))}
    found = gateway.query_derived(
        "SELECT DISTINCT quarter FROM read_parquet($path) ORDER BY quarter", params
    )
    return found["quarter"].to_list()


def _names(gateway: QueryGateway, ids: list[str], *, plan: bool = False) -> pl.DataFrame:
    """Name and country (and plan) of these customers, masked for viewers by the gateway."""
    extra = ", plan" if plan else ""
    return gateway.query(
        f"SELECT customer_id, name, country{extra} FROM customers WHERE customer_id = ANY($ids)",
        {"ids": ids},
    )


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


def fading_customers(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    *,
    limit: int = 100,
) -> pl.DataFrame:
    """ "Who to call this week": customers whose P(alive) fell over the last month, by value
    at risk (what they would be worth over the horizon if still buying, times the chance
    they are not). Empty without the purchase model."""
    path = segmentation.path("customers")
    if "value_at_risk" not in pl.read_parquet_schema(path):
        return pl.DataFrame(schema=FADING_SCHEMA)
    where, params = _visible_where(gateway, filters, segmentation.as_of, "s")
    falling = "s.p_alive_before IS NOT NULL AND s.p_alive_now < s.p_alive_before"
    where = f"{where} AND {falling}" if where else f"WHERE {falling}"
    fading = gateway.query(
        "SELECT s.customer_id, s.rfm_segment, s.cluster_name, s.revenue, s.p_alive_before, "
        "s.p_alive_now, s.clv, s.value_at_risk, count(*) OVER () AS fading "
        f"FROM read_parquet($path) s {where} "
        "ORDER BY s.value_at_risk DESC, s.customer_id LIMIT $limit",
        params | {"path": str(path), "limit": limit},
    )
    if fading.is_empty() or fading["fading"][0] < gateway.access.min_group:
        return pl.DataFrame(schema=FADING_SCHEMA)
    names = _names(gateway, fading["customer_id"].to_list())
    joined = fading.join(names, on="customer_id", how="left", maintain_order="left")
    return joined.select(FADING_SCHEMA.names()).cast(FADING_SCHEMA)


__all__ += ["MIGRATION_SCHEMA", "SUMMARY_SCHEMA", "quarter_labels"]


GRID_SCHEMA = pl.Schema(
    {"r": pl.Int8(), "f": pl.Int8(), "customers": pl.Int64(), "hidden": pl.String()}
)


def rfm_grid(
    gateway: QueryGateway, segmentation: Segmentation, filters: Filters = EVERYONE
) -> pl.DataFrame:
    """Buyers per R and F score (the RFM grid), every one of the 25 cells present; cells
    under the minimum hidden for viewers, with their row and column protected."""
    people = segment_customers(gateway, segmentation, filters).filter(pl.col("r").is_not_null())
    counts = people.group_by("r", "f").agg(customers=pl.len())
    cells = pl.DataFrame(
        [(r, f) for r in range(5, 0, -1) for f in range(1, 6)],
        schema={"r": pl.Int8, "f": pl.Int8},
        orient="row",
    ).join(counts, on=["r", "f"], how="left")
    cells = cells.with_columns(pl.col("customers").fill_null(0), unit=pl.lit("customers"))
    cells = disclosure.protect(
        cells,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("r",)), disclosure.Line(("f",))],
    )
    return disclosure.blank(cells, ["customers"]).select(GRID_SCHEMA.names()).cast(GRID_SCHEMA)


def members(
    gateway: QueryGateway,
    segmentation: Segmentation,
    segment: str,
    filters: Filters = EVERYONE,
    method: str = "rfm",
    *,
    limit: int = 5_000,
) -> pl.DataFrame:
    """The customers of one segment, highest CLV (then revenue) first, with their names
    (masked for viewers) and what the segment page shows of them. Empty for a viewer when
    the segment has fewer customers than the minimum."""
    people = segment_customers(gateway, segmentation, filters, method).filter(
        pl.col("segment") == segment
    )
    if 0 < people.height < gateway.access.min_group:
        return people.head(0)
    names = _names(gateway, people["customer_id"].to_list(), plan=True)
    value = "clv" if "clv" in people.columns else "revenue"
    ordered = people.sort(
        [value, "revenue", "customer_id"], descending=[True, True, False], nulls_last=True
    )
    keep = [
        c
        for c in (
            "customer_id",
            "segment",
            "rfm_segment",
            "cluster_name",
            "recency_days",
            "frequency",
            "monetary",
            "revenue",
            "p_alive_now",
            "clv",
            "value_at_risk",
        )
        if c in ordered.columns
    ]
    joined = ordered.head(limit).select(keep).join(names, on="customer_id", how="left")
    front = ["customer_id", "name", "country", "plan"]
    return joined.select(front + [c for c in joined.columns if c not in front])


def projection(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    *,
    sample: int = 20_000,
    seed: int = 0,
) -> pl.DataFrame:
    """The buyers' clustering features projected on their first two principal components
    (`x`, `y`), with `segment` (cluster name) and `rfm_segment`; a seeded sample of at most
    `sample` customers. Empty without clusters."""
    people = segment_customers(gateway, segmentation, filters, "cluster")
    columns = [c for c in people.columns if c.startswith("feature_")]
    buyers = people.filter(pl.col("cluster").is_not_null()) if columns else people.head(0)
    if buyers.height < 3:
        return pl.DataFrame(
            schema={
                "customer_id": pl.String,
                "x": pl.Float64,
                "y": pl.Float64,
                "segment": pl.String,
            }
        )
    if buyers.height > sample:
        buyers = buyers.sample(sample, seed=seed).sort("customer_id")
    from sklearn.decomposition import PCA  # imported when used: pages start without it
    from sklearn.preprocessing import StandardScaler

    matrix = StandardScaler().fit_transform(buyers.select(columns).to_numpy())
    points = PCA(n_components=2, random_state=seed).fit_transform(matrix)
    return buyers.select("customer_id", "segment", "rfm_segment").with_columns(
        x=pl.Series(points[:, 0]), y=pl.Series(points[:, 1])
    )


__all__ += ["GRID_SCHEMA", "members", "projection", "rfm_grid"]


def segment_trend(
    gateway: QueryGateway, segmentation: Segmentation, filters: Filters = EVERYONE
) -> pl.DataFrame:
    """Buyers per RFM segment at each quarter end (`segment`, `quarter`, `customers`,
    `hidden`), oldest first; counts under the minimum hidden for viewers, with each
    quarter's segments protected as a line."""
    quarters = _quarters(gateway, segmentation, filters)
    counts = quarters.group_by("rfm_segment", "quarter").agg(customers=pl.len())
    grid = (
        quarters.select("quarter")
        .unique()
        .join(quarters.select("rfm_segment").unique(), how="cross")
        .join(counts, on=["rfm_segment", "quarter"], how="left")
        .with_columns(pl.col("customers").fill_null(0), unit=pl.lit("customers"))
    )
    grid = disclosure.protect(
        grid,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("quarter",))],
    )
    return (
        disclosure.blank(grid, ["customers"])
        .select(segment="rfm_segment", quarter="quarter", customers="customers", hidden="hidden")
        .sort("segment", "quarter")
    )


__all__ += ["segment_trend"]


class NotBuilt(ConfigError):
    """The segmentation of the current data is not built yet (it is, in the background)."""


def flow_members(
    gateway: QueryGateway,
    segmentation: Segmentation,
    before: str,
    after: str,
    origin: str,
    target: str,
    filters: Filters = EVERYONE,
) -> pl.DataFrame:
    """The customers behind one flow of `segment_migration` (from `origin` at the end of
    `before` to `target` at the end of `after`), as `members` lists them; empty for a
    viewer when the flow is hidden."""
    table = segment_migration(gateway, segmentation, before, after, filters)
    flow = table.filter((pl.col("from_segment") == origin) & (pl.col("to_segment") == target))
    if flow.is_empty() or flow["hidden"][0] is not None:
        return pl.DataFrame(schema={"customer_id": pl.String(), "name": pl.String()})
    ids = migration_flow_ids(
        _quarters(gateway, segmentation, filters), before, after, origin, target
    )
    people = segment_customers(gateway, segmentation, filters).filter(
        pl.col("customer_id").is_in(ids)
    )
    names = _names(gateway, ids)
    value = [c for c in ("clv", "p_alive_now") if c in people.columns]
    return (
        people.select("customer_id", "rfm_segment", "recency_days", "frequency", "revenue", *value)
        .join(names, on="customer_id", how="left")
        .sort("revenue", descending=True)
        .select("customer_id", "name", "country", pl.exclude("customer_id", "name", "country"))
    )


__all__ += ["NotBuilt", "flow_members"]


def customer_segments(
    gateway: QueryGateway, segmentation: Segmentation, customer_id: str
) -> tuple[dict[str, object] | None, pl.DataFrame]:
    """One customer's stored row (segment, cluster, lifetime value; None when this user may
    not see them) and their RFM segment at each quarter end, oldest first."""
    params: dict[str, object] = {"id": customer_id}
    visible = gateway.query(
        "SELECT customer_id FROM customers WHERE customer_id = $id "
        "UNION SELECT customer_id FROM orders WHERE customer_id = $id",
        params,
    )
    if visible.is_empty():
        return None, pl.DataFrame(schema={"quarter": pl.String(), "rfm_segment": pl.String()})
    row = gateway.query_derived(
        "SELECT * FROM read_parquet($path) WHERE customer_id = $id",
        params | {"path": str(segmentation.path("customers"))},
    )
    history = gateway.query_derived(
        "SELECT quarter, rfm_segment FROM read_parquet($path) WHERE customer_id = $id "
        "ORDER BY quarter",
        params | {"path": str(segmentation.path("quarters"))},
    )
    return (row.row(0, named=True) if row.height else None), history


__all__ += ["customer_segments"]
