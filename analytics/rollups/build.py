"""Building the rollups of the current data versions, and when each part is built.

The base parts (each family's `months`; the orders' `customers` and `value`; the tickets'
`hours`) are built first, and mark the rollup complete; every KPI at month, quarter or year
grain needs only them. The later parts (per day: each family's `days`, the orders' `counts_week`,
`counts_day` and `value_day`; per record dimension of orders: its own `customers_`, `value_`
and `counts_` parts) come after: the dashboard builds them in the background, and until they
are there the questions that need them read the rows. After an append, a rollup is brought up
to date from the one before (`update`) instead of being built again; its SQL is in `sql`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from analytics.contract import DATASETS
from analytics.rollups import update
from analytics.rollups.layout import (
    COHORT_GRAINS,
    COUNTED_GRAINS,
    COUNTED_RECORD_GRAINS,
    FAMILIES,
    FOLDER,
    KEEP,
    RECORD_DIMENSIONS,
    SEGMENTED_GRAINS,
    SEGMENTS_PART,
    WORD,
    Family,
    Rollup,
    current,
    day_words,
    meta_path,
    month_index,
    named,
    segments_part,
    versions_key,
    write_meta,
)
from analytics.rollups.segmented import carried, part_sql
from analytics.rollups.sql import (
    cohorts_sql,
    counts_sql,
    customer_days_sql,
    customers_sql,
    hours_sql,
    sums_sql,
    value_sql,
)
from analytics.warehouse import (
    FULL_ACCESS,
    QueryGateway,
    Warehouse,
    file_lock,
    latest_segments_file,
)

# ----- which parts, and when ------------------------------------------------------------------


@dataclass(frozen=True)
class Later:
    """A group of later parts of one rollup, built together: (part, SQL) pairs."""

    label: str  # how `refresh` reports it: "orders by period", "orders by channel"
    rollup: Rollup
    parts: tuple[tuple[str, Callable[[], str]], ...]

    def missing(self) -> bool:
        return not self.rollup.has(*(part for part, _ in self.parts))


def later_parts(rollups: dict[Family, Rollup | None], segments: Path | None = None) -> list[Later]:
    """The later part groups of the given rollups, the per-day ones first, and with
    `segments` (the latest segmentation's customers table) the months per segment."""
    groups: list[Later] = []
    for family, rollup in rollups.items():
        if rollup is None:
            continue
        if segments is not None:
            kinds = ["months", *(f"counts_{g}" for g in SEGMENTED_GRAINS if family == "orders")]
            by_segment = tuple(
                (segments_part(segments, kind), partial(part_sql, family, kind, segments))
                for kind in kinds
            )
            groups.append(Later(f"{family} by segment", rollup, by_segment))
        parts: list[tuple[str, Callable[[], str]]] = [("days", partial(sums_sql, family, "day"))]
        if family == "orders":
            parts += [(f"counts_{g}", partial(counts_sql, None, g)) for g in COUNTED_GRAINS]
            parts.append(("value_day", partial(value_sql, None, "day")))
            parts += [(f"cohorts_{g}", partial(cohorts_sql, g)) for g in COHORT_GRAINS]
            parts.append(("customer_days", partial(customer_days_sql, *day_words(rollup))))
        groups.append(Later(f"{family} by period", rollup, tuple(parts)))
    orders = rollups.get("orders")
    if orders is None:
        return groups
    for record in RECORD_DIMENSIONS["orders"]:
        record_parts: list[tuple[str, Callable[[], str]]] = [
            (
                named("customers", record),
                partial(customers_sql, record, orders.base_word, orders.words),
            ),
            (named("value", record), partial(value_sql, record, "m")),
            (named("value_day", record), partial(value_sql, record, "day")),
        ]
        record_parts += [
            (named(f"counts_{g}", record), partial(counts_sql, record, g))
            for g in COUNTED_RECORD_GRAINS
        ]
        groups.append(Later(f"orders by {record}", orders, tuple(record_parts)))
    return groups


def refresh(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    records: bool = True,
    by_segment: bool = True,
) -> dict[str, float]:
    """Build the rollups missing for the current data versions; seconds taken per part built.

    The base parts every month, quarter and year question needs come first (`orders`,
    `surveys`, `tickets`); with `records`, then the later parts (`orders by period`, ...,
    `orders by channel`, ...), which week and day grains, ranges cut inside a month and
    orders narrowed by a record dimension need: the dashboard builds those in the background.
    Safe to call from several threads and processes at once (one builds, the others then
    find the parts there). Rollups of older versions beyond the latest `KEEP` are removed.
    Without `by_segment`, the months per segment wait (for a segmentation still to come).
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
            pinned = base.at_versions(versions)
            how = update.update(pinned, folder, family, key, versions)
            if how is not None or _build(pinned, folder, family, key):
                built[family if how is None else f"{family} ({how})"] = (
                    time.perf_counter() - started
                )
            _prune(folder, family)
        if not records:
            return built
        segments = latest_segments_file(warehouse.root) if by_segment else None
        for group in later_parts({f: current(warehouse, f) for f in FAMILIES}, segments):
            if not group.missing():
                continue
            started = time.perf_counter()
            pinned = base.at_versions(dict(group.rollup.versions))  # even if a load came
            if any(SEGMENTS_PART in part for part, _ in group.parts):
                assert segments is not None
                names = [part for part, _ in group.parts]
                if carried(pinned, group.rollup, names, segments):
                    built[f"{group.label} (carried)"] = time.perf_counter() - started
                    _prune_segments(group)
                    continue
                _prune_segments(group)
            for part, sql in group.parts:
                if not group.rollup.has(part):  # an update may have brought some up to date
                    _write(pinned, group.rollup.path(part), sql())
            built[group.label] = time.perf_counter() - started
    return built


def pending(warehouse: Warehouse) -> bool:
    """Whether any rollup part of the current data is still to be built."""
    found = {f: current(warehouse, f) for f in FAMILIES}
    if any(warehouse.version(f) is not None and found[f] is None for f in FAMILIES):
        return True
    segments = latest_segments_file(warehouse.root)
    return any(group.missing() for group in later_parts(found, segments))


def _prune_segments(group: Later) -> None:
    """Before a rollup's months per segment are built for a new segmentation, remove those
    of the earlier ones (only the latest segmentation is read)."""
    kept = {part for part, _ in group.parts}
    rollup = group.rollup
    for path in rollup.folder.glob(f"{rollup.family}-{rollup.key}.*{SEGMENTS_PART}*.parquet"):
        if path.name.split(".")[1] not in kept:
            path.unlink(missing_ok=True)


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
    _write(gateway, folder / f"{stem}.months.parquet", sums_sql(family, "m"))
    if family == "orders":
        customers = customers_sql(None, base_word, words)
        _write(gateway, folder / f"{stem}.customers.parquet", customers)
        _write(gateway, folder / f"{stem}.value.parquet", value_sql(None, "m"))
    if family == "tickets":
        _write(gateway, folder / f"{stem}.hours.parquet", hours_sql())
    meta = {
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "base_word": base_word,
        "words": words,
        **update.MARK,
        "generation": 0,  # no update since this full build
        "deltas": {},
    }
    write_meta(meta_path(folder, family, key), meta)
    return True


def _prune(folder: Path, family: Family) -> None:
    metas = sorted(folder.glob(f"{family}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for meta in metas[KEEP:]:
        meta.unlink(missing_ok=True)
        for part in folder.glob(f"{meta.stem}.*.parquet"):
            part.unlink(missing_ok=True)
