"""The retention matrix from the rollups: `cohorts_<grain>` holds, per cohort, period and
combination of customer attributes, the cohort's customers active in the period and their
completed revenue there. Counts add up over customer attributes (a customer has one of each),
so any filter, breakdown or access limit on them is a sum; `cohort_cells` answers what
`analytics.cohorts` computes from the rows, or None when it cannot do so exactly: orders
narrowed by a record dimension (a cohort is then defined by the first order within it), a
date range that does not start and end on the grain's period boundaries, or a rollup part
still being built.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from analytics.filters import Filters
from analytics.periods import Grain, period_end, period_start, shift
from analytics.rollups.answer import Question, narrowing_of
from analytics.rollups.layout import Rollup, current, month_start
from analytics.warehouse import QueryGateway

CELLS_SCHEMA = pl.Schema(
    {
        "grp": pl.String(),
        "cohort_start": pl.Date(),
        "size": pl.Int64(),
        "period_index": pl.Int64(),
        "period_start": pl.Date(),
        "customers": pl.Int64(),
        "revenue": pl.Float64(),
        "base_revenue": pl.Float64(),
    }
)


def cohort_cells(
    gateway: QueryGateway, filters: Filters, grain: Grain, by: str | None
) -> pl.DataFrame | None:
    """Every cohort's cells (`CELLS_SCHEMA`, as `analytics.cohorts` reads them from the rows),
    or None when the rollups cannot answer exactly."""
    at = gateway.versions() if gateway.pinned else None
    rollup = current(gateway.warehouse, "orders", at)
    if rollup is None or not rollup.has(f"cohorts_{grain}", "months"):
        return None
    start, end = filters.start, filters.end
    if start is not None and start != period_start(start, grain) and start > rollup.first_day:
        return None  # customers whose first order falls before the start in its period
    cut = end is not None and end != period_end(period_start(end, grain), grain)
    if cut and end is not None and end < rollup.last_day:
        return None  # the last period's orders after the end
    question = Question("orders", filters, grain, rollup.first_day, rollup.first_day,
                        rollup.last_day, rollup.first_day, by)  # fmt: skip
    narrowing = narrowing_of(gateway, question)
    if narrowing is None or narrowing.record is not None:
        return None
    params: dict[str, object] = {**narrowing.params, "path": rollup.files(f"cohorts_{grain}")}
    bounds = ""
    if start is not None:  # a start before the data may fall inside its first period
        bounds += " AND cohort_start >= $start"
        params["start"] = period_start(start, grain)
    if end is not None:
        bounds += " AND p <= $end"
        params["end"] = end
    try:
        cells = gateway.query_derived(
            f"SELECT {narrowing.group} AS grp, cohort_start, p, sum(customers) AS customers, "
            "sum(revenue) AS revenue FROM read_parquet($path) "
            f"WHERE {narrowing.where}{bounds} GROUP BY ALL",
            params,
        )
        last_month = _last_month(gateway, rollup, question)
    except FileNotFoundError:
        return None  # pruned by another process meanwhile: the rows answer
    if cells.is_empty() or last_month is None:
        return pl.DataFrame(schema=CELLS_SCHEMA)
    last = period_start(month_start(last_month), grain)
    if end is not None:
        last = min(last, period_start(end, grain))
    return _spine(cells, grain, last)


def cohort_members(
    gateway: QueryGateway,
    filters: Filters,
    by: str | None,
    group: str | None,
    first_from: date,
    first_before: date,
) -> pl.DataFrame | None:
    """The customers whose first completed order falls from `first_from` to before
    `first_before` (and not after the filters' end), with its day as `first_order`, from the
    orders' customers part; None when the rollups cannot say exactly (as `cohort_cells`)."""
    at = gateway.versions() if gateway.pinned else None
    rollup = current(gateway.warehouse, "orders", at)
    if rollup is None or not rollup.has("customers"):
        return None
    question = Question("orders", filters, "month", rollup.first_day, rollup.first_day,
                        rollup.last_day, rollup.first_day, by)  # fmt: skip
    narrowing = narrowing_of(gateway, question)
    if narrowing is None or narrowing.record is not None:
        return None
    params: dict[str, object] = {
        **narrowing.params,
        "path": rollup.files("customers"),
        "first_from": first_from,
        "first_before": first_before,
    }
    having = ""
    if filters.end is not None:
        having = " AND min(first_day) <= $end"
        params["end"] = filters.end
    in_group = ""
    if by is not None:
        in_group = f" AND {narrowing.group} = $group"
        params["group"] = group
    try:
        return gateway.query_derived(
            "SELECT customer_id, min(first_day) AS first_order FROM read_parquet($path) "
            f"WHERE customer_id IS NOT NULL AND {narrowing.where}{in_group} "
            "GROUP BY customer_id "
            f"HAVING min(first_day) >= $first_from AND min(first_day) < $first_before{having}",
            params,
        )
    except FileNotFoundError:
        return None  # pruned by another process meanwhile: the rows answer


def _last_month(gateway: QueryGateway, rollup: Rollup, question: Question) -> int | None:
    """The last month with any order this user may see: the data ends where the export
    ends, whatever the filters keep (only the access limits narrow it)."""
    limited = narrowing_of(gateway, replace(question, filters=Filters(), by=None))
    assert limited is not None  # the limits were kept for the question already
    found = gateway.query_derived(
        f"SELECT max(m) FROM read_parquet($path) WHERE {limited.where}",
        {**limited.params, "path": rollup.files("months")},
    ).item()
    return None if found is None else int(found)


def _spine(cells: pl.DataFrame, grain: Grain, last: date) -> pl.DataFrame:
    """Each cohort's periods from its own to `last`, quiet ones as zeros."""
    found = {(g, c, p): (n, r) for g, c, p, n, r in cells.iter_rows()}
    rows = []
    cohorts = sorted({(g, c) for g, c, _ in found}, key=lambda k: (k[0] is None, k[0] or "", k[1]))
    for group, cohort in cohorts:
        size, base = found.get((group, cohort, cohort), (0, None))
        if not size:
            continue
        k, p = 0, cohort
        while p <= last:
            customers, revenue = found.get((group, cohort, p), (0, 0.0))
            rows.append((group, cohort, size, k, p, customers, revenue or 0.0, base))
            k, p = k + 1, shift(cohort, grain, k + 1)
    return pl.DataFrame(rows, schema=CELLS_SCHEMA, orient="row")
