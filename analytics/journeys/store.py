"""Journeys per data version: every customer's steps, built once after a load and stored as a
derived table, read by every page and command.

`refresh` merges, for the current versions of events, orders, surveys and tickets, every
customer's steps (`steps.merge_steps`) into the Parquet folder
`_journeys/journeys-<key>.steps.parquet`, sorted by customer and time: a batch of customers
at a time (`steps.steps_in_batches`), a part file per batch, so that a build of any size
holds a few million steps at once. With them it makes what the views of all dates read of
them (`PARTS`, made a batch at a time: `parts.customer_parts`; when each
customer reached each stage, their touchpoints per stage, answers and tickets where they
were, the positions of their paths from each anchor), the views of everyone for all dates
and each quarter (`totals`: the funnel and the map's measures, tallied a batch at a time
and put together) and the touchpoints' counts
(`steps.touchpoint_counts`), with `journeys-<key>.json` (written last) holding the
versions, the stage settings, the date ranges held and how long the build took. Another
date range reads the steps.
A build is named by the dataset versions, the journey settings and `LAYOUT`; builds are
serialised across processes by a file lock and the latest `KEEP` stay. When the data only
appends rows to the latest build's (same settings and layout), the build is made from it
(`update`): only the customers the appended rows name are merged again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analytics import builds
from analytics.journeys import totals, update
from analytics.journeys.parts import PER_CUSTOMER, customer_parts, joined_positions
from analytics.journeys.stages import SETTINGS_NAME, JourneySettings, load_settings
from analytics.journeys.steps import (
    SOURCE_DATASETS,
    steps_in_batches,
    touchpoint_counts,
    write_customer_keys,
)
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse

FOLDER = "_journeys"
PREFIX = "journeys"
KEEP = 3
LAYOUT = 10  # raise with any change to what a build holds
# What a build holds: every customer's steps, and for the view of all dates, what the funnel,
# map and paths read of them (so that those read a few million rows, not every step); for
# those who see everyone, the funnel and the measures themselves (`totals.TABLES`, all dates
# and each quarter: a few dozen rows) and the touchpoints' counts (the Stages tab).
# Every part keys customers by an integer (`customers`: customer_id -> key).
PARTS = (
    "steps", "customers", "reach", "touched", "reactions", "positions", *totals.TABLES,
    "touchpoints",
)  # fmt: skip


@dataclass(frozen=True)
class StoredJourneys:
    folder: Path
    key: str
    meta: dict[str, Any]
    settings: JourneySettings  # the stages and touchpoint map it was built with

    def path(self, part: str) -> Path:
        """One of `PARTS`' files."""
        return self.folder / f"{PREFIX}-{self.key}.{part}.parquet"

    @property
    def steps_path(self) -> Path:
        return self.path("steps")


def _versions(
    warehouse: Warehouse, settings: JourneySettings, at: builds.Pins | None = None
) -> tuple[str, dict[str, int | None]] | None:
    versions = builds.versions_of(warehouse, SOURCE_DATASETS, at)
    if all(v is None for v in versions.values()):
        return None
    return builds.key_of(versions, _suffix(settings)), versions


def _suffix(settings: JourneySettings) -> str:
    return f"{settings.key()}-j{LAYOUT}"


def current(
    warehouse: Warehouse,
    settings: JourneySettings | None = None,
    *,
    at: builds.Pins | None = None,
) -> StoredJourneys | None:
    """The journeys of the current data (or of the versions pinned `at`; with `settings`,
    or the warehouse's own), or None when they are not built (yet)."""
    settings = settings or load_settings(warehouse.root)
    folder = warehouse.root / FOLDER
    found = builds.complete(folder, PREFIX, _versions(warehouse, settings, at))
    return None if found is None else StoredJourneys(folder, *found, settings)


def earlier(
    warehouse: Warehouse,
    settings: JourneySettings | None = None,
    *,
    like: builds.Pins | None = None,
) -> StoredJourneys | None:
    """The latest journeys with these settings (or the warehouse's own) of data the current
    data only appends to (`builds.earlier`, with `like`): what the pages show, saying so,
    while `current` is being built."""
    settings = settings or load_settings(warehouse.root)
    folder = warehouse.root / FOLDER
    found = builds.earlier(warehouse, folder, PREFIX, _suffix(settings), like)
    return None if found is None else StoredJourneys(folder, *found, settings)


def pending(warehouse: Warehouse, settings: JourneySettings | None = None) -> bool:
    """Whether the current data has something to journey through but no build yet."""
    settings = settings or load_settings(warehouse.root)
    return _versions(warehouse, settings) is not None and current(warehouse, settings) is None


def change_settings(
    warehouse: Warehouse, settings: JourneySettings, user: str, what: dict[str, object]
) -> bool:
    """Keep `settings` as the warehouse's journey settings, audited with `what` changed;
    whether they differ from the ones before (the journeys are then rebuilt: `refresh`)."""
    before = load_settings(warehouse.root)
    return builds.change_settings(
        warehouse.root, SETTINGS_NAME, settings.as_json(), user, what, before=before.as_json()
    )


