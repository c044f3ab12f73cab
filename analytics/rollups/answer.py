"""Answering `kpis`' questions from the rollups, exactly as the rows would, or declining.

Two paths. Months: month, quarter and year grains over ranges that start and end on month
boundaries (or beyond the data) read the `months` sums and the orders' monthly customer
bitmasks. Days: week and day grains, and any range of surveys and tickets, read the `days`
sums, and for orders the per-period customer counts `counts_<grain>`, which need the range to
start and end on the grain's period boundaries (or beyond the data). Both narrow the rollup
rows by the question's filters and by the gateway's `Access`, as its views narrow the
datasets; a filter, limit or breakdown on a column the rollups do not keep is declined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

import polars as pl

from analytics.contract import DATASETS
from analytics.filters import DIMENSIONS, NOT_SET, Filters
from analytics.filters import data_range as rows_range
from analytics.periods import Grain, period_end, period_start, periods_between, shift
from analytics.rollups.layout import (
    CUSTOMER_ATTRIBUTES,
    FAMILIES,
    RECORD_DIMENSIONS,
    SEGMENTED,
    WORD,
    Family,
    Rollup,
    current,
    day_index,
    day_words,
    month_index,
    month_start,
    named,
    segments_part,
)
from analytics.rollups.sql import SEGMENTS_SQL
from analytics.warehouse import QueryGateway

_MONTH_GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")

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
# The start of the period (of the grain) a month index `m` falls in; of a `day`.
_MONTH_PERIOD = "CAST(date_trunc('{grain}', make_date(m // 12, m % 12 + 1, 1)) AS DATE)"
_DAY_PERIOD = "CAST(date_trunc('{grain}', day) AS DATE)"


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


def data_range(gateway: QueryGateway, datasets: Sequence[str]) -> tuple[date, date] | None:
    """The first and last day with data in any of `datasets` (None when all are empty), as
    `filters.data_range` finds it, but from the rollups' records when every dataset has a
    current rollup and the gateway sees every row: no dataset is read."""
    if gateway.access.limits or not set(datasets) <= set(FAMILIES):
        return rows_range(gateway, datasets)
    at = gateway.versions() if gateway.pinned else None
    found = [current(gateway.warehouse, cast(Family, name), at) for name in datasets]
    kept = [r for r in found if r is not None]
    if not kept or len(kept) < len(found):
        return rows_range(gateway, datasets)
    return min(r.first_day for r in kept), max(r.last_day for r in kept)


def family_stats(gateway: QueryGateway, question: Question) -> pl.DataFrame | None:
    """The family's statistics per group and period, as `kpis` computes them from the rows,
    or None when the rollup is not built or cannot answer `question` exactly."""
    at = gateway.versions() if gateway.pinned else None
    rollup = current(gateway.warehouse, question.family, at)
    if rollup is None:
        return None
    narrowing = narrowing_of(gateway, question, gateway.segments_file())
    if narrowing is None:
        return None
    path = _path(rollup, question, narrowing)
    if path is None:
        return None
    answer, parts = path
    if not rollup.has(*parts):
        return None  # a later part, still being built
    try:
        return answer(gateway, rollup, question, narrowing)
    except FileNotFoundError:
        if current(gateway.warehouse, question.family, at) == rollup and rollup.has(*parts):
            raise
        return None  # pruned or replaced by another process meanwhile: read the rows


def _path(rollup: Rollup, question: Question, narrowing: Narrowing) -> tuple[Any, list[str]] | None:
    """How to answer: the reader and the parts it needs, or None when no path is exact."""
    family, grain = question.family, question.grain
    record = narrowing.record
    value_needed = family == "orders" and question.customer_value
    if value_needed and narrowing.merge:
        return None  # cumulative revenue over several record values at once: the rows
    hours = ["hours"] if family == "tickets" and question.medians else []
    by_months = grain in _MONTH_GRAINS and _aligned(rollup, question, "month")
    if narrowing.segments is not None:  # the months and counts per segment, or the bitmasks
        if not by_months or hours or value_needed:
            return None
        if family != "orders":
            return _month_stats, [narrowing.part("months")]
        counted = [narrowing.part("months"), narrowing.part(f"counts_{grain}")]
        if record is None and _aligned(rollup, question, grain) and rollup.has(*counted):
            return _orders_by_month_counts, counted
        return _orders_stats, [narrowing.part("months"), named("customers", record)]
    if family != "orders":
        return (_month_stats, ["months", *hours]) if by_months else (_day_stats, ["days", *hours])
    value = [named("value" if by_months else "value_day", record)] if value_needed else []
    counted = ["months" if by_months else "days", named(f"counts_{grain}", record), *value]
    if _aligned(rollup, question, grain) and not narrowing.merge and rollup.has(*counted):
        return (_orders_by_month_counts if by_months else _orders_by_day_counts), counted
    # A period cut by the range: whole periods from the counts, the cut ones (and the period
    # after a cut first one, whose retention looks back at it) from the customers' days.
    cut = ["days", f"counts_{grain}", *(["value_day"] if value_needed else []), "customer_days"]
    if record is None and rollup.has(*cut):
        return _orders_by_day_counts, cut
    if by_months:  # the customers' bitmasks: several record values
        return _orders_stats, ["months", named("customers", record), *value]
    return None


def _aligned(rollup: Rollup, question: Question, grain: Grain) -> bool:
    """Whether the question's days start and end on `grain`'s period boundaries, or beyond
    the data: a period cut by the range needs its customers' own orders."""
    starts = question.start == period_start(question.start, grain)
    ends = question.end == period_end(period_start(question.end, grain), grain)
    return (starts or question.start <= rollup.first_day) and (
        ends or question.end >= rollup.last_day
    )


