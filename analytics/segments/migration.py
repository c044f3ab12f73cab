"""Segment migration: customers' RFM segments at every quarter end, and how they moved
between two of them.

`quarter_segments` scores every buyer at each quarter end in one pass (cumulative orders,
revenue and last order per customer and quarter), so that any two quarters can be compared
and Customer 360 can show a customer's segment history. `migration` is the transition
matrix between two quarter ends, with counts and shares of the segment customers came from.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics import definitions as rules
from analytics.periods import period_end, period_label, period_start, shift
from analytics.segments.rfm import PROSPECTS, SEGMENT_ORDER, quintile_scores, segment_expression
from analytics.warehouse import QueryGateway

# Completed orders per customer and quarter, accumulated up to each quarter end from the
# customer's first quarter on (quiet quarters included).
_QUARTERS_SQL = """
WITH cq AS (
    SELECT customer_id, CAST(date_trunc('quarter', order_date) AS DATE) AS q,
           count(*) AS n, sum(amount) AS revenue, max(order_date) AS last_order
    FROM orders
    WHERE {completed} AND order_date <= $as_of AND customer_id IS NOT NULL
    GROUP BY ALL
), ends AS (
    SELECT CAST(unnest(generate_series($first_q, $last_q, INTERVAL 3 MONTH)) AS DATE) AS q
), firsts AS (
    SELECT customer_id, min(q) AS first_q FROM cq GROUP BY customer_id
), grid AS (
    SELECT f.customer_id, e.q FROM firsts f JOIN ends e ON e.q >= f.first_q
)
SELECT g.customer_id, g.q,
       sum(coalesce(cq.n, 0)) OVER w AS orders,
       sum(coalesce(cq.revenue, 0)) OVER w AS revenue,
       max(cq.last_order) OVER w AS last_order
FROM grid g LEFT JOIN cq ON cq.customer_id = g.customer_id AND cq.q = g.q
WINDOW w AS (PARTITION BY g.customer_id ORDER BY g.q ROWS UNBOUNDED PRECEDING)
"""

# The same sums at the ends of the quarters from $from_q on only (an append scores those
# again and keeps the earlier ones): one pass over the orders, each counted at every end
# its quarter is not after.
_LATER_QUARTERS_SQL = """
WITH ends AS (
    SELECT CAST(unnest(generate_series($from_q, $last_q, INTERVAL 3 MONTH)) AS DATE) AS q
), cq AS (
    SELECT customer_id, CAST(date_trunc('quarter', order_date) AS DATE) AS q,
           count(*) AS n, coalesce(sum(amount), 0) AS revenue, max(order_date) AS last_order
    FROM orders
    WHERE {completed} AND order_date <= $as_of AND customer_id IS NOT NULL
    GROUP BY ALL
)
SELECT cq.customer_id, e.q, sum(cq.n) AS orders, sum(cq.revenue ORDER BY cq.q) AS revenue,
       max(cq.last_order) AS last_order
