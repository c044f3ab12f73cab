"""Drill-down: the customers behind one KPI value, and what each contributes to it.

Contributions add up to the KPI's value for that period and group: a customer's share of a
total, their points of NPS (100 × (their promoters − their detractors) / all NPS answers),
their part of a rate (100 × their successes / the rate's n) or of a mean (their sum / n).
Medians are not sums, so their customers carry no contribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from analytics import definitions as rules
from analytics import disclosure
from analytics.filters import NOT_SET, Filters, scoped_rows
from analytics.kpis import CUMULATIVE, Kpi, kpi, trend
from analytics.periods import Grain, check_grain, period_end, period_start, shift
from analytics.warehouse import QueryGateway

ANONYMOUS = "(anonymous)"

_ORDERS_SQL = """
WITH o AS (
    SELECT customer_id, order_date, amount,
           {completed} AS done,
           {returned} AS ret
    FROM ({rows}) WHERE {group_condition}
)
SELECT customer_id,
       count(*) FILTER (WHERE done AND order_date >= $start) AS orders,
       coalesce(sum(amount) FILTER (WHERE done AND order_date >= $start), 0) AS revenue,
       count(*) FILTER (WHERE ret AND order_date >= $start) AS returned,
       count(*) FILTER (WHERE done) AS orders_to_date,
       coalesce(sum(amount) FILTER (WHERE done), 0) AS revenue_to_date,
       min(order_date) FILTER (WHERE done) AS first_order,
       count(*) FILTER (WHERE done AND order_date >= $previous AND order_date < $first)
           AS previous_orders
FROM o GROUP BY customer_id
"""

_SURVEYS_SQL = """
SELECT coalesce(customer_id, '{anonymous}') AS customer_id,
       count(*) AS responses,
       count(nps) AS nps_answers,
       count(*) FILTER (WHERE {promoter}) AS promoters,
       count(*) FILTER (WHERE {detractor}) AS detractors,
       avg(nps) AS mean_nps,
       count(csat) AS csat_answers,
       count(*) FILTER (WHERE {satisfied}) AS satisfied,
       count(ces) AS ces_answers,
       CAST(coalesce(sum(ces), 0) AS DOUBLE) AS ces_sum,
       arg_max(comment, responded_at) FILTER (WHERE comment IS NOT NULL) AS latest_comment
FROM ({rows}) WHERE {group_condition}
GROUP BY ALL
"""

_TICKETS_SQL = """
SELECT customer_id,
       count(*) AS tickets,
       median(epoch(first_response_at - opened_at) / 3600.0)
           FILTER (WHERE first_response_at >= opened_at) AS first_response_hours,
       median(epoch(resolved_at - opened_at) / 3600.0)
           FILTER (WHERE resolved_at >= opened_at) AS resolution_hours,
       count(csat) AS rated,
       count(*) FILTER (WHERE {satisfied}) AS satisfied
