"""The SQL of every rollup part: templates over the datasets' views `orders`, `surveys`,
`tickets` and `customers`, filled in with the business rules (`analytics.definitions`).

A full build runs them over the datasets (`build`); an update runs the same SQL over the
appended rows alone, copied into a workspace under the datasets' names (`update`).
"""

from __future__ import annotations

from analytics import definitions as rules
from analytics.contract import DATASETS
from analytics.periods import PREVIOUS_SQL, Grain
from analytics.rollups.layout import (
    CUSTOMER_ATTRIBUTES,
    RECORD_DIMENSIONS,
    WORD,
    Family,
)

# The month index of a day column, and the business rules as the templates use them.
MONTH = "CAST(year({c}) * 12 + month({c}) - 1 AS INTEGER)"
RULES = rules.sql_rules("d")
ATTRIBUTES = ", ".join(f"c.{a}" for a in CUSTOMER_ATTRIBUTES)

# Sums per unit (month index `m`, or `day`) and combination of customer attributes and record
# dimensions: they add up over any set of units.
_ORDERS_SUMS_SQL = """
SELECT {unit} AS {unit_name}, {attributes}{records},
       count(*) FILTER (WHERE {completed}) AS n_done,
       coalesce(sum(d.amount) FILTER (WHERE {completed}), 0) AS rev,
       coalesce(sum(d.amount * d.amount) FILTER (WHERE {completed}), 0) AS sq,
       count(*) FILTER (WHERE {returned}) AS n_ret{rows}
FROM orders d LEFT JOIN customers c ON c.customer_id = d.customer_id{joins}
WHERE d.order_date IS NOT NULL
GROUP BY ALL ORDER BY ALL
"""

_SURVEYS_SUMS_SQL = """
SELECT {unit} AS {unit_name}, {attributes}{records},
       count(*) AS responses,
       count(d.nps) AS nps_n,
       count(*) FILTER (WHERE {promoter}) AS promoters,
       count(*) FILTER (WHERE {detractor}) AS detractors,
       count(d.csat) AS csat_n,
       count(*) FILTER (WHERE {satisfied}) AS csat_ok,
       count(d.ces) AS ces_n,
       coalesce(sum(d.ces), 0) AS ces_sum,
       coalesce(sum(d.ces * d.ces), 0) AS ces_sumsq{rows}
FROM surveys d LEFT JOIN customers c ON c.customer_id = d.customer_id{joins}
WHERE d.responded_at IS NOT NULL
GROUP BY ALL ORDER BY ALL
"""

_TICKETS_SUMS_SQL = """
SELECT {unit} AS {unit_name}, {attributes}{records},
       count(*) AS tickets,
       count(d.csat) AS tcsat_n,
       count(*) FILTER (WHERE {satisfied}) AS tcsat_ok{rows}
FROM tickets d LEFT JOIN customers c ON c.customer_id = d.customer_id{joins}
WHERE d.opened_at IS NOT NULL
GROUP BY ALL ORDER BY ALL
"""
_SUMS_SQL: dict[Family, str] = {
    "orders": _ORDERS_SUMS_SQL,
    "surveys": _SURVEYS_SUMS_SQL,
    "tickets": _TICKETS_SUMS_SQL,
}

# Per customer (and record value, for `customers_<dimension>`): the months with a completed
# order as bitmask words, the first month, and the month of the second completed order: the
# earlier of the first month holding two orders and the second month with any (the second
# lowest bit of the words). Also the days of their first, second and last completed orders
# and their completed revenue: what an append needs to know of a customer's past to bring
# the per-customer sums up to date (`update`), found by `h`, a hash of `customer_id`, as
# integers are quicker to look up. A customer has several rows when updates appended some
# of their orders: readers merge them (first: the least; second: the second least of the
# firsts and seconds; last: the greatest; revenue and months: the sum and the union).
_ORDERS_CUSTOMERS_SQL = """
WITH o AS (
    SELECT d.customer_id{record}, CAST(d.order_date AS DATE) AS day, {month} AS m, d.amount
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
), cm AS (
    SELECT customer_id{record}, m, count(*) AS n FROM o GROUP BY ALL
), cu AS (
    SELECT customer_id{record}, min(m) AS first_m, min(m) FILTER (WHERE n >= 2) AS doubled_m,
           {words}
    FROM cm GROUP BY ALL
), cd AS (
    SELECT customer_id{record}, min(day, 2) AS two, max(day) AS last_day,
           coalesce(sum(amount), 0) AS revenue
    FROM o GROUP BY ALL
)
SELECT cu.customer_id, hash(cu.customer_id) AS h, {attributes}{record_column},
       CAST(first_m AS INTEGER) AS first_m,
       CAST(least(doubled_m, {second_active}) AS INTEGER) AS second_m,
       two[1] AS first_day, two[2] AS second_day, last_day, revenue, {word_columns}
FROM cu JOIN cd ON cd.customer_id = cu.customer_id{record_join}
LEFT JOIN customers c ON c.customer_id = cu.customer_id
ORDER BY {order}
"""