FROM cq JOIN ends e ON cq.q <= e.q
GROUP BY ALL
"""

QUARTER_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "quarter": pl.String(),
        "quarter_end": pl.Date(),
        "rfm_segment": pl.String(),
    }
)

# A customer's completed orders, revenue and last order up to a quarter's end (`q`: its start).
_SUMS_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "q": pl.Date(),
        "orders": pl.Int64(),
        "revenue": pl.Float64(),
        "last_order": pl.Date(),
    }
)

MIGRATION_SCHEMA = pl.Schema(
    {
        "from_segment": pl.String(),
        "to_segment": pl.String(),
        "customers": pl.Int64(),
        "share": pl.Float64(),
    }
)


def quarter_segments(
    gateway: QueryGateway,
    first: date,
    as_of: date,
    *,
    since: date | None = None,
    latest: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every buyer's RFM segment at the end of each quarter from `first`'s to `as_of`'s (the
    last one ends at `as_of`); `QUARTER_SCHEMA`. Customers appear from the quarter of their
    first completed order on. With `since`, only the quarters from `since`'s on (each is
    scored among its own buyers, so they are the rows the whole table has for them).

    With `latest`, the customers' RFM table as of `as_of` (`rfm_table`: its `frequency`,
    `revenue` and `recency_days` are the sums of the last quarter end), the orders are read
    up to the end of the quarter before only: an append after the last whole quarter reads
    no order here.
    """
    first_q, last_q = period_start(first, "quarter"), period_start(as_of, "quarter")
    from_q = first_q if since is None else period_start(since, "quarter")
    read_q, read_to = last_q, as_of
    if latest is not None:
        read_to = last_q - timedelta(days=1)
        read_q = period_start(read_to, "quarter")
    parts: list[pl.DataFrame] = []
    if from_q <= read_q and first <= read_to:
        if since is None:
            sql, params = _QUARTERS_SQL, {"first_q": first_q}
        else:
            sql, params = _LATER_QUARTERS_SQL, {"from_q": from_q}
        parts.append(
            gateway.query(
                sql.format(**rules.sql_rules()), {"as_of": read_to, "last_q": read_q} | params
            ).cast(_SUMS_SCHEMA)
        )
    if latest is not None:
        parts.append(
            latest.filter(pl.col("frequency") > 0)
            .select(
                "customer_id",
                q=pl.lit(last_q, dtype=pl.Date),
                orders="frequency",
                revenue="revenue",
                last_order=pl.lit(as_of, dtype=pl.Date) - pl.duration(days=pl.col("recency_days")),
            )
            .cast(_SUMS_SCHEMA)
        )
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=_SUMS_SCHEMA)
    if rows.is_empty():
        return pl.DataFrame(schema=QUARTER_SCHEMA)
    ends = {q: min(period_end(q, "quarter"), as_of) for q in rows["q"].unique().to_list()}
    scored = (
        rows.with_columns(
            quarter_end=pl.col("q").replace_strict(ends, return_dtype=pl.Date),
            quarter=pl.col("q").replace_strict(
                {q: period_label(q, "quarter") for q in ends}, return_dtype=pl.String
            ),
        )
        .with_columns(
            recency=(pl.col("quarter_end") - pl.col("last_order")).dt.total_days(),
            # Rounded below a millionth of a currency unit: sums of the same orders taken in
            # another order (the scan of later quarters, threads) rank as the same.
            monetary=(pl.col("revenue") / pl.col("orders")).round(6),
        )
        .with_columns(
            r=quintile_scores(pl.col("recency"), higher_is_better=False).over("q"),
            f=quintile_scores(pl.col("orders")).over("q"),
            m=quintile_scores(pl.col("monetary")).over("q"),
        )
    )
    return (
        scored.select("customer_id", "quarter", "quarter_end", rfm_segment=segment_expression())
        .cast(QUARTER_SCHEMA)
        .sort("quarter_end", "customer_id")
    )


def migration(quarters: pl.DataFrame, before: str, after: str) -> pl.DataFrame:
    """How customers moved from their segment at the end of quarter `before` to the end of
    `after` (labels such as "2025-Q1"); customers who had not bought by `before` come from
    `PROSPECTS`. `MIGRATION_SCHEMA`, `share` being the part of the from-segment's customers
    (in percent), in the segments' order."""
    then = quarters.filter(pl.col("quarter") == before).select("customer_id", "rfm_segment")
    now = quarters.filter(pl.col("quarter") == after).select("customer_id", "rfm_segment")
    moved = now.join(then, on="customer_id", how="left", suffix="_before").select(
        "customer_id",
        from_segment=pl.col("rfm_segment_before").fill_null(PROSPECTS),
        to_segment="rfm_segment",
    )
    return migration_table(moved.group_by("from_segment", "to_segment").agg(customers=pl.len()))


