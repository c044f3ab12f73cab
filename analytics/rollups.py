"""Monthly rollups: small derived tables that answer the KPIs without reading every row.

Reading ten million orders for every scorecard costs seconds. The statistics the KPIs need
per month, quarter or year come just as well from derived tables built once per data version
(`refresh`) and kept under the warehouse's `_rollups/` folder:

- `<family>.months`: one row per month and combination of customer attributes (region,
  country, plan, acquisition channel) and the family's record dimensions (channel, and
  product category for orders) with the sums the family's KPIs need. Sums add up, so any
  month, quarter or year is a sum of months.
- `orders.customers`: one row per customer with a completed order: their attributes, the
  months of their first and second completed orders, and the months they were active in as
  a bitmask (`w0`, `w1`, ...: 64 months per word). Active, retained, new and repeat customers
  of any month, quarter or year are counts of bit tests over it.
- `orders.customers_<dimension>`: the same per customer and channel (or product category),
  for orders narrowed or broken down by one record dimension; a customer kept with several
  values is merged back into one row.
- `orders.value` (and `orders.value_<dimension>` per customer and record value): per month
  and customer attributes, the growth of the sum of squared cumulative revenue per customer,
  Σ (cum² − (cum − rev)²). Summed over months it telescopes to Σ cum² at any period's end:
  the spread historical customer value's interval needs, with no per-customer rows.
- `tickets.hours`: per ticket with a first response or a resolution, its month, customer
  attributes, record values and the two durations in hours, sorted by month: an exact median
  needs every value, so this is the one rollup with a row per record, but narrow, joined and
  computed once (the ticket medians read only the months asked for).

The record parts (`*_<dimension>`) come last (the dashboard builds them in the background).

A rollup is named by the versions of the datasets it was built from (and `LAYOUT`) and is used
only while they are the current ones, so a load or rollback never shows stale numbers: until
its rollup is built, the KPIs read the rows as before. `family_stats` answers only what the
rollups answer exactly (month, quarter and year grains; date ranges that end on a month
boundary or beyond the data; filters, breakdowns and access limits on the columns a rollup
keeps, at most one record dimension for orders) and returns None otherwise. Their rows are
narrowed here by the gateway's `Access`, as its views narrow the datasets.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import polars as pl

from analytics import definitions as rules
from analytics.contract import DATASETS
from analytics.filters import DIMENSIONS, NOT_SET, Filters
from analytics.periods import Grain, period_end, periods_between, shift
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse, file_lock

Family = Literal["orders", "surveys", "tickets"]
FAMILIES: tuple[Family, ...] = ("orders", "surveys", "tickets")
FOLDER = "_rollups"
KEEP = 3  # rollups kept per family: the current one and the latest before it (rollbacks)
WORD = 64  # months per bitmask word
# The rollups' layout: part of every rollup's name, so that rollups written by another
# release of Touchpoint are never read (they are rebuilt, and pruned). Raise it with any
# change to what the rollups hold.
LAYOUT = 4

CUSTOMER_ATTRIBUTES: tuple[str, ...] = tuple(
    k for k, d in DIMENSIONS.items() if d.level == "customer" and not d.derived
)
# Record dimensions each family's rollups keep: every record dimension its dataset has.
RECORD_DIMENSIONS: dict[Family, tuple[str, ...]] = {
    family: tuple(k for k, d in DIMENSIONS.items() if d.level == "record" and family in d.datasets)
    for family in FAMILIES
}
_GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")

# Month index: months since year 0, so that month arithmetic is integer arithmetic.
_MONTH = "CAST(year({c}) * 12 + month({c}) - 1 AS INTEGER)"
# The business rules (`analytics.definitions`) as the templates below use them.
_RULES = rules.sql_rules("d")

_ORDERS_MONTHS_SQL = """
SELECT {month} AS m, {attributes}{records},
       count(*) FILTER (WHERE {completed}) AS n_done,
       coalesce(sum(d.amount) FILTER (WHERE {completed}), 0) AS rev,
       coalesce(sum(d.amount * d.amount) FILTER (WHERE {completed}), 0) AS sq,
       count(*) FILTER (WHERE {returned}) AS n_ret
