"""Bringing a rollup up to date after an append or a rollback instead of building it again.

A load that appends rows to a family (`Warehouse.appended` names their files) leaves every
row the earlier rollup summed in place, so the new rollup is the earlier one plus what the
appended rows change. Its parts are the earlier parts' files (hard links, so that pruning
either leaves the other whole) plus one delta file per part, written from the appended rows
alone in a workspace (`QueryGateway.workspace`), under the datasets' own names so that the
SQL of a full build (`sql`) runs on them unchanged where it can:

- Sums per unit (`months`, `days`) add up: the delta is the appended rows' sums. Ticket
  durations (`hours`) are rows: the delta is the appended tickets' rows.
- Per-customer parts (`customers`, `customers_<record>`, `customer_days`): the delta has a
  row per customer with appended orders, from those orders alone; readers merge a
  customer's rows (first: the least; second: the second least; active units: the union).
- Per-customer sums (`counts_<grain>`, `value`, `cohorts_<grain>` and their record forms):
  what a customer adds depends on their past. The customers part keeps, per customer, the
  days of their first, second and last completed orders and their completed revenue, which
  is all of it as long as the appended orders are no earlier than the customer's last one:
  a period is newly active unless it is the last one's, retained when the period before
  was active, and the growth of cum² is (C + appended to date)² − (C + appended before)².

An append that reaches back before a customer's last order, outgrows the bitmask words, or
comes after `MAX_GENERATIONS` updates (the deltas would slow reads) is built in full, as
are replaces and loads of customers (they change the customers' attributes). A rollback to
data a kept rollup was built from links that rollup's files. Every update equals a full
build (tests/analytics/rollups/test_update.py, for random sequences of appends, replaces
and rollbacks).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import replace
from pathlib import Path

from analytics.contract import DATASETS
from analytics.periods import PREVIOUS_SQL, Grain
from analytics.rollups.layout import (
    COHORT_GRAINS,
    COUNTED_GRAINS,
    CUSTOMER_ATTRIBUTES,
    LAYOUT,
    RECORD_DIMENSIONS,
    SEGMENTS_PART,
    WORD,
    Family,
    Rollup,
    current,
    day_words,
    meta_path,
    month_index,
    write_meta,
)
from analytics.rollups.sql import (
    ATTRIBUTES,
    MONTH,
    RULES,
    customer_days_sql,
    customers_sql,
    hours_sql,
    sums_sql,
)
from analytics.warehouse import DUCKDB_VERSION, QueryGateway, Warehouse, Workspace

# Updates in a row before the next load builds the rollup in full again.
MAX_GENERATIONS = 12
# `h` in the per-customer parts is DuckDB's hash of `customer_id`: only a rollup built by the
# same DuckDB release is updated (another's is built in full).
MARK: dict[str, object] = {"hash": f"duckdb {DUCKDB_VERSION}"}


def update(
    gateway: QueryGateway,
    folder: Path,
    family: Family,
    key: str,
    versions: dict[str, int | None],
) -> str | None:
    """Make the rollup `key` (of the dataset `versions`) from a kept earlier one, when the
    data allows: "restored" (the same rows as a kept rollup's), "appended", or None when it
    must be built in full."""
    warehouse = gateway.warehouse
    version = versions[family]
    assert version is not None
    files = set(warehouse.files(family, version))
    for old in kept_rollups(warehouse, folder, family, versions):
        old_version = dict(old.versions)[family]
        assert old_version is not None
        if set(warehouse.files(family, old_version)) == files:
            _restore(old, key, versions)
            return "restored"
        added = warehouse.appended(family, old_version, version)
        if added is None:
            continue
        if old.generation >= MAX_GENERATIONS:
            return None
        with gateway.workspace() as workspace:
            made = _append(workspace, old, key, versions, added)
        return "appended" if made else None
    return None


def kept_rollups(
    warehouse: Warehouse, folder: Path, family: Family, versions: dict[str, int | None]
) -> list[Rollup]:
    """The kept rollups of the family over the same customers, newest first, whose hashes
    match this release's."""
    customers = "none" if versions["customers"] is None else str(versions["customers"])
    found: list[tuple[int, Rollup]] = []
    suffix = f"-customers{customers}-r{LAYOUT}.json"
    for path in folder.glob(f"{family}-{family}*{suffix}"):
        number = path.name.removeprefix(f"{family}-{family}").removesuffix(suffix)
        if not number.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("hash") != MARK["hash"]:
                continue
        at = {family: int(number), "customers": versions["customers"]}
        rollup = current(warehouse, family, at)
        if rollup is not None:
            found.append((int(number), rollup))
    return [rollup for _, rollup in sorted(found, key=lambda f: f[0], reverse=True)]


def _parts(rollup: Rollup) -> list[str]:
    """The parts the rollup has (built or linked)."""
    stem = f"{rollup.family}-{rollup.key}."
    names = (
        p.name.removeprefix(stem).removesuffix(".parquet")
        for p in rollup.folder.glob(f"{stem}*.parquet")
    )
    return sorted(n for n in names if "." not in n)


def _link(source: Path, target: Path) -> None:
    """`target` names the file `source` does (a copy where links are not possible)."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_bytes(source.read_bytes())
        os.replace(partial, target)


def _link_part(old: Rollup, new: Rollup, part: str) -> None:
    _link(old.path(part), new.path(part))
    for generation in dict(old.deltas).get(part, ()):
        _link(old.delta_path(part, generation), new.delta_path(part, generation))


def _meta(rollup: Rollup) -> dict[str, object]:
    return {
        "first_day": rollup.first_day.isoformat(),
        "last_day": rollup.last_day.isoformat(),
        "base_word": rollup.base_word,
        "words": rollup.words,
        **MARK,
        "generation": rollup.generation,
        "deltas": {part: list(generations) for part, generations in rollup.deltas},
    }


def _restore(old: Rollup, key: str, versions: dict[str, int | None]) -> None:
    """The same rows as `old` was built from: its files under the new name."""
    new = replace(old, key=key, versions=tuple(versions.items()))
    for part in _parts(old):
        _link_part(old, new, part)
    write_meta(meta_path(new.folder, new.family, key), _meta(new))


def _append(
    workspace: Workspace,
    old: Rollup,
    key: str,
    versions: dict[str, int | None],
    added: tuple[str, ...],
) -> bool:
    """Write the new rollup as `old` plus the rows of `added`; False when it cannot be."""
    family = old.family
    workspace.load(family, family, files=added)
    time_column = DATASETS[family].time_column
    low, high = workspace.query(
        f"SELECT CAST(min({time_column}) AS DATE), CAST(max({time_column}) AS DATE) FROM {family}"
    ).row(0)
    first_day = old.first_day if low is None else min(old.first_day, low)
    last_day = old.last_day if high is None else max(old.last_day, high)
    base_word = month_index(first_day) // WORD
    words = month_index(last_day) // WORD - base_word + 1
    if family == "orders" and (base_word, words) != (old.base_word, old.words):
        return False  # the monthly bitmasks need other words
    generation = old.generation + 1
    new = replace(
        old,
        key=key,
        first_day=first_day,
        last_day=last_day,
        versions=tuple(versions.items()),
        generation=generation,
        deltas=(),
    )
    workspace.load(  # only the attributes the parts keep: a quarter of the time
        "customers",
        "customers",
        columns=("customer_id", *CUSTOMER_ATTRIBUTES),
        where=f"customer_id IN (SELECT customer_id FROM {family})",
    )
    parts = _parts(old)
    if family == "orders" and not _orders_state(workspace, old, parts):
        return False
    deltas: dict[str, tuple[int, ...]] = {}
    for part in parts:
        sql = _delta_sql(part, family, old, new)
        if sql is None:
            continue  # built in full later, like a part never built
        target = new.delta_path(part, generation)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        workspace.write_parquet(sql, partial)
        os.replace(partial, target)
        _link_part(old, new, part)
        deltas[part] = (*dict(old.deltas).get(part, ()), generation)
    new = replace(new, deltas=tuple(sorted(deltas.items())))
    write_meta(meta_path(new.folder, family, key), _meta(new))
    return True


# ----- what appended orders change --------------------------------------------------------


def _record_of(part: str) -> tuple[str, str | None]:
    """A part's kind and record dimension: "counts_week_channel" -> ("counts_week", "channel")."""
    for record in RECORD_DIMENSIONS["orders"]:
        if part.endswith(f"_{record}"):
            return part.removesuffix(f"_{record}"), record
    return part, None


def _orders_state(workspace: Workspace, old: Rollup, parts: list[str]) -> bool:
    """The appended completed orders (`ao`), and the past of their customers as the old
    rollup keeps it (`state`, `state_<record>`); False when an appended order is earlier
    than its customer's last one (the sums of later periods would change too)."""
    workspace.execute(
        "CREATE TEMP TABLE ao AS SELECT customer_id, "
        + "".join(f"{r}, " for r in RECORD_DIMENSIONS["orders"])
        + "CAST(order_date AS DATE) AS order_date, amount FROM orders d "
        f"WHERE d.order_date IS NOT NULL AND {RULES['completed']}"
    )
    workspace.execute(
        "CREATE TEMP TABLE ah AS SELECT DISTINCT customer_id, hash(customer_id) AS h FROM ao"
    )
    for part in parts:
        kind, record = _record_of(part)
        if kind != "customers":
            continue
        keys = "customer_id" + ("" if record is None else f", {record}")
        workspace.execute(
            f"""
            CREATE TEMP TABLE state{"" if record is None else "_" + record} AS
            WITH cand AS MATERIALIZED (
                SELECT {keys}, first_day, second_day, last_day, revenue
                FROM read_parquet($files) WHERE h IN (SELECT h FROM ah)
            )
            SELECT {keys}, min(first_day) AS first_day,
                   least(min(second_day), min(first_day, 2)[2]) AS second_day,
                   max(last_day) AS last_day, sum(revenue) AS revenue
            FROM cand WHERE customer_id IN (SELECT customer_id FROM ah) GROUP BY ALL
            """,
            {"files": old.files(part)},
        )
    earlier = workspace.query(
        "SELECT count(*) FROM (SELECT customer_id, min(order_date) AS low FROM ao GROUP BY ALL) a "
        "JOIN state s USING (customer_id) WHERE a.low < s.last_day"
    ).item()
    return int(earlier) == 0


def _delta_sql(part: str, family: Family, old: Rollup, new: Rollup) -> str | None:
    """SQL of what the appended rows add to `part`, or None when they cannot be added."""
    if SEGMENTS_PART in part:
        return None  # the data's new segmentation comes after: built for it then
    if part in ("months", "days"):
        return sums_sql(family, "m" if part == "months" else "day")
    if part == "hours":
        return hours_sql()
    if part == "customer_days":
        if day_words(new) != day_words(old):
            return None  # other day words: the part is built again in the background
        return customer_days_sql(*day_words(new))
    kind, record = _record_of(part)
    if kind == "customers":
        return customers_sql(record, new.base_word, new.words)
    if kind in ("value", "value_day"):
        return _value_delta_sql(record, "m" if kind == "value" else "day")
    grain = kind.removeprefix("counts_").removeprefix("cohorts_")
    if kind.startswith("counts_") and grain in COUNTED_GRAINS:
        return _counts_delta_sql(record, grain)
    if kind.startswith("cohorts_") and grain in COHORT_GRAINS:
        return _cohorts_delta_sql(grain)
    raise ValueError(f"No update is known for the rollup part {part!r}.")


def _keys(record: str | None, alias: str) -> tuple[str, str, str]:
    """The record column as selected (", channel"), as a join condition on `alias`, and as
    a window partition."""
    if record is None:
        return "", "", ""
    return (
        f", {record}",
        f" AND s.{record} IS NOT DISTINCT FROM {alias}.{record}",
        f", {alias}.{record}",
    )


# Per unit: the growth of Σ cum² the appended revenue brings, each customer's cumulative
# revenue starting from their past revenue C: (C + appended to date)² − (C + before)².
_VALUE_DELTA_SQL = """
WITH au AS (
    SELECT customer_id{record}, {unit} AS {unit_name}, coalesce(sum(amount), 0) AS rev
    FROM ao GROUP BY ALL
), cum AS (
    SELECT au.*, coalesce(s.revenue, 0) + sum(rev) OVER (
               PARTITION BY au.customer_id{partition} ORDER BY {unit_name}) AS cum
    FROM au LEFT JOIN {state} s ON s.customer_id = au.customer_id{join}
)
SELECT {unit_name}, {attributes}{record}, sum(cum * cum - (cum - rev) * (cum - rev)) AS dsq
FROM cum LEFT JOIN customers c ON c.customer_id = cum.customer_id
GROUP BY ALL ORDER BY ALL
"""

# Per period: the counts the appended orders change. A period is newly active unless it is
# the one of the customer's last order (`already`); retained when the customer's previous
# active period (their last, or the appended one before) is the period before; a repeater
# once their orders to date are two; their first when they had none.
_COUNTS_DELTA_SQL = """
WITH ap AS (
    SELECT customer_id{record}, CAST(date_trunc('{grain}', order_date) AS DATE) AS p,
           count(*) AS n
    FROM ao GROUP BY ALL
), w AS (
    SELECT ap.*, s.first_day,
           CAST(date_trunc('{grain}', s.last_day) AS DATE) AS last_p,
           CASE WHEN s.second_day IS NOT NULL THEN 2 WHEN s.first_day IS NOT NULL THEN 1
                ELSE 0 END AS past,
           sum(n) OVER c AS cum, lag(p) OVER c AS lag_p, row_number() OVER c AS k
    FROM ap LEFT JOIN {state} s ON s.customer_id = ap.customer_id{join}
    WINDOW c AS (PARTITION BY ap.customer_id{partition} ORDER BY p)
), x AS (
    SELECT *, coalesce(p = last_p, false) AS already,
           {previous} = CASE WHEN k = 1 THEN last_p ELSE lag_p END AS after_active
    FROM w
)
SELECT p, {attributes}{record},
       CAST(count(*) FILTER (WHERE NOT already) AS BIGINT) AS active,
       CAST(count(*) FILTER (WHERE NOT already AND after_active) AS BIGINT) AS retained,
       CAST(count(*) FILTER (WHERE past + cum >= 2)
            - count(*) FILTER (WHERE already AND past >= 2) AS BIGINT) AS repeaters,
       CAST(count(*) FILTER (WHERE first_day IS NULL AND k = 1) AS BIGINT) AS firsts
FROM x LEFT JOIN customers c ON c.customer_id = x.customer_id
GROUP BY ALL ORDER BY ALL
"""

# Per cohort and period: customers newly active in it, and the appended revenue.
_COHORTS_DELTA_SQL = """
WITH ap AS (
    SELECT customer_id, CAST(date_trunc('{grain}', order_date) AS DATE) AS p,
           sum(amount) AS revenue
    FROM ao GROUP BY ALL
), x AS (
    SELECT ap.*,
           coalesce(CAST(date_trunc('{grain}', s.first_day) AS DATE),
                    min(p) OVER (PARTITION BY ap.customer_id)) AS cohort_start,
           coalesce(p = CAST(date_trunc('{grain}', s.last_day) AS DATE), false) AS already
    FROM ap LEFT JOIN state s ON s.customer_id = ap.customer_id
)
SELECT cohort_start, p, {attributes},
       CAST(count(*) FILTER (WHERE NOT already) AS BIGINT) AS customers,
       sum(revenue) AS revenue
FROM x LEFT JOIN customers c ON c.customer_id = x.customer_id
GROUP BY ALL ORDER BY ALL
"""


def _state(record: str | None) -> str:
    return "state" if record is None else f"state_{record}"


def _value_delta_sql(record: str | None, unit: str) -> str:
    selected, join, partition = _keys(record, "au")
    return _VALUE_DELTA_SQL.format(
        record=selected,
        join=join,
        partition=partition,
        unit=MONTH.format(c="order_date") if unit == "m" else "order_date",
        unit_name=unit,
        state=_state(record),
        attributes=ATTRIBUTES,
    )


def _counts_delta_sql(record: str | None, grain: Grain) -> str:
    selected, join, partition = _keys(record, "ap")
    return _COUNTS_DELTA_SQL.format(
        record=selected,
        join=join,
        partition=partition,
        grain=grain,
        previous=PREVIOUS_SQL[grain],
        state=_state(record),
        attributes=ATTRIBUTES,
    )


def _cohorts_delta_sql(grain: Grain) -> str:
    return _COHORTS_DELTA_SQL.format(grain=grain, attributes=ATTRIBUTES)