# Per unit and group: Σ over customers (or customer and record value) of cum² − (cum − rev)²,
# where rev is their completed revenue in the unit and cum their cumulative revenue to its
# end. Summed over the units of any period it telescopes to Σ cum² at its end minus at its
# start: what `kpis` sums per period from the rows for historical customer value.
_ORDERS_VALUE_SQL = """
WITH cu AS (
    SELECT d.customer_id{record}, {unit} AS {unit_name}, coalesce(sum(d.amount), 0) AS rev
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
    GROUP BY ALL
), cum AS (
    SELECT *, sum(rev) OVER (PARTITION BY customer_id{record} ORDER BY {unit_name}) AS cum
    FROM cu
)
SELECT {unit_name}, {attributes}{record}, sum(cum * cum - (cum - rev) * (cum - rev)) AS dsq
FROM cum LEFT JOIN customers c ON c.customer_id = cum.customer_id
GROUP BY ALL ORDER BY ALL
"""

# Per period of a grain and group: the customers (or customers and record value) active in
# it, active in the period before too, with two completed orders to its end, and with their
# first completed order in it: the counts `kpis` takes from the rows, for whole periods.
_ORDERS_COUNTS_SQL = """
WITH cp AS (
    SELECT d.customer_id{record}, CAST(date_trunc('{grain}', d.order_date) AS DATE) AS p,
           count(*) AS n
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
    GROUP BY ALL
), w AS (
    SELECT *, sum(n) OVER c AS cum, lag(p) OVER c AS lag_p, row_number() OVER c AS k
    FROM cp WINDOW c AS (PARTITION BY customer_id{record} ORDER BY p)
)
SELECT p, {attributes}{record},
       count(*) AS active,
       count(*) FILTER (WHERE lag_p = {previous}) AS retained,
       count(*) FILTER (WHERE cum >= 2) AS repeaters,
       count(*) FILTER (WHERE k = 1) AS firsts
FROM w LEFT JOIN customers c ON c.customer_id = w.customer_id{joins}
GROUP BY ALL ORDER BY ALL
"""

# Per customer: their attributes, the days of their first and second completed orders, and
# the days they were active in as a bitmask (`d0`, `d1`, ...: 64 days per word, from
# `day_words`). Only a period cut by the date range reads it (`answer._partial_counts`).
_ORDERS_CUSTOMER_DAYS_SQL = """
WITH cd AS (
    SELECT d.customer_id, CAST(d.order_date AS DATE) AS day, count(*) AS n
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
    GROUP BY ALL
), f AS (
    SELECT *, min(day) OVER (PARTITION BY customer_id) AS first_day,
           datediff('day', DATE '1970-01-01', day) AS k
    FROM cd
), cu AS (
    SELECT customer_id, min(first_day) AS first_day,
           least(min(day) FILTER (WHERE n >= 2), min(day) FILTER (WHERE day > first_day))
               AS second_day,
           {words}
    FROM f GROUP BY customer_id
)
SELECT cu.customer_id, {attributes}, first_day, second_day, {word_columns}
FROM cu LEFT JOIN customers c ON c.customer_id = cu.customer_id
ORDER BY {order}
"""

# Per cohort (the period of a customer's first completed order), period and combination of
# customer attributes: the cohort's customers with a completed order in the period, and their
# completed revenue there (the retention matrix, `analytics.cohorts`).
_ORDERS_COHORTS_SQL = """
WITH cp AS (
    SELECT d.customer_id, CAST(date_trunc('{grain}', d.order_date) AS DATE) AS p,
           sum(d.amount) AS revenue
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
    GROUP BY ALL
), members AS (
    SELECT *, min(p) OVER (PARTITION BY customer_id) AS cohort_start FROM cp
)
SELECT cohort_start, p, {attributes}, count(*) AS customers, sum(revenue) AS revenue
FROM members LEFT JOIN customers c ON c.customer_id = members.customer_id
GROUP BY ALL ORDER BY ALL
"""

# Ticket durations in hours, exactly as `kpis` computes them from the rows (negative ones,
# data errors, are left out when read), one row per ticket with either.
_TICKETS_HOURS_SQL = """
SELECT CAST(d.opened_at AS DATE) AS day, {attributes}{records},
       epoch(d.first_response_at - d.opened_at) / 3600.0 AS frt,
       epoch(d.resolved_at - d.opened_at) / 3600.0 AS res
FROM tickets d LEFT JOIN customers c ON c.customer_id = d.customer_id
WHERE d.opened_at IS NOT NULL
  AND (d.first_response_at >= d.opened_at OR d.resolved_at >= d.opened_at)
ORDER BY day
"""


def _records(family: Family) -> str:
    return "".join(f", d.{r}" for r in RECORD_DIMENSIONS[family])


def sums_sql(family: Family, unit: str, segments: str | None = None) -> str:
    """A family's sums per month (`unit` "m") or per day (`unit` "day"); with `segments`, the
    path of a segmentation's customers table, per RFM segment and cluster too, and with the
    rows summed (`rows`: a carried part's empty groups are told by it, `segmented`)."""
    column = f"d.{DATASETS[family].time_column}"
    unit_sql = MONTH.format(c=column) if unit == "m" else f"CAST({column} AS DATE)"
    attributes, joins = _segmented(segments, "d")
    return _SUMS_SQL[family].format(
        unit=unit_sql,
        unit_name=unit,
        attributes=attributes,
        joins=joins,
        records=_records(family),
        rows="" if segments is None else ",\n       count(*) AS rows",
        **RULES,
    )