FROM orders d LEFT JOIN customers c ON c.customer_id = d.customer_id
WHERE d.order_date IS NOT NULL
GROUP BY ALL ORDER BY ALL
"""

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

# Per month and group: Σ over customers (or customer and record value) of cum² − (cum − rev)²,
# where rev is their completed revenue in the month and cum their cumulative revenue to its
# end, as `kpis` sums it per period from the rows.
_ORDERS_VALUE_SQL = """
WITH cm AS (
    SELECT d.customer_id{record}, {month} AS m, coalesce(sum(d.amount), 0) AS rev
    FROM orders d
    WHERE d.order_date IS NOT NULL AND {completed}
    GROUP BY ALL
), cum AS (
    SELECT *, sum(rev) OVER (PARTITION BY customer_id{record} ORDER BY m) AS cum FROM cm
)
SELECT m, {attributes}{record}, sum(cum * cum - (cum - rev) * (cum - rev)) AS dsq
FROM cum LEFT JOIN customers c ON c.customer_id = cum.customer_id
GROUP BY ALL ORDER BY ALL
"""

# Ticket durations in hours, exactly as `kpis` computes them from the rows (negative ones,
# data errors, are left out when read).
_TICKETS_HOURS_SQL = """
SELECT {month} AS m, {attributes}{records},
       epoch(d.first_response_at - d.opened_at) / 3600.0 AS frt,
       epoch(d.resolved_at - d.opened_at) / 3600.0 AS res
FROM tickets d LEFT JOIN customers c ON c.customer_id = d.customer_id
WHERE d.opened_at IS NOT NULL
  AND (d.first_response_at >= d.opened_at OR d.resolved_at >= d.opened_at)
ORDER BY m
"""

_SURVEYS_MONTHS_SQL = """
SELECT {month} AS m, {attributes}{records},
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

_TICKETS_MONTHS_SQL = """
SELECT {month} AS m, {attributes}{records},
       count(*) AS tickets,
       count(d.csat) AS tcsat_n,
       count(*) FILTER (WHERE {satisfied}) AS tcsat_ok
FROM tickets d LEFT JOIN customers c ON c.customer_id = d.customer_id
WHERE d.opened_at IS NOT NULL
GROUP BY ALL ORDER BY ALL
"""

# The orders' statistics per group and period, as `kpis` computes them from the rows.
ORDER_STATISTICS: tuple[str, ...] = (
    "orders",
    "revenue",
    "revenue_sq",
    "returned",
    "active",
    "new",
    "repeaters",
    "retained",
    "firsts",
    "rev_all",
    "delta_sq",
)
# The sums each family's month rollup holds: the statistics `kpis` computes for surveys and
# tickets (ticket medians aside), under the same names.
MONTH_SUMS: dict[Family, tuple[str, ...]] = {
    "surveys": (
        "responses",
        "nps_n",
        "promoters",
        "detractors",
        "csat_n",
        "csat_ok",
        "ces_n",
        "ces_sum",
        "ces_sumsq",
    ),
    "tickets": ("tickets", "tcsat_n", "tcsat_ok"),
}
_FLOAT_SUMS = frozenset({"ces_sum", "ces_sumsq", "revenue", "revenue_sq", "rev_all", "delta_sq"})


@dataclass(frozen=True)
class Rollup:
    """One family's rollup files for one set of dataset versions."""

    family: Family
    folder: Path
    key: str
    first_day: date
    last_day: date
    base_word: int  # word k of the bitmask covers months (base_word + k) * 64 ...
    words: int
    versions: tuple[tuple[str, int | None], ...]  # the dataset versions it was built from

    def path(self, part: str) -> Path:
        return self.folder / f"{self.family}-{self.key}.{part}.parquet"

    def has(self, *parts: str) -> bool:
        return all(self.path(part).exists() for part in parts)


