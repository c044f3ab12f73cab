"""Cohort retention: customers grouped by the period of their first completed order, followed
period by period afterwards.

A customer's cohort is the month or quarter of their first completed order inside the filters
(an order whose status is neither `returned` nor `cancelled`; a missing status counts as
completed). Period k of a cohort is the calendar period k steps after the cohort's own.
Customer retention is the share of the cohort active (at least one completed order) in period
k; revenue retention is the cohort's completed revenue in period k over its revenue in period 0.

Filters narrow the orders first: customer attributes keep the customers who have them, record
attributes (channel, product category) keep the orders that have them, so a cohort is defined
by the first completed order *within the filters*. The filters' date range picks the cohorts
(first completed order on or after its start, up to its end) and the periods shown (up to its
end). A period after the end of the data (or of the range) is absent, never shown as zero.

A breakdown (`by`) makes one set of cohorts per group. For customer attributes the groups split
the customers; for record attributes a customer belongs to a cohort in every group they bought
in, with only that group's orders counting.
"""

from __future__ import annotations

import operator
from datetime import date
from typing import Literal, get_args

import polars as pl

from analytics import definitions as rules
from analytics import disclosure
from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS, Filters, check_dimension, scoped_rows
from analytics.periods import period_label, period_start, shift
from analytics.rollups.cohorts import CELLS_SCHEMA, cohort_cells, cohort_members
from analytics.warehouse import QueryGateway

CohortGrain = Literal["month", "quarter"]
COHORT_GRAINS: tuple[CohortGrain, ...] = get_args(CohortGrain)
Measure = Literal["customers", "revenue"]
MEASURES: tuple[Measure, ...] = get_args(Measure)

_MONTHS_PER: dict[CohortGrain, int] = {"month": 1, "quarter": 3}
_CELL_VALUES = ("customers", "revenue", "value")

COHORT_SCHEMA = pl.Schema(
    {
        "group": pl.String(),
        "cohort": pl.String(),
        "cohort_start": pl.Date(),
        "size": pl.Int64(),
        "period_index": pl.Int64(),
        "period": pl.String(),
        "customers": pl.Int64(),
        "revenue": pl.Float64(),
        "value": pl.Float64(),
        "hidden": pl.String(),
    }
)

COHORT_CUSTOMERS_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "name": pl.String(),
        "first_order": pl.Date(),
        "orders": pl.Int64(),
        "revenue": pl.Float64(),
        "segment": pl.String(),
    }
)

# The cohort matrix in one pass over the orders: completed orders aggregated to group,
# customer and period (`cp`), one row per customer with their cohort (`members`), joined back
# to give each customer-period its index k, then counted per cohort and k on a spine of every
# period from the cohort's own to the last one with data (inside the range), so quiet periods
# show zeros and periods after the data are absent.
#
# Placeholders are code, never input: `{grain}` comes from `COHORT_GRAINS`; `{first_since}` is
# empty or a HAVING clause on a bound parameter; `{same_group}` joins on the group as well when
# there is a breakdown (without one `grp` is NULL on every row, and joining on the customer
# alone is the faster join); `{last_day}` reads the unfiltered orders, because the data ends
# where the export ends, whatever the filters keep.
_COHORT_TABLE_SQL = """
WITH cp AS (
    SELECT grp, customer_id, CAST(date_trunc('{grain}', order_date) AS DATE) AS p,
           min(order_date) AS first_day, sum(amount) AS revenue
    FROM ({rows})
    WHERE {completed}
    GROUP BY ALL
), members AS (
    SELECT grp, customer_id, min(p) AS cohort_start
    FROM cp GROUP BY ALL{first_since}
), cells AS (
    SELECT m.grp, m.cohort_start, datediff('{grain}', m.cohort_start, cp.p) AS period_index,
           count(*) AS customers, sum(cp.revenue) AS revenue
    FROM cp JOIN members m ON m.customer_id = cp.customer_id{same_group}
    GROUP BY ALL
), cohorts AS (
    SELECT grp, cohort_start, customers AS size, revenue AS base_revenue
    FROM cells WHERE period_index = 0
), spine AS (
    SELECT c.*,
           unnest(generate_series(0, datediff('{grain}', c.cohort_start, b.last_p)))
               AS period_index
    FROM cohorts c,
         (SELECT CAST(date_trunc('{grain}', {last_day}) AS DATE) AS last_p FROM orders) b
)
SELECT s.grp, s.cohort_start, s.size, s.period_index,
       CAST(s.cohort_start + to_months($months * s.period_index) AS DATE) AS period_start,
       coalesce(x.customers, 0) AS customers,
       coalesce(x.revenue, 0) AS revenue,
       s.base_revenue
FROM spine s LEFT JOIN cells x
  ON x.grp IS NOT DISTINCT FROM s.grp AND x.cohort_start = s.cohort_start
     AND x.period_index = s.period_index
"""