FROM ({rows}) WHERE {group_condition}
GROUP BY customer_id
"""

# For each KPI: which customers are behind it, what counts as a success (for rates), and
# the column whose share of the total, or of n, is their contribution.
_MEMBERS: dict[str, pl.Expr] = {
    "revenue": pl.col("orders") > 0,
    "orders": pl.col("orders") > 0,
    "aov": pl.col("orders") > 0,
    "active_customers": pl.col("orders") > 0,
    "new_customers": pl.col("is_new"),
    "repeat_purchase_rate": pl.col("orders") > 0,
    "retention_rate": pl.col("previous_orders") > 0,
    "churn_rate": pl.col("previous_orders") > 0,
    "return_rate": (pl.col("orders") + pl.col("returned")) > 0,
    "clv_historical": pl.col("orders_to_date") > 0,
    "nps": pl.col("nps_answers") > 0,
    "csat": pl.col("csat_answers") > 0,
    "ces": pl.col("ces_answers") > 0,
    "responses": pl.col("responses") > 0,
    "tickets": pl.col("tickets") > 0,
    "first_response_hours": pl.col("first_response_hours").is_not_null(),
    "resolution_hours": pl.col("resolution_hours").is_not_null(),
    "ticket_csat": pl.col("rated") > 0,
}


@dataclass(frozen=True)
class DrillResult:
    """The customers behind a KPI value: the first `limit` rows and how many there are.

    `hidden` gives why the list is not shown to this user (`analytics.disclosure`): the
    value is hidden, or too few customers are behind it; `customers` is then empty and
    `total` 0.
    """

    kpi: Kpi
    period_start: date
    group: str | None
    customers: pl.DataFrame
    total: int
    contribution_total: float | None
    hidden: str | None = None


def kpi_customers(
    gateway: QueryGateway,
    key: str,
    filters: Filters,
    grain: str,
    period: date,
    *,
    by: str | None = None,
    group: str | None = None,
    search: str = "",
    limit: int = 1000,
) -> DrillResult:
    """The customers behind KPI `key` in the period holding `period` (and `group` of `by`).

    Parameters
    ----------
    gateway : QueryGateway
    key : str
        A KPI key of `analytics.kpis.KPIS`.
    filters : Filters
        The narrowing in force; a date range starting inside the period cuts it as `trend`
        does.
    grain : str
        Period length (day, week, month, quarter, year).
    period : date
        Any day of the period.
    by, group : str, optional
        The breakdown dimension and the group within it (`(not set)` for missing values).
    search : str
        Keep customers whose id or name contains this text (case-insensitive).
    limit : int
        Rows returned at most, largest contribution first.

    Returns
    -------
    DrillResult
        `customers` has `customer_id`, `name`, `region`, `country`, the family's figures
        and `contribution` (null for medians); `total` counts every customer behind the
        value, `contribution_total` is their sum (the KPI's value).
    """
    item = kpi(key)
    checked = check_grain(grain)
    first = period_start(period, checked)
    start = max(first, filters.start) if filters.start else first
    end = period_end(first, checked)
    if filters.end is not None:
        end = min(end, filters.end)
    hidden = value_hidden(gateway, item, filters.with_range(start, end), checked, by, group)
    if hidden is not None:
        return DrillResult(item, first, group, _EMPTY, 0, None, hidden)
    figures = _figures(gateway, item, filters, checked, first, start, end, by, group)
    members = figures.filter(_MEMBERS[item.key])
    members = _with_contribution(item, members)
    contribution_total = (
        float(members["contribution"].sum()) if item.estimator != "median" else None
    )
    if search.strip():  # names for every member: the search reads them
        needle = search.strip().lower()
        members = _with_names(gateway, members).filter(
            pl.col("customer_id").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("name").str.to_lowercase().str.contains(needle, literal=True).fill_null(False)
        )
    minimum = gateway.access.min_group
    if 0 < members.height < minimum:  # too few to show this user one by one
        why = disclosure.too_few(minimum, "customers")
        return DrillResult(item, first, group, _with_names(gateway, members.head(0)), 0, None, why)
    shown = _largest(members, limit)
    if not search.strip():  # names for the rows shown only: a list of thousands, not millions
        shown = _with_names(gateway, shown)
    if item.family == "orders" and item.key not in CUMULATIVE:
        shown = _with_to_date(gateway, shown, filters, (start, end), by, group)
    return DrillResult(item, first, group, shown, members.height, contribution_total)


_EMPTY = pl.DataFrame(schema={"customer_id": pl.String(), "name": pl.String()})


def _largest(members: pl.DataFrame, limit: int) -> pl.DataFrame:
    """The `limit` members with the largest contributions (by size; then by id), in that
    order: the top ones picked first, as sorting hundreds of thousands costs a quarter of a
    second and only a page of them is shown."""
    size = pl.col("contribution").abs().fill_null(-1.0).alias("_size")
    ranked = members.with_columns(size)
    if limit < members.height:
        ranked = ranked.top_k(limit, by=["_size", "customer_id"], reverse=[False, True])
    return ranked.sort("_size", "customer_id", descending=[True, False]).drop("_size")


def value_hidden(
    gateway: QueryGateway,
    item: Kpi,
    filters: Filters,
    grain: Grain,
    by: str | None,
    group: str | None,
) -> str | None:
    """Why the value of `item` in the filters' one period (and `group` of `by`) is hidden
    from this user, as the KPI tables hide it (None: shown)."""
    if gateway.access.min_group <= 1:
        return None
    table = trend(gateway, [item.key], filters, grain, by=by)
    if by is not None:
        table = table.filter(pl.col("group") == (group if group is not None else NOT_SET))
    found = table.filter(pl.col("period_start") == table["period_start"].max())["hidden"]
    return found[0] if found.len() else None


def _figures(
    gateway: QueryGateway,
    item: Kpi,
    filters: Filters,
    grain: Grain,
    first: date,
    start: date,
    end: date,
    by: str | None,
    group: str | None,
) -> pl.DataFrame:
    params: dict[str, object]
    group_condition = "true" if by is None else "grp = $group"
    if item.family == "orders":
        # A KPI of the period (and the one before) reads only their orders; the figures to
        # date are then found for the customers shown (`_with_to_date`).
        previous = shift(first, grain, -1)
        since = None if item.key in CUMULATIVE else previous
        rows, params = scoped_rows("orders", filters, by=by, since=since, until=end)
        sql = _ORDERS_SQL.format(rows=rows, group_condition=group_condition, **rules.sql_rules())
        params.update(start=start, first=first, previous=previous)
    else:
        name = "surveys" if item.family == "surveys" else "tickets"
        rows, params = scoped_rows(name, filters, by=by, since=start, until=end)
        template = _SURVEYS_SQL if item.family == "surveys" else _TICKETS_SQL
        sql = template.format(
            rows=rows, group_condition=group_condition, anonymous=ANONYMOUS, **rules.sql_rules()
        )
    if by is not None:
        params["group"] = group if group is not None else NOT_SET
    frame = gateway.query(sql, params)
    if item.family == "orders":
        frame = frame.with_columns(
            is_new=(pl.col("first_order") >= start) & (pl.col("first_order") <= end)
        )
    return frame


_TO_DATE = ("orders_to_date", "revenue_to_date", "first_order")
_TO_DATE_SQL = """
SELECT customer_id,
       count(*) FILTER (WHERE {completed}) AS orders_to_date,
       coalesce(sum(amount) FILTER (WHERE {completed}), 0) AS revenue_to_date,
       min(order_date) FILTER (WHERE {completed}) AS first_order
FROM ({rows}) WHERE {group_condition} AND customer_id = ANY($ids)
GROUP BY customer_id
"""


def _with_to_date(
    gateway: QueryGateway,
    shown: pl.DataFrame,
    filters: Filters,
    days: tuple[date, date],
    by: str | None,
    group: str | None,
) -> pl.DataFrame:
    """`shown` with each customer's completed orders, revenue and first order to the end
    of the period, and whether that first order makes them new, over all their orders (the
    period's figures read only its own)."""
    start, end = days
    rows, params = scoped_rows("orders", filters, by=by, until=end)
    sql = _TO_DATE_SQL.format(
        rows=rows, group_condition="true" if by is None else "grp = $group", **rules.sql_rules()
    )
    params["ids"] = shown["customer_id"].to_list()
    if by is not None:
        params["group"] = group if group is not None else NOT_SET
    to_date = gateway.query(sql, params)
    joined = (
        shown.drop(*_TO_DATE, "is_new", strict=False)
        .join(to_date, on="customer_id", how="left")
        .with_columns(
            pl.col("orders_to_date").fill_null(0),
            pl.col("revenue_to_date").fill_null(0.0),
            is_new=(pl.col("first_order") >= start) & (pl.col("first_order") <= end),
        )
    )
    return joined.select(shown.columns)


def _with_contribution(item: Kpi, members: pl.DataFrame) -> pl.DataFrame:
    n = members.height
    expressions: dict[str, pl.Expr] = {
        "revenue": pl.col("revenue"),
        "orders": pl.col("orders").cast(pl.Float64),
        "aov": pl.col("revenue") / pl.col("orders").sum(),
        "active_customers": pl.lit(1.0),
        "new_customers": pl.lit(1.0),
        "repeat_purchase_rate": 100.0 * (pl.col("orders_to_date") >= 2).cast(pl.Float64) / n,
        "retention_rate": 100.0 * (pl.col("orders") > 0).cast(pl.Float64) / n,
        "churn_rate": 100.0 * (pl.col("orders") == 0).cast(pl.Float64) / n,
        "return_rate": 100.0
        * pl.col("returned")
        / (pl.col("orders").sum() + pl.col("returned").sum()),
        "clv_historical": pl.col("revenue_to_date") / n,
        "nps": 100.0 * (pl.col("promoters") - pl.col("detractors")) / pl.col("nps_answers").sum(),
        "csat": 100.0 * pl.col("satisfied") / pl.col("csat_answers").sum(),
        "ces": pl.col("ces_sum") / pl.col("ces_answers").sum(),
        "responses": pl.col("responses").cast(pl.Float64),
        "tickets": pl.col("tickets").cast(pl.Float64),
        "ticket_csat": 100.0 * pl.col("satisfied") / pl.col("rated").sum(),
    }
    if item.key not in expressions or n == 0:
        return members.with_columns(contribution=pl.lit(None, dtype=pl.Float64))
    return members.with_columns(contribution=expressions[item.key].cast(pl.Float64))


def _with_names(gateway: QueryGateway, members: pl.DataFrame) -> pl.DataFrame:
    ids = members["customer_id"].to_list()
    people = gateway.query(
        "SELECT customer_id, name, region, country FROM customers WHERE customer_id = ANY($ids)",
        {"ids": ids},
    )
    segment = gateway.query(
        "SELECT customer_id, segment FROM customer_segments WHERE customer_id = ANY($ids)",
        {"ids": ids},
    )
    joined = members.join(people, on="customer_id", how="left").join(
        segment, on="customer_id", how="left"
    )
    front = ["customer_id", "name", "region", "country", "segment"]
    return joined.select(front + [c for c in joined.columns if c not in front])