def _versions_key(
    warehouse: Warehouse, family: Family, at: Mapping[str, int | None] | None = None
) -> tuple[str, dict[str, int | None]] | None:
    """The name of the family's rollup for the current versions (or those pinned `at`),
    and those versions."""
    own = at[family] if at is not None and family in at else warehouse.version(family)
    if own is None:
        return None
    customers = (
        at["customers"] if at is not None and "customers" in at else warehouse.version("customers")
    )
    named = "none" if customers is None else str(customers)
    return f"{family}{own}-customers{named}-r{LAYOUT}", {family: own, "customers": customers}


def _meta_path(folder: Path, family: Family, key: str) -> Path:
    return folder / f"{family}-{key}.json"


def current(
    warehouse: Warehouse, family: Family, at: Mapping[str, int | None] | None = None
) -> Rollup | None:
    """The family's rollup for the datasets' current versions (or the versions pinned `at`:
    a replayed review), or None when it isn't built (or no longer kept)."""
    named = _versions_key(warehouse, family, at)
    if named is None:
        return None
    folder = warehouse.root / FOLDER
    try:
        meta = json.loads(_meta_path(folder, family, named[0]).read_text())
    except (OSError, ValueError):
        return None
    return Rollup(
        family=family,
        folder=folder,
        key=named[0],
        first_day=date.fromisoformat(meta["first_day"]),
        last_day=date.fromisoformat(meta["last_day"]),
        base_word=int(meta["base_word"]),
        words=int(meta["words"]),
        versions=tuple(named[1].items()),
    )


# ----- building -------------------------------------------------------------------------------


def refresh(
    warehouse: Warehouse, gateway: QueryGateway | None = None, *, records: bool = True
) -> dict[str, float]:
    """Build the rollups missing for the current data versions; seconds taken per part built.

    The parts every KPI question needs come first (`orders`, `surveys`, `tickets`); with
    `records`, then the orders' customers per record value (`orders by channel`, ...), which
    only questions narrowing orders by a record dimension need: the dashboard builds those in
    the background. Safe to call from several threads and processes at once (one builds,
    the others then find the parts there). Rollups of older versions beyond the latest
    `KEEP` are removed.
    """
    folder = warehouse.root / FOLDER
    folder.mkdir(exist_ok=True)
    base = (gateway or QueryGateway(warehouse, threads=2)).scoped(FULL_ACCESS)
    built: dict[str, float] = {}
    with file_lock(folder / ".build.lock"):
        for family in FAMILIES:
            named = _versions_key(warehouse, family)
            if named is None or _meta_path(folder, family, named[0]).exists():
                continue
            key, versions = named
            started = time.perf_counter()
            if _build(base.at_versions(versions), folder, family, key):
                built[family] = time.perf_counter() - started
            _prune(folder, family)
        rollup = current(warehouse, "orders") if records else None
        for record in _missing_records(rollup):
            assert rollup is not None
            started = time.perf_counter()
            pinned = base.at_versions(dict(rollup.versions))  # even if a load came meanwhile
            _write(
                pinned,
                rollup.path(_customers_part(record)),
                _customers_sql(record, rollup.base_word, rollup.words),
            )
            _write(pinned, rollup.path(_value_part(record)), _value_sql(record))
            built[f"orders by {record}"] = time.perf_counter() - started
    return built


def pending(warehouse: Warehouse) -> bool:
    """Whether any rollup part of the current data is still to be built."""
    for family in FAMILIES:
        if warehouse.version(family) is not None and current(warehouse, family) is None:
            return True
    return bool(_missing_records(current(warehouse, "orders")))