# The customers of one cell: those whose first completed order falls in the cohort's period
# (and on or after the range's start), with their completed orders in the cell's period. Only
# one aggregate per customer over the orders, not the whole matrix. `{in_group}` is empty or a
# condition on a bound parameter.
_COHORT_CUSTOMERS_SQL = """
WITH o AS (
    SELECT customer_id, order_date, amount
    FROM ({rows})
    WHERE {completed}{in_group}
), members AS (
    SELECT customer_id, min(order_date) AS first_order
    FROM o GROUP BY customer_id
    HAVING min(order_date) >= $first_from AND min(order_date) < $first_before
)
SELECT m.customer_id, c.name, m.first_order, count(*) AS orders, sum(o.amount) AS revenue,
       s.segment
FROM o JOIN members m ON m.customer_id = o.customer_id
LEFT JOIN customers c ON c.customer_id = m.customer_id
LEFT JOIN customer_segments s ON s.customer_id = m.customer_id
WHERE o.order_date >= $period_from AND o.order_date < $period_before
GROUP BY m.customer_id, c.name, s.segment, m.first_order
ORDER BY revenue DESC, m.customer_id
"""


# The same, for the cohort's customers as the rollups list them (`members`): only the orders
# of the cell's period are read.
_CELL_CUSTOMERS_SQL = """
WITH o AS (
    SELECT customer_id, order_date, amount
    FROM ({rows})
    WHERE {completed}{in_group}
      AND order_date >= $period_from AND order_date < $period_before
)
SELECT m.customer_id, c.name, m.first_order, count(*) AS orders, sum(o.amount) AS revenue,
       s.segment
FROM o JOIN members m ON m.customer_id = o.customer_id
LEFT JOIN customers c ON c.customer_id = m.customer_id
LEFT JOIN customer_segments s ON s.customer_id = m.customer_id
GROUP BY m.customer_id, c.name, s.segment, m.first_order
ORDER BY revenue DESC, m.customer_id
"""


def cohort_table(
    gateway: QueryGateway,
    filters: Filters,
    grain: str = "month",
    measure: str = "customers",
    *,
    by: str | None = None,
) -> pl.DataFrame:
    """The retention matrix: one row per group, cohort and period since the cohort's first.

    Parameters
    ----------
    gateway : QueryGateway
        Where the data is read. Needs `orders` (customer_id, order_date, amount, status, and
        the columns of the record dimensions filtered or broken down by); `customers` only for
        customer-attribute filters and breakdowns.
    filters : Filters
        The narrowing. Dimension filters narrow the orders that count (a cohort is defined by
        the first completed order within them); the date range picks the cohorts (first
        completed order from its start to its end) and the periods shown (up to its end).
    grain : {"month", "quarter"}
        The period cohorts and activity are counted in.
    measure : {"customers", "revenue"}
        What `value` retains: the share of the cohort's customers active in the period, or
        the cohort's revenue in the period relative to its first period's.
    by : str, optional
        A dimension of `analytics.filters.DIMENSIONS` to compare cohorts across. Customer
        attributes split the customers; record attributes (channel, product category) make a
        cohort per group from that group's orders only.

    Returns
    -------
    polars.DataFrame
        The columns of `COHORT_SCHEMA`, sorted by group, cohort_start and period_index:
        `group` (None without `by`; `(not set)` where the attribute is missing), `cohort` and
        `cohort_start` (label and first day of the cohort's period), `size` (customers in the
        cohort), `period_index` (k >= 0), `period` (label of the cohort's period + k),
        `customers` (cohort customers with a completed order in that period), `revenue`
        (their completed revenue there) and `value` (100 × customers / size, or 100 ×
        revenue / revenue at k = 0; null when the cohort's first-period revenue is 0).
        Every cohort has k = 0; periods after the data or the range are absent, quiet periods
        before that are zeros.
    """
    checked = _check_grain(grain)
    checked_measure = _check_measure(measure)
    if by is not None:
        check_dimension(by)
    table = _cohort_table(gateway, filters, checked, checked_measure, by)
    return _protected(table, gateway.access.min_group, by)