@dataclass(frozen=True)
class Narrowing:
    """How a question narrows and groups a family's rollup rows."""

    conditions: list[str]
    params: dict[str, object]
    group: str  # SQL of the group value
    record: str | None = None  # the one record dimension narrowing or grouping orders
    merge: bool = False  # a customer may have several rows of `record` to merge
    # The segmentation's customers table, when the question narrows or groups by a segment.
    segments: str | None = None

    def part(self, name: str) -> str:
        """The part `name` as the question reads it: per segment when it needs one."""
        return name if self.segments is None else segments_part(Path(self.segments), name)

    @property
    def months(self) -> str:
        return self.part("months")

    @property
    def where(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "true"


def narrowing_of(
    gateway: QueryGateway, question: Question, segments: Path | None = None
) -> Narrowing | None:
    """WHERE conditions, their parameters and the group expression over the rollup's
    columns; None when a filter, limit or breakdown names a column the rollup lacks, or
    narrows the orders' customers by two record dimensions at once. With `segments` (the
    segmentation the gateway's view reads), segments and clusters are kept too."""
    family = question.family
    records = RECORD_DIMENSIONS[family]
    kept = set(CUSTOMER_ATTRIBUTES) | set(records)
    if segments is not None:
        kept |= set(SEGMENTED)
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
    named_columns = {column for _, column, _ in narrowed} | {by}
    segmented = None if segments is None or not named_columns & set(SEGMENTED) else str(segments)
    if family != "orders":
        return Narrowing(conditions, params, group, segments=segmented)
    used = set(record_values) | ({by} if by in records else set())
    if len(used) > 1:
        return None  # customers per pair of record values would be as many as the orders
    record = next(iter(used), None)
    lists = record_values.get(record or "", [])
    single = len(lists) == 1 and len(lists[0]) == 1
    merge = record is not None and by != record and not single
    return Narrowing(conditions, params, group, record, merge, segmented)


# ----- the months path ------------------------------------------------------------------------


def _inside_months(question: Question) -> dict[str, int]:
    """Month indexes: the first counted, the last, and the skipped ones [from, to)."""
    return {
        "since_m": month_index(question.since),
        "end_m": month_index(question.end),
        "skip_from": month_index(question.first),
        "skip_to": month_index(question.start),
    }


def _inside_days(question: Question) -> dict[str, date]:
    """Days: the first counted, the last, and the skipped ones [from, to)."""
    return {
        "since": question.since,
        "end": question.end,
        "skip_from": question.first,
        "skip_to": question.start,
    }


# Units inside the window (comparison periods included), and up to its end.
_MONTHS_COUNTED = "m >= $since_m AND NOT (m >= $skip_from AND m < $skip_to)"
_DAYS_COUNTED = "day >= $since AND NOT (day >= $skip_from AND day < $skip_to)"
_MONTHS_INSIDE = f"{_MONTHS_COUNTED} AND m <= $end_m"
_DAYS_INSIDE = f"{_DAYS_COUNTED} AND day <= $end"


def _month_stats(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: Narrowing
) -> pl.DataFrame:
    return _sums_stats(gateway, rollup, question, narrowing, narrowing.months)


def _day_stats(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: Narrowing
) -> pl.DataFrame:
    return _sums_stats(gateway, rollup, question, narrowing, "days")


def _sums_stats(
    gateway: QueryGateway,
    rollup: Rollup,
    question: Question,
    narrowing: Narrowing,
    part: str,
) -> pl.DataFrame:
    """Surveys' or tickets' sums per group and period from the `months` or `days` part."""
    sums = MONTH_SUMS[question.family]
    by_month = part != "days"
    period = (_MONTH_PERIOD if by_month else _DAY_PERIOD).format(grain=question.grain)
    inside = _MONTHS_INSIDE if by_month else _DAYS_INSIDE
    bounds: dict[str, object] = dict(
        _inside_months(question) if by_month else _inside_days(question)
    )
    where = " AND ".join([inside, *narrowing.conditions])
    sql = (
        f"SELECT {narrowing.group} AS grp, {period} AS p, "
        + ", ".join(f"sum({c}) AS {c}" for c in sums)
        + f" FROM read_parquet($path) WHERE {where} GROUP BY ALL"
    )
    params = {**narrowing.params, **bounds, "path": rollup.files(part)}
    frame = gateway.query_derived(sql, params).with_columns(
        pl.col(c).cast(pl.Float64 if c in _FLOAT_SUMS else pl.Int64) for c in sums
    )
    if question.family != "tickets" or not question.medians:
        return frame
    # The durations' sorted values per group and period, as the rows path lists them.
    lists = gateway.query_derived(
        f"SELECT {narrowing.group} AS grp, {_DAY_PERIOD.format(grain=question.grain)} AS p, "
        "list_sort(list(frt) FILTER (WHERE frt >= 0)) AS frt, "
        "list_sort(list(res) FILTER (WHERE res >= 0)) AS res "
        f"FROM read_parquet($path) WHERE {' AND '.join([_DAYS_INSIDE, *narrowing.conditions])} "
        "GROUP BY ALL",
        {**narrowing.params, **_inside_days(question), "path": rollup.files("hours")},
    )
    return frame.join(lists, on=["grp", "p"], how="left", nulls_equal=True)


def _orders_stats(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: Narrowing
) -> pl.DataFrame:
    """The orders' statistics from the months and the customers' monthly bitmasks."""
    months = _inside_months(question)
    since_m, end_m = months["since_m"], months["end_m"]
    skip_from, skip_to = months["skip_from"], months["skip_to"]
    grain = question.grain
    group, filtered, params = narrowing.group, narrowing.where, narrowing.params
    period = _MONTH_PERIOD.format(grain=grain)
    months_path = rollup.files(narrowing.months)
    sums = _orders_sums(
        gateway, period, "m", _MONTHS_COUNTED, "m <= $end_m", filtered, group,
        {**params, **months, "path": months_path},
    )  # fmt: skip
    value = None
    if question.customer_value:
        value_path = rollup.files(named("value", narrowing.record))
        until = {**params, "end_m": end_m, "path": value_path}
        value = _value(gateway, group, period, "m <= $end_m", filtered, until)
    customers = rollup.files(named("customers", narrowing.record))
    source = _customer_rows(rollup, narrowing, merge=narrowing.merge or len(customers) > 1)
    customer_params = {**params, "path": customers}
    if narrowing.segments is not None:
        customer_params["segments"] = narrowing.segments
    firsts = gateway.query_derived(
        f"SELECT grp, first_m, count(*) AS n FROM {source} WHERE first_m <= $end_m GROUP BY ALL",
        {**customer_params, "end_m": end_m},
    )
    spine = periods_between(question.since, question.end, grain)
    inside = [m for m in range(since_m, end_m + 1) if not skip_from <= m < skip_to]
    counts = _customer_counts(gateway, rollup, spine, inside, grain, source, customer_params)
    inside_set = set(inside)
    first_rows = [
        (grp, _period_of(first_m, grain), n, first_m in inside_set)
        for grp, first_m, n in firsts.iter_rows()
    ]
    return _assemble(sums, first_rows, counts, value)


def _orders_sums(
    gateway: QueryGateway,
    period: str,
    unit: str,
    inside: str,
    until: str,
    filtered: str,
    group: str,
    params: dict[str, object],
) -> pl.DataFrame:
    """Orders, revenue, squares and returns inside the window, and revenue to date."""
    return gateway.query_derived(
        f"""
        SELECT grp, {period} AS p,
               coalesce(sum(n_done) FILTER (WHERE inside), 0) AS orders,
               coalesce(sum(rev) FILTER (WHERE inside), 0) AS revenue,
               coalesce(sum(sq) FILTER (WHERE inside), 0) AS revenue_sq,
               coalesce(sum(n_ret) FILTER (WHERE inside), 0) AS returned,
               sum(rev) AS rev_all
        FROM (
            SELECT {unit}, n_done, rev, sq, n_ret, {group} AS grp, {inside} AS inside
            FROM read_parquet($path) WHERE {until} AND {filtered}
        ) GROUP BY ALL
        """,
        params,
    )


def _value(
    gateway: QueryGateway,
    group: str,
    period: str,
    until: str,
    filtered: str,
    params: dict[str, object],
) -> pl.DataFrame:
    """The growth of Σ cum² per group and period, for historical customer value."""
    return gateway.query_derived(
        f"SELECT {group} AS grp, {period} AS p, sum(dsq) AS delta_sq "
        f"FROM read_parquet($path) WHERE {until} AND {filtered} GROUP BY ALL",
        params,
    )


def _assemble(
    sums: pl.DataFrame,
    firsts: list[tuple[str | None, date, int, bool]],
    counts: dict[tuple[str | None, date], dict[str, int]],
    value: pl.DataFrame | None,
) -> pl.DataFrame:
    """The orders' statistics per group and period, from their parts: sums, first orders
    (group, period, customers, inside the window), customer counts and value growth."""
    out: dict[tuple[str | None, date], dict[str, Any]] = {}

    def row(grp: str | None, p: date) -> dict[str, Any]:
        zeros = {c: 0.0 if c in _FLOAT_SUMS else 0 for c in ORDER_STATISTICS}
        return out.setdefault((grp, p), {"grp": grp, "p": p, **zeros})

    for found in sums.iter_rows(named=True):
        target = row(found["grp"], found["p"])
        for column in ("orders", "revenue", "revenue_sq", "returned", "rev_all"):
            target[column] = found[column]
    for grp, p, n, inside in firsts:
        target = row(grp, p)
        target["firsts"] += n
        if inside:
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
    start = month_start(month)
    if grain == "month":
        return start
    if grain == "quarter":
        return date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
    return date(start.year, 1, 1)


def _customer_rows(rollup: Rollup, narrowing: Narrowing, *, merge: bool) -> str:
    """SQL of the narrowed customers (`grp`, `first_m`, `second_m`, words), one row per
    customer and group. A customer kept with several record values (channels, say) has one
    row per value in `customers_<record>`, and one per update that appended their orders:
    with `merge`, those are merged: their first month is the earliest, their second the
    earlier of the earliest second and the second-earliest first, and their active months
    the union."""
    source = "read_parquet($path)"
    if narrowing.segments is not None:  # each customer's segment, as the view has it
        segmented = SEGMENTS_SQL.format(path="$segments")
        source = f"(SELECT * FROM {source} LEFT JOIN ({segmented}) USING (customer_id))"
    narrowed = f"SELECT *, {narrowing.group} AS grp FROM {source} WHERE {narrowing.where}"
    if not merge:
        return f"({narrowed})"
    words = ", ".join(f"bit_or(w{k}) AS w{k}" for k in range(rollup.words))
    # By customer and group: a breakdown by the record dimension keeps a row per value.
    return (
        "(SELECT grp, min(first_m) AS first_m, "
        "least(min(second_m), min(first_m, 2)[2]) AS second_m, "
        f"{words} FROM ({narrowed}) GROUP BY customer_id, grp)"
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
        months = range(month_index(p), month_index(period_end(p, grain)) + 1)
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


# ----- the days path --------------------------------------------------------------------------


def _orders_by_month_counts(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: Narrowing
) -> pl.DataFrame:
    return _orders_counted(gateway, rollup, question, narrowing, by_months=True)


def _orders_by_day_counts(
    gateway: QueryGateway, rollup: Rollup, question: Question, narrowing: Narrowing
) -> pl.DataFrame:
    return _orders_counted(gateway, rollup, question, narrowing, by_months=False)


def _orders_counted(
    gateway: QueryGateway,
    rollup: Rollup,
    question: Question,
    narrowing: Narrowing,
    *,
    by_months: bool,
) -> pl.DataFrame:
    """The orders' statistics for whole periods: sums from the months (or days), customers
    from the per-period counts of the grain."""
    grain = question.grain
    group, filtered, params = narrowing.group, narrowing.where, narrowing.params
    record = narrowing.record
    bounds: dict[str, object]
    if by_months:
        period, counted, until = _MONTH_PERIOD.format(grain=grain), _MONTHS_COUNTED, "m <= $end_m"
        bounds, last = {**_inside_months(question)}, "end_m"
        unit, sums_part, value_part = "m", narrowing.months, named("value", record)
    else:
        period, counted, until = _DAY_PERIOD.format(grain=grain), _DAYS_COUNTED, "day <= $end"
        bounds, last = {**_inside_days(question)}, "end"
        unit, sums_part, value_part = "day", "days", named("value_day", record)
    sums = _orders_sums(
        gateway, period, unit, counted, until, filtered, group,
        {**params, **bounds, "path": rollup.files(sums_part)},
    )  # fmt: skip
    value = None
    if question.customer_value:
        value = _value(
            gateway, group, period, until, filtered,
            {**params, last: bounds[last], "path": rollup.files(value_part)},
        )  # fmt: skip
    counts_path = rollup.files(narrowing.part(named(f"counts_{grain}", record)))
    found = gateway.query_derived(
        "SELECT grp, p, sum(active) AS active, sum(retained) AS retained, "
        "sum(repeaters) AS repeaters, sum(firsts) AS firsts FROM ("
        f"SELECT *, {group} AS grp FROM read_parquet($path) WHERE p <= $end AND {filtered}"
        ") GROUP BY ALL",
        {**params, "end": question.end, "path": counts_path},
    )
    since = question.since
    counts: dict[tuple[str | None, date], dict[str, int]] = {}
    firsts: list[tuple[str | None, date, int, bool]] = []
    for grp, p, active, retained, repeaters, first in found.iter_rows():
        inside = p >= since
        firsts.append((grp, p, int(first), inside))
        if inside and active:
            counts[(grp, p)] = {
                "active": int(active),
                "repeaters": int(repeaters),
                # the period before the first counted one is not counted: none retained
                "retained": int(retained) if shift(p, grain, -1) >= since else 0,
            }
    cut = _cut_periods(rollup, question)
    if cut:
        _recount(gateway, rollup, question, narrowing, cut, counts, firsts)
    return _assemble(sums, firsts, counts, value)


@dataclass(frozen=True)
class _Cut:
    """A reported period whose customers are counted from their days: its start, its days
    inside the range [low, high], and whether the range cuts it (else only its retention,
    which looks back at a cut first period, changes)."""

    p: date
    low: date
    high: date
    cut: bool


def _cut_periods(rollup: Rollup, question: Question) -> list[_Cut]:
    """The reported periods the range cuts (its first and last, at most) and the period
    after a cut first one; none when the range starts and ends on period boundaries."""
    grain = question.grain
    last = period_start(question.end, grain)
    periods: dict[date, bool] = {}
    if question.first < question.start and question.start > rollup.first_day:
        periods[question.first] = True
        if shift(question.first, grain, 1) <= last:
            periods[shift(question.first, grain, 1)] = False
    if question.end < period_end(last, grain) and question.end < rollup.last_day:
        periods[last] = True
    return [
        _Cut(p, max(p, question.start), min(period_end(p, grain), question.end), cut)
        for p, cut in sorted(periods.items())
    ]


def _recount(
    gateway: QueryGateway,
    rollup: Rollup,
    question: Question,
    narrowing: Narrowing,
    cut: list[_Cut],
    counts: dict[tuple[str | None, date], dict[str, int]],
    firsts: list[tuple[str | None, date, int, bool]],
) -> None:
    """Count the customers of the `cut` periods from their days, as the rows path counts
    the days inside the range, in place of the whole periods' counts."""
    grain = question.grain
    first_word, words = day_words(rollup)
    aggregates = []
    for k, c in enumerate(cut):
        now = _any_day(first_word, words, c.low, c.high)
        before = shift(c.p, grain, -1)
        if before < question.since:
            previous = "false"  # the period before the first counted one is not counted
        else:  # its days inside the range (all of them, unless it is the cut first period)
            low = max(before, question.start) if before == question.first else before
            previous = _any_day(first_word, words, low, period_end(before, grain))
        aggregates += [
            f"count(*) FILTER (WHERE {now}) AS a{k}",
            f"count(*) FILTER (WHERE {now} AND second_day <= DATE '{c.high}') AS r{k}",
            f"count(*) FILTER (WHERE {now} AND {previous}) AS t{k}",
            f"count(*) FILTER (WHERE first_day BETWEEN DATE '{c.low}' AND DATE '{c.high}') AS n{k}",
            f"count(*) FILTER (WHERE first_day BETWEEN DATE '{c.p}' AND DATE '{c.high}') AS f{k}",
        ]
    files = rollup.files("customer_days")
    found = gateway.query_derived(
        f"SELECT grp, {', '.join(aggregates)} "
        f"FROM {_customer_days(narrowing, words, merge=len(files) > 1)} GROUP BY ALL",
        {**narrowing.params, "path": files},
    )
    recounted = {c.p for c in cut}
    for key in [key for key in counts if key[1] in recounted]:
        del counts[key]
    cut_periods = {c.p for c in cut if c.cut}
    firsts[:] = [f for f in firsts if f[1] not in cut_periods]
    for row in found.iter_rows(named=True):
        grp = row["grp"]
        for k, c in enumerate(cut):
            if row[f"a{k}"]:
                counts[(grp, c.p)] = {
                    "active": int(row[f"a{k}"]),
                    "repeaters": int(row[f"r{k}"]),
                    "retained": int(row[f"t{k}"]),
                }
            if c.cut:  # first orders inside the range are new; the rest only count to date
                new, first = int(row[f"n{k}"]), int(row[f"f{k}"])
                firsts += [(grp, c.p, new, True), (grp, c.p, first - new, False)]


def _customer_days(narrowing: Narrowing, words: int, *, merge: bool) -> str:
    """SQL of the narrowed customers' days (`grp`, `first_day`, `second_day`, day words),
    a customer's rows from several updates merged as `_customer_rows` merges months."""
    narrowed = (
        f"SELECT *, {narrowing.group} AS grp FROM read_parquet($path) WHERE {narrowing.where}"
    )
    if not merge:
        return f"({narrowed})"
    merged = ", ".join(f"bit_or(d{k}) AS d{k}" for k in range(words))
    return (
        "(SELECT grp, min(first_day) AS first_day, "
        "least(min(second_day), min(first_day, 2)[2]) AS second_day, "
        f"{merged} FROM ({narrowed}) GROUP BY customer_id, grp)"
    )


def _any_day(first_word: int, words: int, low: date, high: date) -> str:
    """SQL true when any day from `low` to `high` is set in a customer's day bitmask."""
    masks: dict[int, int] = {}
    for k in range(day_index(low), day_index(high) + 1):
        word = k // WORD - first_word
        if 0 <= word < words:
            masks[word] = masks.get(word, 0) | (1 << (k % WORD))
    if not masks:
        return "false"
    tested = " | ".join(f"(d{w} & CAST({mask} AS UBIGINT))" for w, mask in sorted(masks.items()))
    return f"({tested}) <> 0"