def refresh(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    settings: JourneySettings | None = None,
    at: builds.Pins | None = None,
) -> float | None:
    """Build the journeys of the current data (or of the versions pinned `at`; with
    `settings`, or the warehouse's own) if they are missing; seconds taken, or None when
    there was nothing to build. Safe to call from several processes at once."""
    settings = settings or load_settings(warehouse.root)
    folder = warehouse.root / FOLDER
    base = (gateway or QueryGateway(warehouse, threads=2)).scoped(FULL_ACCESS)

    def make(key: str, versions: dict[str, int | None]) -> None:
        started = time.perf_counter()
        previous = builds.latest(folder, PREFIX)

        pinned = base.at_versions(versions)
        keys = folder / f"{PREFIX}-{key}.customers.parquet"
        target = folder / f"{PREFIX}-{key}.steps.parquet"
        before = update.earlier_build(
            warehouse, previous, PREFIX, folder, versions, settings, _suffix(settings)
        )
        if before is not None:  # only appended to: the touched customers made again
            held, parts = update.update(pinned, warehouse, settings, before, keys, target)
        else:
            write_customer_keys(pinned, warehouse, keys)
            held, parts = _built(pinned, warehouse, settings, keys, target)
        parts["touchpoints"] = _touchpoints(pinned, folder, versions, previous)
        for part, frame in parts.items():
            builds.write_parquet(frame, folder / f"{PREFIX}-{key}.{part}.parquet")
        meta = {
            "versions": versions,
            "stages": list(settings.stages),
            "settings": settings.key(),
            "steps": held.steps,
            "customers": held.customers,
            "first": held.first,
            "last": held.last,
            "ranges": totals.as_json(held.ranges()),
            "updated_from": None if before is None else before.meta["versions"],
            "seconds": round(time.perf_counter() - started, 2),
        }
        builds.write_json(meta, folder / f"{PREFIX}-{key}.json")

    return builds.build_once(folder, PREFIX, lambda: _versions(warehouse, settings, at), make, KEEP)


def _built(
    pinned: QueryGateway,
    warehouse: Warehouse,
    settings: JourneySettings,
    keys: Path,
    target: Path,
) -> tuple[update.Summary, dict[str, pl.DataFrame]]:
    """Write every customer's steps to the Parquet folder `target` a batch of customers at a
    time, a part per batch (`steps_in_batches`: a few million steps in memory at once,
    whatever the size of the data), each batch's per-customer parts and its tally of the
    views of everyone (`totals.tally`, for the ranges its steps hold) made as it comes; what
    the steps hold and every part (but the touchpoints' counts). No step is read twice."""
    scratch = target.with_name(f".{target.stem}.{os.getpid()}.batches")
    batches = steps_in_batches(pinned, warehouse, settings, keys, scratch)
    everyone = totals.everyone(pl.read_parquet(keys))
    pieces: dict[str, list[pl.DataFrame]] = {part: [] for part in PER_CUSTOMER}
    held: list[update.Summary] = []
    tallies: list[totals.Tally] = []
    with builds.parquet_parts(target) as written:
        for steps in batches:
            written.write(steps)
            held.append(update.summary(steps.lazy()))
            made = customer_parts(steps, settings)
            for part, frame in made.items():
                pieces[part].append(frame)
            placed = made["reach"], made["touched"], made["reactions"]
            ranges = held[-1].ranges()  # this batch's: a quarter it misses holds none of its steps
            tallies.append(
                totals.tally(steps, *placed, _theirs(everyone, steps), settings.stages, ranges)
            )
            del steps, made
    parts = {p: pl.concat(frames) for p, frames in pieces.items() if p != "positions"}
    parts["positions"] = joined_positions(pieces.pop("positions"))
    summary = update.Summary.of_all(held)
    tables = totals.tables(tallies, everyone, settings.stages, summary.ranges())
    return summary, parts | tables


def _theirs(everyone: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """The rows of `everyone` (the group of every customer) of the customers of `steps` and
    those between them: what a batch's tally narrows to, instead of checking every
    customer's key again for each count."""
    keys = steps.get_column("customer_id")
    low, high = keys.min(), keys.max()
    if low is None:
        return everyone.clear()
    return everyone.filter(pl.col("customer_id").is_between(low, high))


def _touchpoints(
    gateway: QueryGateway,
    folder: Path,
    versions: dict[str, int | None],
    previous: tuple[str, dict[str, Any]] | None,
) -> pl.DataFrame:
    """The touchpoints' counts (`touchpoint_counts`): the previous build's when it read the
    same events (a load of orders, answers or tickets leaves them as they were), else
    counted."""
    if previous is not None and previous[1].get("versions", {}).get("events") == versions["events"]:
        try:
            return pl.read_parquet(folder / f"{PREFIX}-{previous[0]}.touchpoints.parquet")
        except OSError:  # removed meanwhile: count them
            pass
    return touchpoint_counts(gateway)