def migration_table(counts: pl.DataFrame) -> pl.DataFrame:
    """The transition matrix of `counts` (from_segment, to_segment, customers: one row per
    flow), as `migration` gives it."""
    order = {name: i for i, name in enumerate(SEGMENT_ORDER)}
    return (
        counts.with_columns(
            share=100.0 * pl.col("customers") / pl.col("customers").sum().over("from_segment")
        )
        .sort(
            pl.col("from_segment").replace_strict(order, return_dtype=pl.Int64),
            pl.col("to_segment").replace_strict(order, return_dtype=pl.Int64),
        )
        .cast(MIGRATION_SCHEMA)
    )


def flow_customers(
    quarters: pl.DataFrame, before: str, after: str, origin: str, target: str
) -> list[str]:
    """The customers behind one flow of `migration`, by id."""
    then = quarters.filter(pl.col("quarter") == before).select("customer_id", "rfm_segment")
    now = quarters.filter((pl.col("quarter") == after) & (pl.col("rfm_segment") == target)).select(
        "customer_id"
    )
    joined = now.join(then, on="customer_id", how="left").with_columns(
        pl.col("rfm_segment").fill_null(PROSPECTS)
    )
    return sorted(joined.filter(pl.col("rfm_segment") == origin)["customer_id"].to_list())


def previous_quarter(label: str) -> str:
    """The label of the quarter before `label` ("2025-Q2" -> "2025-Q1")."""
    year, quarter = label.split("-Q")
    start = date(int(year), 3 * int(quarter) - 2, 1)
    return period_label(shift(start, "quarter", -1), "quarter")


EVERY_MIGRATION_SCHEMA = pl.Schema(
    {
        "before": pl.String(),
        "after": pl.String(),
        "from_segment": pl.String(),
        "to_segment": pl.String(),
        "customers": pl.Int64(),
    }
)


def every_migration(quarters: pl.DataFrame, *, after_from: str | None = None) -> pl.DataFrame:
    """The flows of `migration` (its counts) between every quarter and every later one:
    `EVERY_MIGRATION_SCHEMA`, flows without customers left out, ordered by quarters and
    segment names. With `after_from` (a quarter label), only the flows into that quarter and
    the later ones.

    Every buyer has a segment at each quarter end from their first purchase on (the rule
    table names every score combination), so each customer is a row of segment codes, one
    column per quarter, and a pair of quarters is one count over two columns: the 66 pairs
    of twelve quarters of a million customers take a few seconds, where joining the
    quarters pair by pair would take half a minute.
    """
    if quarters.is_empty():
        return pl.DataFrame(schema=EVERY_MIGRATION_SCHEMA)
    labels = sorted(quarters["quarter"].unique().to_list())
    names = sorted(quarters["rfm_segment"].unique().to_list())
    absent = len(names)  # the code of "not a buyer yet" (a prospect)
    coded = quarters.select(
        row=pl.col("customer_id").rank("dense").cast(pl.Int64) - 1,
        column=pl.col("quarter").replace_strict(
            {q: i for i, q in enumerate(labels)}, return_dtype=pl.Int64
        ),
        code=pl.col("rfm_segment").replace_strict(
            {n: i for i, n in enumerate(names)}, return_dtype=pl.Int64
        ),
    )
    rows = coded["row"].to_numpy()
    codes = np.full((int(rows.max()) + 1, len(labels)), absent, dtype=np.int64)
    codes[rows, coded["column"].to_numpy()] = coded["code"].to_numpy()
    width = absent + 1
    named = [*names, PROSPECTS]
    flows: list[tuple[str, str, str, str, int]] = []
    for i, before in enumerate(labels):
        for j in range(i + 1, len(labels)):
            if after_from is not None and labels[j] < after_from:
                continue
            now = codes[:, j] != absent
            pairs = codes[now, i] * width + codes[now, j]
            counted = np.bincount(pairs, minlength=width * width)
            flows += [
                (before, labels[j], named[k // width], named[k % width], int(counted[k]))
                for k in np.flatnonzero(counted)
            ]
    return pl.DataFrame(flows, schema=EVERY_MIGRATION_SCHEMA, orient="row").sort(
        "before", "after", "from_segment", "to_segment"
    )
