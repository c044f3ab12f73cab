"""Building the rollups of the current data versions: the SQL of every part, and when it runs.

The base parts (each family's `months`; the orders' `customers` and `value`; the tickets'
`hours`) are built first, and mark the rollup complete; every KPI at month, quarter or year
grain needs only them. The later parts (per day: each family's `days`, the orders' `counts_week`,
`counts_day` and `value_day`; per record dimension of orders: its own `customers_`, `value_`
and `counts_` parts) come after: the dashboard builds them in the background, and until they
are there the questions that need them read the rows.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from analytics import definitions as rules
from analytics.contract import DATASETS
from analytics.periods import PREVIOUS_SQL, Grain
from analytics.rollups.layout import (
    COHORT_GRAINS,
    COUNTED_GRAINS,
    COUNTED_RECORD_GRAINS,
    CUSTOMER_ATTRIBUTES,
    FAMILIES,
    FOLDER,
    KEEP,
    RECORD_DIMENSIONS,
    WORD,
    Family,
    Rollup,
    current,
    day_words,
    meta_path,
    month_index,
    named,
    versions_key,
)
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse, file_lock

# The month index of a day column, and the business rules as the templates use them.
_MONTH = "CAST(year({c}) * 12 + month({c}) - 1 AS INTEGER)"
_RULES = rules.sql_rules("d")
_ATTRIBUTES = ", ".join(f"c.{a}" for a in CUSTOMER_ATTRIBUTES)

# Sums per unit (month index `m`, or `day`) and combination of customer attributes and record
# dimensions: they add up over any set of units.
_ORDERS_SUMS_SQL = """
SELECT {unit} AS {unit_name}, {attributes}{records},
       count(*) FILTER (WHERE {completed}) AS n_done,
       coalesce(sum(d.amount) FILTER (WHERE {completed}), 0) AS rev,
       coalesce(sum(d.amount * d.amount) FILTER (WHERE {completed}), 0) AS sq,
       count(*) FILTER (WHERE {returned}) AS n_ret
FROM orders d LEFT JOIN customers c ON c.customer_id = d.customer_id
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
       coalesce(sum(d.ces * d.ces), 0) AS ces_sumsq
FROM surveys d LEFT JOIN customers c ON c.customer_id = d.customer_id
WHERE d.responded_at IS NOT NULL
GROUP BY ALL ORDER BY ALL
"""

_TICKETS_SUMS_SQL = """
SELECT {unit} AS {unit_name}, {attributes}{records},
       count(*) AS tickets,
       count(d.csat) AS tcsat_n,
       count(*) FILTER (WHERE {satisfied}) AS tcsat_ok
FROM tickets d LEFT JOIN customers c ON c.customer_id = d.customer_id
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
# lowest bit of the words). The record parts keep `customer_id`, so that one customer's rows
# of several record values can be merged when a filter keeps more than one.
_ORDERS_CUSTOMERS_SQL = """
WITH cm AS (
    SELECT d.customer_id{record}, {month} AS m, count(*) AS n
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
    GROUP BY ALL
), cu AS (
    SELECT customer_id{record}, min(m) AS first_m, min(m) FILTER (WHERE n >= 2) AS doubled_m,
           {words}
    FROM cm GROUP BY ALL
)
SELECT {key}{attributes}{record}, CAST(first_m AS INTEGER) AS first_m,
       CAST(least(doubled_m, {second_active}) AS INTEGER) AS second_m, {word_columns}
FROM cu LEFT JOIN customers c ON c.customer_id = cu.customer_id
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
FROM w LEFT JOIN customers c ON c.customer_id = w.customer_id
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
SELECT {attributes}, first_day, second_day, {word_columns}
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


def _sums_sql(family: Family, unit: str) -> str:
    """A family's sums per month (`unit` "m") or per day (`unit` "day")."""
    column = f"d.{DATASETS[family].time_column}"
    unit_sql = _MONTH.format(c=column) if unit == "m" else f"CAST({column} AS DATE)"
    return _SUMS_SQL[family].format(
        unit=unit_sql, unit_name=unit, attributes=_ATTRIBUTES, records=_records(family), **_RULES
    )


