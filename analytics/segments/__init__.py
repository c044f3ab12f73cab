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

A user who sees every customer (no access limit, no dimension chosen) reads what the build
stored for everyone where reading every customer would take seconds at a million of them
(the segment table, the projection, the flows between quarters, who to call); other counts
are counted by DuckDB where the stored files are read, and drill lists are picked there
and name only the customers they show.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from analytics import disclosure
from analytics.errors import ConfigError
from analytics.filters import Filters
from analytics.segments.fading import FADING_SCHEMA, fading_customers
from analytics.segments.migration import MIGRATION_SCHEMA, migration_table
from analytics.segments.migration import flow_customers as migration_flow_ids
from analytics.segments.profiles import projection
from analytics.segments.rfm import PROSPECTS, SEGMENT_ORDER
from analytics.segments.store import (
    Segmentation,
    ValueSettings,
    current,
    earlier,
    pending,
    refresh,
)
from analytics.segments.summary import NPS_DAYS, SUMMARY_SCHEMA, segment_summary
from analytics.segments.visible import (
    EVERYONE,
    METHODS,
    UNCLUSTERED,
    Method,
    check_method,
    customer_names,
    sees_everyone,
    segment_customers,
    visible_condition,
    visible_customer_ids,
    where,
)
from analytics.warehouse import QueryGateway

__all__ = [
    "EVERYONE",
    "FADING_SCHEMA",
    "METHODS",
    "NPS_DAYS",
    "PROSPECTS",
    "SEGMENT_ORDER",
    "UNCLUSTERED",
    "Method",
    "Segmentation",
    "ValueSettings",
    "check_method",
    "current",
    "earlier",
    "fading_customers",
    "pending",
    "refresh",
    "segment_customers",
    "segment_migration",
    "segment_summary",
    "visible_customer_ids",
]


# The flows of the customers a limited user sees, counted where the quarters file is read:
# of every buyer at every quarter end, two quarters (DuckDB skips the others' row groups).
_MIGRATION_SQL = """
WITH q AS (
    SELECT q.customer_id, q.quarter, q.rfm_segment FROM read_parquet($path) q {where}
)
SELECT coalesce(b.rfm_segment, $prospects) AS from_segment, a.rfm_segment AS to_segment,
       count(*) AS customers
FROM q a LEFT JOIN q b ON b.customer_id = a.customer_id AND b.quarter = $before
WHERE a.quarter = $after
GROUP BY ALL
"""


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
    counts = _stored_flows(segmentation, before, after) if sees_everyone(gateway, filters) else None
    if counts is None:
        counts = _counted_flows(gateway, segmentation, before, after, filters)
    table = migration_table(counts).with_columns(unit=pl.lit("customers"))
    table = disclosure.protect(
        table,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("from_segment",)), disclosure.Line(("to_segment",))],
    )
    return disclosure.blank(table, ["customers", "share"]).drop("unit")


def _stored_flows(segmentation: Segmentation, before: str, after: str) -> pl.DataFrame | None:
    """The flows the build counted for everyone between these quarters (None: not stored,
    as for a later quarter to an earlier one)."""
    flows = (
        pl.scan_parquet(segmentation.path("migration"))
        .filter((pl.col("before") == before) & (pl.col("after") == after))
        .select("from_segment", "to_segment", "customers")
        .collect()
    )
    return None if flows.is_empty() else flows


def _counted_flows(
    gateway: QueryGateway, segmentation: Segmentation, before: str, after: str, filters: Filters
) -> pl.DataFrame:
    """The flows between these quarters of the customers this user may see."""
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "q")
    params["path"] = str(segmentation.path("quarters"))
    found = gateway.query(
        f"SELECT DISTINCT q.quarter FROM read_parquet($path) q {where(condition)}", params
    )
    labels = set(found["quarter"].to_list())
    for label in (before, after):
        if label not in labels:
            known = ", ".join(sorted(labels)) or "none"
            raise ConfigError(f"There is no quarter {label!r} in the data. Quarters: {known}.")
    return gateway.query(
        _MIGRATION_SQL.format(where=where(condition, "q.quarter IN ($before, $after)")),
        params | {"before": before, "after": after, "prospects": PROSPECTS},
    )