# A segmentation's customers table as the `customer_segments` view shows it.
SEGMENTS_SQL = (
    "SELECT customer_id, rfm_segment AS segment, cluster_name AS cluster FROM read_parquet({path})"
)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def value_sql(record: str | None, unit: str) -> str:
    """The orders' value part per month (`unit` "m") or day, by customer (and `record`)."""
    unit_sql = MONTH.format(c="d.order_date") if unit == "m" else "CAST(d.order_date AS DATE)"
    return _ORDERS_VALUE_SQL.format(
        **RULES,
        unit=unit_sql,
        unit_name=unit,
        record="" if record is None else f", {record}",
        attributes=ATTRIBUTES,
    )


def counts_sql(record: str | None, grain: Grain, segments: str | None = None) -> str:
    """The orders' customer counts per period of `grain` (and per value of `record`; or per
    RFM segment and cluster of the segmentation whose customers table is `segments`)."""
    attributes, joins = _segmented(segments, "w")
    return _ORDERS_COUNTS_SQL.format(
        **RULES,
        grain=grain,
        previous=PREVIOUS_SQL[grain],
        record="" if record is None else f", {record}",
        attributes=attributes,
        joins=joins,
    )


def _segmented(segments: str | None, alias: str) -> tuple[str, str]:
    """The attributes a part keeps, and the join that adds segments and clusters."""
    if segments is None:
        return ATTRIBUTES, ""
    segmented = SEGMENTS_SQL.format(path=sql_string(segments))
    return (
        ATTRIBUTES + ", s.segment, s.cluster",
        f" LEFT JOIN ({segmented}) s ON s.customer_id = {alias}.customer_id",
    )


def customer_days_sql(first_word: int, words: int) -> str:
    word_sql = ", ".join(
        f"bit_or(CASE WHEN k >= {lo} AND k < {lo + WORD} "
        f"THEN CAST(1 AS UBIGINT) << CAST(k - {lo} AS UBIGINT) "
        f"ELSE CAST(0 AS UBIGINT) END) AS d{j}"
        for j, lo in ((j, (first_word + j) * WORD) for j in range(words))
    )
    return _ORDERS_CUSTOMER_DAYS_SQL.format(
        **RULES,
        words=word_sql,
        attributes=ATTRIBUTES,
        word_columns=", ".join(f"d{j}" for j in range(words)),
        order=", ".join(CUSTOMER_ATTRIBUTES),
    )


def cohorts_sql(grain: Grain) -> str:
    return _ORDERS_COHORTS_SQL.format(**RULES, grain=grain, attributes=ATTRIBUTES)


def hours_sql() -> str:
    return _TICKETS_HOURS_SQL.format(attributes=ATTRIBUTES, records=_records("tickets"))


def customers_sql(record: str | None, base_word: int, words: int) -> str:
    """The orders' customers part: one row per customer (and value of `record`)."""
    word_sql = ", ".join(
        f"bit_or(CASE WHEN m >= {lo} AND m < {lo + WORD} "
        f"THEN CAST(1 AS UBIGINT) << CAST(m - {lo} AS UBIGINT) "
        f"ELSE CAST(0 AS UBIGINT) END) AS w{k}"
        for k, lo in ((k, (base_word + k) * WORD) for k in range(words))
    )
    return _ORDERS_CUSTOMERS_SQL.format(
        **RULES,
        month=MONTH.format(c="d.order_date"),
        words=word_sql,
        record="" if record is None else f", {record}",
        record_column="" if record is None else f", cu.{record}",
        record_join="" if record is None else f" AND cd.{record} IS NOT DISTINCT FROM cu.{record}",
        second_active=_second_active_sql(base_word, words),
        attributes=ATTRIBUTES,
        word_columns=", ".join(f"w{k}" for k in range(words)),
        # Sorted so that a filtered read skips whole row groups.
        order=", ".join(([] if record is None else [record]) + list(CUSTOMER_ATTRIBUTES)),
    )


def _second_active_sql(base_word: int, words: int) -> str:
    """SQL of the month of the second lowest bit set in the words `w0`... (NULL when fewer
    than two): the lowest bit once the lowest overall is cleared (constants only)."""

    def lowest(word: str) -> str:  # position of the lowest set bit; NULL when none
        return f"CASE WHEN {word} = 0 THEN NULL ELSE bit_count(xor({word}, {word} - 1)) - 1 END"

    parts = []
    for j in range(words):
        wide = f"CAST(w{j} AS HUGEINT)"
        cleared = f"({wide} & ({wide} - 1))"
        before = " AND ".join(f"w{i} = 0" for i in range(j)) or "true"
        shown = f"(CASE WHEN {before} THEN {cleared} ELSE {wide} END)"
        parts.append(f"{lowest(shown)} + {(base_word + j) * WORD}")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