def _protected(table: pl.DataFrame, minimum: int, by: str | None) -> pl.DataFrame:
    """The table as this user may see it (`analytics.disclosure`): a cell with 1 to
    `minimum` - 1 active customers is hidden, and so is a cohort of that size (its size and
    every cell). Lines protect the hidden cells: each period across cohorts, each cohort's
    later periods, and each cell across the breakdown's groups (the table without the
    breakdown is their total). A cohort whose first period is hidden to protect another is
    hidden whole, since its size would give its rates away."""
    if minimum <= 1:
        return table
    lines = [
        disclosure.Line(("group", "period_index")),
        disclosure.Line(("group", "cohort_start", "base")),  # the later periods, apart
    ]
    if by is not None:
        overlapping = DIMENSIONS[by].level == "record"  # a customer may buy in several groups
        lines.append(disclosure.Line(("cohort_start", "period_index"), overlapping=overlapping))
    cohort = ("group", "cohort_start")
    first_period = pl.col(disclosure.HIDDEN).filter(pl.col("base")).first().over(cohort)
    cells = table.with_columns(unit=pl.lit("customers"), base=pl.col("period_index") == 0)
    known: str | None = None
    while True:
        cells = disclosure.protect(
            cells, count="customers", unit="unit", minimum=minimum, lines=lines, hidden=known
        )
        known = disclosure.HIDDEN
        whole = cells.with_columns(pl.coalesce(known, first_period).alias(known))
        if _hidden_customers(whole) == _hidden_customers(cells):
            break
        cells = whole
    cells = whole.with_columns(
        size=pl.when(first_period.is_null()).then(pl.col("size")).otherwise(None)
    )
    return disclosure.blank(cells, _CELL_VALUES).drop("unit", "base")


def _hidden_customers(cells: pl.DataFrame) -> int:
    return int(cells.filter(pl.col(disclosure.HIDDEN).is_not_null())["customers"].sum())


def _cohort_table(
    gateway: QueryGateway, filters: Filters, grain: CohortGrain, measure: Measure, by: str | None
) -> pl.DataFrame:
    found = cohort_cells(gateway, filters, grain, by)
    if found is None:
        found = _cohort_rows(gateway, filters, grain, by)
    if found.is_empty():
        return pl.DataFrame(schema=COHORT_SCHEMA)
    return _labelled(found, grain, measure)


def _cohort_rows(
    gateway: QueryGateway, filters: Filters, grain: CohortGrain, by: str | None
) -> pl.DataFrame:
    """The cohorts' cells (`CELLS_SCHEMA`) from the orders' rows."""
    rows, params = scoped_rows("orders", filters, by=by, until=filters.end)
    first_since = ""
    if filters.start is not None:
        # Customers whose first completed order is before the range belong to earlier cohorts.
        first_since = " HAVING min(first_day) >= $start"
        params["start"] = filters.start
    last_day = "max(order_date)"
    if filters.end is not None:
        last_day = "least(max(order_date), $end)"
        params["end"] = filters.end
    sql = _COHORT_TABLE_SQL.format(
        rows=rows,
        grain=grain,
        first_since=first_since,
        same_group="" if by is None else " AND m.grp = cp.grp",
        last_day=last_day,
        **rules.sql_rules(),
    )
    params["months"] = _MONTHS_PER[grain]
    return gateway.query(sql, params).cast(CELLS_SCHEMA)


def _labelled(found: pl.DataFrame, grain: CohortGrain, measure: Measure) -> pl.DataFrame:
    starts = set(found["cohort_start"].to_list()) | set(found["period_start"].to_list())
    labels = {start: period_label(start, grain) for start in starts}
    # Dividing before scaling keeps k = 0 at exactly 100.
    if measure == "customers":
        value = pl.col("customers") / pl.col("size") * 100.0
    else:
        base = pl.col("base_revenue")
        value = pl.when(base != 0).then(pl.col("revenue") / base * 100.0)
    table = found.select(
        pl.col("grp").alias("group"),
        pl.col("cohort_start").replace_strict(labels, return_dtype=pl.String).alias("cohort"),
        "cohort_start",
        "size",
        "period_index",
        pl.col("period_start").replace_strict(labels, return_dtype=pl.String).alias("period"),
        "customers",
        "revenue",
        value.alias("value"),
        pl.lit(None, dtype=pl.String).alias("hidden"),
    )
    return table.cast(COHORT_SCHEMA).sort("group", "cohort_start", "period_index", nulls_last=True)