def _quarters(gateway: QueryGateway, segmentation: Segmentation, filters: Filters) -> pl.DataFrame:
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "q")
    params["path"] = str(segmentation.path("quarters"))
    return gateway.query(f"SELECT q.* FROM read_parquet($path) q {where(condition)}", params)


def quarter_labels(gateway: QueryGateway, segmentation: Segmentation) -> list[str]:
    """The quarters migration can compare, oldest first."""
    params = {"path": str(segmentation.path("quarters"))}
    found = gateway.query_derived(
        "SELECT DISTINCT quarter FROM read_parquet($path) ORDER BY quarter", params
    )
    return found["quarter"].to_list()


__all__ += ["MIGRATION_SCHEMA", "SUMMARY_SCHEMA", "quarter_labels"]


GRID_SCHEMA = pl.Schema(
    {"r": pl.Int8(), "f": pl.Int8(), "customers": pl.Int64(), "hidden": pl.String()}
)


def rfm_grid(
    gateway: QueryGateway, segmentation: Segmentation, filters: Filters = EVERYONE
) -> pl.DataFrame:
    """Buyers per R and F score (the RFM grid), every one of the 25 cells present; cells
    under the minimum hidden for viewers, with their row and column protected."""
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "s")
    counts = gateway.query(
        "SELECT s.r, s.f, count(*) AS customers FROM read_parquet($path) s "
        f"{where(condition, 's.r IS NOT NULL')} GROUP BY ALL",
        params | {"path": str(segmentation.path("customers"))},
    )
    cells = pl.DataFrame(
        [(r, f) for r in range(5, 0, -1) for f in range(1, 6)],
        schema={"r": pl.Int8, "f": pl.Int8},
        orient="row",
    ).join(counts, on=["r", "f"], how="left", maintain_order="left")
    cells = cells.with_columns(pl.col("customers").fill_null(0), unit=pl.lit("customers"))
    cells = disclosure.protect(
        cells,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("r",)), disclosure.Line(("f",))],
    )
    return disclosure.blank(cells, ["customers"]).select(GRID_SCHEMA.names()).cast(GRID_SCHEMA)