def _value_sql(record: str | None, unit: str) -> str:
    """The orders' value part per month (`unit` "m") or day, by customer (and `record`)."""
    unit_sql = _MONTH.format(c="d.order_date") if unit == "m" else "CAST(d.order_date AS DATE)"
    return _ORDERS_VALUE_SQL.format(
        **_RULES,
        unit=unit_sql,
        unit_name=unit,
        record="" if record is None else f", {record}",
        attributes=_ATTRIBUTES,
    )


def _counts_sql(record: str | None, grain: Grain) -> str:
    return _ORDERS_COUNTS_SQL.format(
        **_RULES,
        grain=grain,
        previous=PREVIOUS_SQL[grain],
        record="" if record is None else f", {record}",
        attributes=_ATTRIBUTES,
    )


def _customer_days_sql(first_word: int, words: int) -> str:
    word_sql = ", ".join(
        f"bit_or(CASE WHEN k >= {lo} AND k < {lo + WORD} "
        f"THEN CAST(1 AS UBIGINT) << CAST(k - {lo} AS UBIGINT) "
        f"ELSE CAST(0 AS UBIGINT) END) AS d{j}"
        for j, lo in ((j, (first_word + j) * WORD) for j in range(words))
    )
    return _ORDERS_CUSTOMER_DAYS_SQL.format(
        **_RULES,
        words=word_sql,
        attributes=_ATTRIBUTES,
        word_columns=", ".join(f"d{j}" for j in range(words)),
        order=", ".join(CUSTOMER_ATTRIBUTES),
    )


def _cohorts_sql(grain: Grain) -> str:
    return _ORDERS_COHORTS_SQL.format(**_RULES, grain=grain, attributes=_ATTRIBUTES)


def _hours_sql() -> str:
    return _TICKETS_HOURS_SQL.format(attributes=_ATTRIBUTES, records=_records("tickets"))