def _missing_records(rollup: Rollup | None) -> list[str]:
    """The record dimensions whose orders' customers part `rollup` still lacks."""
    if rollup is None:
        return []
    return [
        r for r in RECORD_DIMENSIONS["orders"] if not rollup.has(_customers_part(r), _value_part(r))
    ]


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
    base_word = _month_index(first_day) // WORD
    words = _month_index(last_day) // WORD - base_word + 1
    month = _MONTH.format(c=f"d.{dataset.time_column}")
    attributes = ", ".join(f"c.{a}" for a in CUSTOMER_ATTRIBUTES)
    records = "".join(f", d.{r}" for r in RECORD_DIMENSIONS[family])
    stem = f"{family}-{key}"
    if family == "orders":
        months = _ORDERS_MONTHS_SQL.format(
            month=month, attributes=attributes, records=records, **_RULES
        )
        _write(gateway, folder / f"{stem}.months.parquet", months)
        customers = _customers_sql(None, base_word, words)
        _write(gateway, folder / f"{stem}.{_customers_part(None)}.parquet", customers)
        _write(gateway, folder / f"{stem}.{_value_part(None)}.parquet", _value_sql(None))
    else:
        template = _SURVEYS_MONTHS_SQL if family == "surveys" else _TICKETS_MONTHS_SQL
        months = template.format(month=month, attributes=attributes, records=records, **_RULES)
        _write(gateway, folder / f"{stem}.months.parquet", months)
        if family == "tickets":
            hours = _TICKETS_HOURS_SQL.format(month=month, attributes=attributes, records=records)
            _write(gateway, folder / f"{stem}.hours.parquet", hours)
    meta = {
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "base_word": base_word,
        "words": words,
    }
    partial = folder / f".{stem}.{os.getpid()}.json"
    partial.write_text(json.dumps(meta))
    os.replace(partial, _meta_path(folder, family, key))  # written last: marks it complete
    return True


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
        attributes=", ".join(f"c.{a}" for a in CUSTOMER_ATTRIBUTES),
        word_columns=", ".join(f"w{k}" for k in range(words)),
        # Sorted so that a filtered read skips whole row groups.
        order=", ".join(([] if record is None else [record]) + list(CUSTOMER_ATTRIBUTES)),
    )


def _value_sql(record: str | None) -> str:
    """The orders' value part: per month and customer attributes (and value of `record`)."""
    return _ORDERS_VALUE_SQL.format(
        **_RULES,
        month=_MONTH.format(c="d.order_date"),
        record="" if record is None else f", {record}",
        attributes=", ".join(f"c.{a}" for a in CUSTOMER_ATTRIBUTES),
    )