def cohort_customers(
    gateway: QueryGateway,
    filters: Filters,
    grain: str,
    cohort_start: date,
    period_index: int,
    *,
    by: str | None = None,
    group: str | None = None,
) -> pl.DataFrame:
    """The customers behind one cell of `cohort_table`: the cohort's customers active in it.

    Parameters
    ----------
    gateway : QueryGateway
        Where the data is read. Needs what `cohort_table` needs, and `customers` (customer_id,
        name) for the names.
    filters : Filters
        The same narrowing as the table the cell comes from.
    grain : {"month", "quarter"}
        The table's period.
    cohort_start : date
        Any day of the cohort's period (normally the table's `cohort_start`).
    period_index : int
        The cell's k >= 0; k = 0 lists the whole cohort.
    by : str, optional
        The table's breakdown dimension.
    group : str, optional
        The cell's group; required with `by`, not allowed without it.

    Returns
    -------
    polars.DataFrame
        The columns of `COHORT_CUSTOMERS_SCHEMA`: `customer_id`, `name` (null when the
        customer is not in `customers` or has none), `first_order` (day of the first
        completed order within the filters), `orders` and `revenue` (completed, in the
        cell's period), sorted by revenue descending, then customer_id. Empty when no cohort
        customer is active in the cell or the cell is outside the data.
    """
    checked = _check_grain(grain)
    k = _check_period_index(period_index)
    if by is not None:
        dimension = check_dimension(by)
        if group is None:
            raise ConfigError(
                f"A cell of cohorts broken down by {dimension.label.lower()} needs its "
                "'group'. Got None instead."
            )
    elif group is not None:
        raise ConfigError(
            f"The 'group' {group!r} needs 'by', the dimension it is a value of. Got None instead."
        )
    start = period_start(cohort_start, checked)
    if cell_hidden(gateway, filters, checked, start, k, by=by, group=group) is not None:
        return pl.DataFrame(schema=COHORT_CUSTOMERS_SCHEMA)
    people = _cohort_customers(gateway, filters, checked, start, k, by, group)
    if 0 < people.height < gateway.access.min_group:  # too few to list for this user
        return people.head(0)
    return people


def cell_hidden(
    gateway: QueryGateway,
    filters: Filters,
    grain: CohortGrain,
    cohort_start: date,
    period_index: int,
    *,
    by: str | None = None,
    group: str | None = None,
) -> str | None:
    """Why one cell of `cohort_table` is hidden from this user (None: shown)."""
    if gateway.access.min_group <= 1:
        return None
    table = cohort_table(gateway, filters, grain, by=by)
    found = table.filter(
        (pl.col("cohort_start") == cohort_start)
        & (pl.col("period_index") == period_index)
        & (pl.col("group") == group if by is not None else pl.lit(True))
    )["hidden"]
    return found[0] if found.len() else None


def _cohort_customers(
    gateway: QueryGateway,
    filters: Filters,
    grain: CohortGrain,
    cohort_start: date,
    period_index: int,
    by: str | None,
    group: str | None,
) -> pl.DataFrame:
    rows, params = scoped_rows("orders", filters, by=by, until=filters.end)
    in_group = ""
    if by is not None:
        in_group = " AND grp = $group"
        params["group"] = group
    cell = shift(cohort_start, grain, period_index)
    params.update(period_from=cell, period_before=shift(cell, grain, 1))
    first_from = max(cohort_start, filters.start or cohort_start)
    first_before = shift(cohort_start, grain, 1)
    members = cohort_members(gateway, filters, by, group, first_from, first_before)
    if members is None:  # the rows say who the cohort's customers are
        params.update(first_from=first_from, first_before=first_before)
        sql = _COHORT_CUSTOMERS_SQL.format(rows=rows, in_group=in_group, **rules.sql_rules())
        return gateway.query(sql, params).cast(COHORT_CUSTOMERS_SCHEMA)
    # The rollups do: only the cell's period is read.
    sql = _CELL_CUSTOMERS_SQL.format(rows=rows, in_group=in_group, **rules.sql_rules())
    return gateway.query(sql, params, rows={"members": members}).cast(COHORT_CUSTOMERS_SCHEMA)


def _check_grain(grain: str) -> CohortGrain:
    if grain not in COHORT_GRAINS:
        raise ConfigError(
            f"The 'grain' must be one of {', '.join(COHORT_GRAINS)}. Got {grain!r} instead."
        )
    return grain


def _check_period_index(period_index: int) -> int:
    # Any integer type (numpy's too), but not a bool or a float.
    try:
        k = -1 if isinstance(period_index, bool) else operator.index(period_index)
    except TypeError:
        k = -1
    if k < 0:
        raise ConfigError(f"The 'period_index' must be an int >= 0. Got {period_index!r} instead.")
    return k


def _check_measure(measure: str) -> Measure:
    if measure not in MEASURES:
        raise ConfigError(
            f"The 'measure' must be one of {', '.join(MEASURES)}. Got {measure!r} instead."
        )
    return measure