def _customers_sql(record: str | None, base_word: int, words: int) -> str:
    """The orders' customers part: one row per customer (and value of `record`)."""
    word_sql = ", ".join(
        f"bit_or(CASE WHEN m >= {lo} AND m < {lo + WORD} "
        f"THEN CAST(1 AS UBIGINT) << CAST(m - {lo} AS UBIGINT) "
        f"ELSE CAST(0 AS UBIGINT) END) AS w{k}"
        for k, lo in ((k, (base_word + k) * WORD) for k in range(words))
    )
    return _ORDERS_CUSTOMERS_SQL.format(
        **_RULES,
        month=_MONTH.format(c="d.order_date"),
        words=word_sql,
        record="" if record is None else f", {record}",
        key="" if record is None else "cu.customer_id, ",
        second_active=_second_active_sql(base_word, words),
        attributes=_ATTRIBUTES,
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


# ----- which parts, and when ------------------------------------------------------------------


@dataclass(frozen=True)
class Later:
    """A group of later parts of one rollup, built together: (part, SQL) pairs."""

    label: str  # how `refresh` reports it: "orders by period", "orders by channel"
    rollup: Rollup
    parts: tuple[tuple[str, Callable[[], str]], ...]

    def missing(self) -> bool:
        return not self.rollup.has(*(part for part, _ in self.parts))


def later_parts(rollups: dict[Family, Rollup | None]) -> list[Later]:
    """The later part groups of the given rollups, the per-day ones first."""
    groups: list[Later] = []
    for family, rollup in rollups.items():
        if rollup is None:
            continue
        parts: list[tuple[str, Callable[[], str]]] = [("days", partial(_sums_sql, family, "day"))]
        if family == "orders":
            parts += [(f"counts_{g}", partial(_counts_sql, None, g)) for g in COUNTED_GRAINS]
            parts.append(("value_day", partial(_value_sql, None, "day")))
            parts += [(f"cohorts_{g}", partial(_cohorts_sql, g)) for g in COHORT_GRAINS]
            parts.append(("customer_days", partial(_customer_days_sql, *day_words(rollup))))
        groups.append(Later(f"{family} by period", rollup, tuple(parts)))
    orders = rollups.get("orders")
    if orders is None:
        return groups
    for record in RECORD_DIMENSIONS["orders"]:
        record_parts: list[tuple[str, Callable[[], str]]] = [
            (
                named("customers", record),
                partial(_customers_sql, record, orders.base_word, orders.words),
            ),
            (named("value", record), partial(_value_sql, record, "m")),
            (named("value_day", record), partial(_value_sql, record, "day")),
        ]
        record_parts += [
            (named(f"counts_{g}", record), partial(_counts_sql, record, g))
            for g in COUNTED_RECORD_GRAINS
        ]
        groups.append(Later(f"orders by {record}", orders, tuple(record_parts)))
    return groups


def refresh(
    warehouse: Warehouse, gateway: QueryGateway | None = None, *, records: bool = True
) -> dict[str, float]:
    """Build the rollups missing for the current data versions; seconds taken per part built.

    The base parts every month, quarter and year question needs come first (`orders`,
    `surveys`, `tickets`); with `records`, then the later parts (`orders by period`, ...,
    `orders by channel`, ...), which week and day grains, ranges cut inside a month and
    orders narrowed by a record dimension need: the dashboard builds those in the background.
    Safe to call from several threads and processes at once (one builds, the others then
    find the parts there). Rollups of older versions beyond the latest `KEEP` are removed.
    """
    folder = warehouse.root / FOLDER
    folder.mkdir(exist_ok=True)
    base = (gateway or QueryGateway(warehouse, threads=2)).scoped(FULL_ACCESS)
    built: dict[str, float] = {}
    with file_lock(folder / ".build.lock"):
        for family in FAMILIES:
            found = versions_key(warehouse, family)
            if found is None or meta_path(folder, family, found[0]).exists():
                continue
            key, versions = found
            started = time.perf_counter()
            if _build(base.at_versions(versions), folder, family, key):
                built[family] = time.perf_counter() - started
            _prune(folder, family)
        if not records:
            return built
        for group in later_parts({f: current(warehouse, f) for f in FAMILIES}):
            if not group.missing():
                continue
            started = time.perf_counter()
            pinned = base.at_versions(dict(group.rollup.versions))  # even if a load came
            for part, sql in group.parts:
                _write(pinned, group.rollup.path(part), sql())
            built[group.label] = time.perf_counter() - started
    return built


def pending(warehouse: Warehouse) -> bool:
    """Whether any rollup part of the current data is still to be built."""
    found = {f: current(warehouse, f) for f in FAMILIES}
    if any(warehouse.version(f) is not None and found[f] is None for f in FAMILIES):
        return True
    return any(group.missing() for group in later_parts(found))


def _write(gateway: QueryGateway, target: Path, sql: str) -> None:
    """Write atomically: readers see the whole file or none."""
    partial = target.with_name(f".{target.stem}.{os.getpid()}.parquet")
    gateway.write_parquet(sql, partial)
    os.replace(partial, target)


def _build(gateway: QueryGateway, folder: Path, family: Family, key: str) -> bool:
    dataset = DATASETS[family]
    bounds = gateway.query(
        f"SELECT CAST(min({dataset.time_column}) AS DATE) AS lo, "
        f"CAST(max({dataset.time_column}) AS DATE) AS hi FROM {family}"
    ).row(0)
    if bounds[0] is None:
        return False
    first_day, last_day = bounds
    base_word = month_index(first_day) // WORD
    words = month_index(last_day) // WORD - base_word + 1
    stem = f"{family}-{key}"
    _write(gateway, folder / f"{stem}.months.parquet", _sums_sql(family, "m"))
    if family == "orders":
        customers = _customers_sql(None, base_word, words)
        _write(gateway, folder / f"{stem}.customers.parquet", customers)
        _write(gateway, folder / f"{stem}.value.parquet", _value_sql(None, "m"))
    if family == "tickets":
        _write(gateway, folder / f"{stem}.hours.parquet", _hours_sql())
    meta = {
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "base_word": base_word,
        "words": words,
    }
    partial = folder / f".{stem}.{os.getpid()}.json"
    partial.write_text(json.dumps(meta))
    os.replace(partial, meta_path(folder, family, key))  # written last: marks it complete
    return True


def _prune(folder: Path, family: Family) -> None:
    metas = sorted(folder.glob(f"{family}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for meta in metas[KEEP:]:
        meta.unlink(missing_ok=True)
        for part in folder.glob(f"{meta.stem}.*.parquet"):
            part.unlink(missing_ok=True)