def _prune(folder: Path, family: Family) -> None:
    metas = sorted(folder.glob(f"{family}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for meta in metas[KEEP:]:
        meta.unlink(missing_ok=True)
        for part in folder.glob(f"{meta.stem}.*.parquet"):
            part.unlink(missing_ok=True)


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


def _customers_part(record: str | None) -> str:
    return "customers" if record is None else f"customers_{record}"


def _value_part(record: str | None) -> str:
    return "value" if record is None else f"value_{record}"


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


# ----- answering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """What `kpis` asks of a family: its window (see `kpis._Window`) and narrowing."""

    family: Family
    filters: Filters
    grain: Grain
    first: date  # start of the first reported period
    start: date  # first reported day
    end: date  # last reported day
    since: date  # start of the earliest comparison period
    by: str | None
    customer_value: bool = False  # orders: historical customer value's statistics too
    medians: bool = False  # tickets: the durations' sorted values too


def family_stats(gateway: QueryGateway, question: Question) -> pl.DataFrame | None:
    """The family's statistics per group and period, as `kpis` computes them from the rows,
    or None when the rollup is not built or cannot answer `question` exactly."""
    if question.grain not in _GRAINS:
        return None
    at = gateway.versions() if gateway.pinned else None
    rollup = current(gateway.warehouse, question.family, at)
    if rollup is None:
        return None
    month_end = question.end + timedelta(days=1)
    if month_end.day != 1 and question.end < rollup.last_day:
        return None  # the range ends inside a month that has data after it
    if question.start.day != 1 and question.start > rollup.first_day:
        return None
    narrowing = _narrowing(gateway, question)
    if narrowing is None:
        return None
    parts = ["months"]
    if question.family == "orders":
        parts.append(_customers_part(narrowing.record))
        if question.customer_value:
            if narrowing.merge:
                return None  # cumulative revenue over several record values: the rows
            parts.append(_value_part(narrowing.record))
    if question.family == "tickets" and question.medians:
        parts.append("hours")
    if not rollup.has(*parts):
        return None  # the part for this record dimension is still being built
    try:
        if question.family == "orders":
            return _orders_stats(gateway, rollup, question, narrowing)
        return _month_stats(gateway, rollup, question, narrowing)
    except FileNotFoundError:
        if current(gateway.warehouse, question.family, at) == rollup and rollup.has(*parts):
            raise
        return None  # pruned or replaced by another process meanwhile: read the rows


@dataclass(frozen=True)
class _Narrowing:
    """How a question narrows and groups a family's rollup rows."""

    conditions: list[str]
    params: dict[str, object]
    group: str  # SQL of the group value
    record: str | None = None  # the one record dimension narrowing or grouping orders
    merge: bool = False  # a customer may have several rows of `record` to merge

    @property
    def where(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "true"


def _narrowing(gateway: QueryGateway, question: Question) -> _Narrowing | None:
    """WHERE conditions, their parameters and the group expression over the rollup's
    columns; None when a filter, limit or breakdown names a column the rollup lacks, or
    narrows the orders' customers by two record dimensions at once."""
    family = question.family
    records = RECORD_DIMENSIONS[family]
    kept = set(CUSTOMER_ATTRIBUTES) | set(records)
    # Filters, then access limits: as the gateway's views, a limit on the dataset's own
    # column narrows it directly, one on a customer attribute narrows it to the customers
    # who have one of the values.
    own, customers = DATASETS[family].column_names, DATASETS["customers"].column_names
    narrowed = [
        (f"f_{key}", key, values)
        for key, values in question.filters.selections().items()
        if DIMENSIONS[key].applies_to(family)
    ] + [
        (f"a_{i}", column, values)
        for i, (column, values) in enumerate(gateway.access.limits)
        if column in own or (column in customers and column != "customer_id")
    ]
    conditions: list[str] = []
    params: dict[str, object] = {}
    record_values: dict[str, list[list[str]]] = {}
    for name, column, values in narrowed:
        if column not in kept:
            return None
        conditions.append(f"{column} = ANY(${name})")
        params[name] = list(values)
        if column in records:
            record_values.setdefault(column, []).append(list(values))
    by = question.by
    if by is None:
        group = "CAST(NULL AS VARCHAR)"
    elif by in kept:
        group = f"coalesce({by}, '{NOT_SET}')"
    else:
        return None  # the rows path explains why (or breaks it down by a record column)
    if family != "orders":
        return _Narrowing(conditions, params, group)
    used = set(record_values) | ({by} if by in records else set())
    if len(used) > 1:
        return None  # customers per pair of record values would be as many as the orders
    record = next(iter(used), None)
    lists = record_values.get(record or "", [])
    single = len(lists) == 1 and len(lists[0]) == 1
    merge = record is not None and by != record and not single
    return _Narrowing(conditions, params, group, record, merge)


# The start of the period (of the grain) a month index `m` falls in.
_PERIOD_SQL = "CAST(date_trunc('{grain}', make_date(m // 12, m % 12 + 1, 1)) AS DATE)"


def _inside_months(question: Question) -> tuple[int, int, int, int]:
    """Month indexes: the first counted, the last, and the skipped ones [from, to)."""
    return (
        _month_index(question.since),
        _month_index(question.end),
        _month_index(question.first),
        _month_index(question.start),
    )


def _month_stats(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: _Narrowing
) -> pl.DataFrame:
    since_m, end_m, skip_from, skip_to = _inside_months(question)
    sums = MONTH_SUMS[question.family]
    where = " AND ".join(
        [
            "m >= $since_m",
            "m <= $end_m",
            "NOT (m >= $skip_from AND m < $skip_to)",
            *narrowing.conditions,
        ]
    )
    period = _PERIOD_SQL.format(grain=question.grain)
    sql = (
        f"SELECT {narrowing.group} AS grp, {period} AS p, "
        + ", ".join(f"sum({c}) AS {c}" for c in sums)
        + f" FROM read_parquet($path) WHERE {where} GROUP BY ALL"
    )
    params = {
        **narrowing.params,
        "since_m": since_m,
        "end_m": end_m,
        "skip_from": skip_from,
        "skip_to": skip_to,
    }
    frame = gateway.query_derived(sql, {**params, "path": str(rollup.path("months"))})
    frame = frame.with_columns(
        pl.col(c).cast(pl.Float64 if c in _FLOAT_SUMS else pl.Int64) for c in sums
    )
    if question.family != "tickets" or not question.medians:
        return frame
    # The durations' sorted values per group and period, as the rows path lists them.
    lists = gateway.query_derived(
        f"SELECT {narrowing.group} AS grp, {period} AS p, "
        "list_sort(list(frt) FILTER (WHERE frt >= 0)) AS frt, "
        "list_sort(list(res) FILTER (WHERE res >= 0)) AS res "
        f"FROM read_parquet($path) WHERE {where} GROUP BY ALL",
        {**params, "path": str(rollup.path("hours"))},
    )
    return frame.join(lists, on=["grp", "p"], how="left", nulls_equal=True)


def _orders_stats(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: _Narrowing
) -> pl.DataFrame:
    since_m, end_m, skip_from, skip_to = _inside_months(question)
    grain = question.grain
    group, filtered, params = narrowing.group, narrowing.where, narrowing.params
    months = gateway.query_derived(
        f"""
        SELECT grp, {_PERIOD_SQL.format(grain=grain)} AS p,
               coalesce(sum(n_done) FILTER (WHERE inside), 0) AS orders,
               coalesce(sum(rev) FILTER (WHERE inside), 0) AS revenue,
               coalesce(sum(sq) FILTER (WHERE inside), 0) AS revenue_sq,
               coalesce(sum(n_ret) FILTER (WHERE inside), 0) AS returned,
               sum(rev) AS rev_all
        FROM (
            SELECT *, {group} AS grp,
                   m >= $since_m AND NOT (m >= $skip_from AND m < $skip_to) AS inside
            FROM read_parquet($path) WHERE m <= $end_m AND {filtered}
        ) GROUP BY ALL
        """,
        {
            **params,
            "path": str(rollup.path("months")),
            "since_m": since_m,
            "end_m": end_m,
            "skip_from": skip_from,
            "skip_to": skip_to,
        },
    )
    value = None
    if question.customer_value:
        value = gateway.query_derived(
            f"SELECT {group} AS grp, {_PERIOD_SQL.format(grain=grain)} AS p, "
            "sum(dsq) AS delta_sq "
            f"FROM read_parquet($path) WHERE m <= $end_m AND {filtered} GROUP BY ALL",
            {**params, "path": str(rollup.path(_value_part(narrowing.record))), "end_m": end_m},
        )
    source = _customer_rows(rollup, narrowing)
    customer_params = {**params, "path": str(rollup.path(_customers_part(narrowing.record)))}
    firsts = gateway.query_derived(
        f"SELECT grp, first_m, count(*) AS n FROM {source} WHERE first_m <= $end_m GROUP BY ALL",
        {**customer_params, "end_m": end_m},
    )
    spine = periods_between(question.since, question.end, grain)
    inside = [m for m in range(since_m, end_m + 1) if not skip_from <= m < skip_to]
    counts = _customer_counts(gateway, rollup, spine, inside, grain, source, customer_params)

    out: dict[tuple[str | None, date], dict[str, Any]] = {}

    def row(grp: str | None, p: date) -> dict[str, Any]:
        zeros = {c: 0.0 if c in _FLOAT_SUMS else 0 for c in ORDER_STATISTICS}
        return out.setdefault((grp, p), {"grp": grp, "p": p, **zeros})

    for found in months.iter_rows(named=True):
        target = row(found["grp"], found["p"])
        for column in ("orders", "revenue", "revenue_sq", "returned", "rev_all"):
            target[column] = found[column]
    inside_set = set(inside)
    for grp, first_m, n in firsts.iter_rows():
        target = row(grp, _period_of(first_m, grain))
        target["firsts"] += n
        if first_m in inside_set:
            target["new"] += n
    for (grp, p), values in counts.items():
        row(grp, p).update(values)
    for grp, p, delta_sq in [] if value is None else value.iter_rows():
        row(grp, p)["delta_sq"] = delta_sq
    schema = {
        "grp": pl.String(),
        "p": pl.Date(),
        **{c: pl.Float64() if c in _FLOAT_SUMS else pl.Int64() for c in ORDER_STATISTICS},
    }
    return pl.DataFrame(list(out.values()), schema=schema, orient="row")


def _period_of(month: int, grain: Grain) -> date:
    start = _month_start(month)
    if grain == "month":
        return start
    if grain == "quarter":
        return date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    return date(start.year, 1, 1)


def _customer_rows(rollup: Rollup, narrowing: _Narrowing) -> str:
    """SQL of the narrowed customers (`grp`, `first_m`, `second_m`, words), one row per
    customer and group. A customer kept with several record values (channels, say) has one
    row per value in `customers_<record>`: merged, their first month is the earliest, their
    second the earlier of the earliest second and the second-earliest first, and their
    active months the union."""
    narrowed = (
        f"SELECT *, {narrowing.group} AS grp FROM read_parquet($path) WHERE {narrowing.where}"
    )
    if not narrowing.merge:
        return f"({narrowed})"
    words = ", ".join(f"bit_or(w{k}) AS w{k}" for k in range(rollup.words))
    return (
        "(SELECT any_value(grp) AS grp, min(first_m) AS first_m, "
        "least(min(second_m), min(first_m, 2)[2]) AS second_m, "
        f"{words} FROM ({narrowed}) GROUP BY customer_id)"
    )


def _customer_counts(
    gateway: QueryGateway,
    rollup: Rollup,
    spine: list[date],
    inside: list[int],
    grain: Grain,
    source: str,
    params: dict[str, object],
) -> dict[tuple[str | None, date], dict[str, int]]:
    """Active, retained and repeat customers of every period, from the bitmasks."""
    inside_set = set(inside)
    aggregates = []
    previous = None
    for k, p in enumerate(spine):
        months = range(_month_index(p), _month_index(period_end(p, grain)) + 1)
        active = _any_bit(rollup, [m for m in months if m in inside_set])
        last = min(months[-1], inside[-1])  # orders to date: none after the range's end
        aggregates.append(f"count(*) FILTER (WHERE {active}) AS a{k}")
        aggregates.append(f"count(*) FILTER (WHERE {active} AND second_m <= {last}) AS r{k}")
        if previous is not None and shift(p, grain, -1) == spine[k - 1]:
            aggregates.append(f"count(*) FILTER (WHERE {active} AND {previous}) AS t{k}")
        else:
            aggregates.append(f"0 AS t{k}")
        previous = active
    frame = gateway.query_derived(
        f"SELECT grp, {', '.join(aggregates)} FROM {source} GROUP BY ALL", params
    )
    counts: dict[tuple[str | None, date], dict[str, int]] = {}
    for found in frame.iter_rows(named=True):
        for k, p in enumerate(spine):
            active_count = int(found[f"a{k}"])
            if active_count:
                counts[(found["grp"], p)] = {
                    "active": active_count,
                    "repeaters": int(found[f"r{k}"]),
                    "retained": int(found[f"t{k}"]),
                }
    return counts


def _any_bit(rollup: Rollup, months: list[int]) -> str:
    """SQL true when any of `months` is set in a customer's bitmask (constants only)."""
    masks: dict[int, int] = {}
    for m in months:
        word = m // WORD - rollup.base_word
        if 0 <= word < rollup.words:
            masks[word] = masks.get(word, 0) | (1 << (m % WORD))
    if not masks:
        return "false"
    tested = " | ".join(f"(w{w} & CAST({mask} AS UBIGINT))" for w, mask in sorted(masks.items()))
    return f"({tested}) <> 0"