MEMBER_COLUMNS = (
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
    the segment has fewer customers than the minimum.

    The segment, the order and the limit are applied where the stored table is read, and
    only the customers listed are named: the largest segment of a million customers holds
    hundreds of thousands."""
    chosen = check_method(method)
    stored = pl.read_parquet_schema(segmentation.path("customers"))
    if chosen == "rfm" or "cluster_name" not in stored:
        segment_sql = "s.rfm_segment"
    else:
        segment_sql = "coalesce(s.cluster_name, $unclustered)"
    params: dict[str, object] = {"segment": segment}
    if "$unclustered" in segment_sql:
        params["unclustered"] = UNCLUSTERED
    return _listed(
        gateway, segmentation, filters, f"{segment_sql} = $segment", params, segment_sql, limit
    )


def grid_members(
    gateway: QueryGateway,
    segmentation: Segmentation,
    r: int,
    f: int,
    filters: Filters = EVERYONE,
    *,
    limit: int = 5_000,
) -> pl.DataFrame:
    """The buyers of one cell of the RFM grid (`rfm_grid`: recency score `r`, frequency
    score `f`), listed as `members` lists a segment's, their RFM segment as `segment`.
    Empty for a viewer when the grid hides the cell (too few customers, or hidden so that
    its row or column cannot give it away): the list's length would tell its count."""
    for name, score in (("recency", r), ("frequency", f)):
        if not 1 <= score <= 5:
            raise ConfigError(f"An RFM {name} score is 1 to 5. Got {score!r} instead.")
    if gateway.access.min_group > 0:
        grid = rfm_grid(gateway, segmentation, filters)
        if grid.filter((pl.col("r") == r) & (pl.col("f") == f))["hidden"][0] is not None:
            return _nobody(pl.read_parquet_schema(segmentation.path("customers")))
    return _listed(
        gateway,
        segmentation,
        filters,
        "s.r = $r AND s.f = $f",
        {"r": r, "f": f},
        "s.rfm_segment",
        limit,
    )


def _listed(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters,
    chosen: str,
    chosen_params: dict[str, object],
    segment_sql: str,
    limit: int,
) -> pl.DataFrame:
    """The customers of the stored table that `chosen` (SQL over `s`) picks among those the
    gateway and `filters` show: `MEMBER_COLUMNS` with `segment_sql` as `segment`, highest
    CLV (then revenue) first, at most `limit`, named; none under the minimum group."""
    path = segmentation.path("customers")
    stored = pl.read_parquet_schema(path)
    value = "clv" if "clv" in stored else "revenue"
    shown = ", ".join(
        f"{segment_sql} AS segment" if c == "segment" else f"s.{c}"
        for c in MEMBER_COLUMNS
        if c == "segment" or c in stored
    )
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "s")
    params |= chosen_params | {"path": str(path)}
    # Counted apart: a count over the rows beside them kept every row of the largest segment
    # before the limit (1.1 s against 0.55 s for both at 10M customers).
    members = gateway.query(
        f"SELECT count(*) FROM read_parquet($path) s {where(condition, chosen)}", params
    ).item()
    if 0 < members < gateway.access.min_group:
        return _nobody(stored)
    people = gateway.query(
        f"SELECT {shown} FROM read_parquet($path) s {where(condition, chosen)} "
        f"ORDER BY s.{value} DESC NULLS LAST, s.revenue DESC NULLS LAST, s.customer_id "
        "LIMIT $limit",
        params | {"limit": limit},
    )
    names = customer_names(gateway, people["customer_id"].to_list(), plan=True)
    joined = people.join(names, on="customer_id", how="left", maintain_order="left")
    front = ["customer_id", "name", "country", "plan"]
    return joined.select(front + [c for c in joined.columns if c not in front])


def _nobody(stored: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """An empty list of customers (a group under the minimum a viewer may see)."""
    return pl.DataFrame(schema=stored).with_columns(segment=pl.lit(None, pl.String))


__all__ += ["GRID_SCHEMA", "grid_members", "members", "projection", "rfm_grid"]


def segment_trend(
    gateway: QueryGateway, segmentation: Segmentation, filters: Filters = EVERYONE
) -> pl.DataFrame:
    """Buyers per RFM segment at each quarter end (`segment`, `quarter`, `customers`,
    `hidden`), oldest first; counts under the minimum hidden for viewers, with each
    quarter's segments protected as a line."""
    condition, params = visible_condition(gateway, filters, segmentation.as_of, "q")
    counts = gateway.query(
        "SELECT q.rfm_segment, q.quarter, count(*) AS customers "
        f"FROM read_parquet($path) q {where(condition)} GROUP BY ALL",
        params | {"path": str(segmentation.path("quarters"))},
    ).cast({"customers": pl.UInt32})  # the type the trend's counts have always had
    # In the order shown, which settles ties between cells that could protect a small one.
    grid = (
        counts.select("rfm_segment")
        .unique()
        .join(counts.select("quarter").unique(), how="cross")
        .sort("rfm_segment", "quarter")
        .join(counts, on=["rfm_segment", "quarter"], how="left", maintain_order="left")
        .with_columns(pl.col("customers").fill_null(0), unit=pl.lit("customers"))
    )
    grid = disclosure.protect(
        grid,
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("quarter",))],
    )
    return disclosure.blank(grid, ["customers"]).select(
        segment="rfm_segment", quarter="quarter", customers="customers", hidden="hidden"
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
    names = customer_names(gateway, ids)
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
    # A CRM row settles it (customers are few next to orders); the orders are read only for
    # a customer without one, and only up to their first order.
    visible = gateway.query("SELECT customer_id FROM customers WHERE customer_id = $id", params)
    if visible.is_empty():
        visible = gateway.query(
            "SELECT customer_id FROM orders WHERE customer_id = $id LIMIT 1", params
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
