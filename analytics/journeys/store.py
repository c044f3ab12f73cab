"""Journeys per data version: every customer's steps, built once after a load and stored as a
derived table, read by every page and command.

`refresh` merges, for the current versions of events, orders, surveys and tickets, every
customer's steps (`steps.merge_steps`) into `_journeys/journeys-<key>.steps.parquet`, sorted
by customer and time, with `journeys-<key>.json` (written last) holding the versions, the
stage settings and how long the build took. A build is named by the dataset versions, the
journey settings and `LAYOUT`; builds are serialised across processes by a file lock and
the latest `KEEP` stay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics import builds
from analytics.journeys.stages import DEFAULT_SETTINGS, JourneySettings
from analytics.journeys.steps import SOURCE_DATASETS, read_steps
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse, file_lock

FOLDER = "_journeys"
PREFIX = "journeys"
KEEP = 3
LAYOUT = 1  # raise with any change to what a build holds


@dataclass(frozen=True)
class StoredJourneys:
    folder: Path
    key: str
    meta: dict[str, Any]

    @property
    def steps_path(self) -> Path:
        return self.folder / f"{PREFIX}-{self.key}.steps.parquet"


def _versions(
    warehouse: Warehouse, settings: JourneySettings
) -> tuple[str, dict[str, int | None]] | None:
    versions = {name: warehouse.version(name) for name in SOURCE_DATASETS}
    if all(v is None for v in versions.values()):
        return None
    named = "-".join(f"{n}{'none' if v is None else v}" for n, v in versions.items())
    return f"{named}-{settings.key()}-j{LAYOUT}", versions


def current(
    warehouse: Warehouse, settings: JourneySettings = DEFAULT_SETTINGS
) -> StoredJourneys | None:
    """The journeys of the current data, or None when they are not built (yet)."""
    named = _versions(warehouse, settings)
    if named is None:
        return None
    folder = warehouse.root / FOLDER
    meta = builds.read_meta(folder, PREFIX, named[0])
    return None if meta is None else StoredJourneys(folder, named[0], meta)


def pending(warehouse: Warehouse, settings: JourneySettings = DEFAULT_SETTINGS) -> bool:
    """Whether the current data has something to journey through but no build yet."""
    return _versions(warehouse, settings) is not None and current(warehouse, settings) is None


def refresh(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    settings: JourneySettings = DEFAULT_SETTINGS,
) -> float | None:
    """Build the journeys of the current data if they are missing; seconds taken, or None
    when there was nothing to build. Safe to call from several processes at once."""
    folder = warehouse.root / FOLDER
    folder.mkdir(exist_ok=True)
    base = (gateway or QueryGateway(warehouse, threads=2)).scoped(FULL_ACCESS)
    with file_lock(folder / ".build.lock"):
        named = _versions(warehouse, settings)
        if named is None or builds.read_meta(folder, PREFIX, named[0]) is not None:
            return None
        key, versions = named
        started = time.perf_counter()
        steps = read_steps(base.at_versions(versions), warehouse, settings)
        builds.write_parquet(steps, folder / f"{PREFIX}-{key}.steps.parquet")
        meta = {
            "versions": versions,
            "stages": list(settings.stages),
            "settings": settings.key(),
            "steps": steps.height,
            "customers": steps["customer_id"].n_unique(),
            "first": steps["at"].min(),
            "last": steps["at"].max(),
            "seconds": round(time.perf_counter() - started, 2),
        }
        builds.write_meta(meta, folder / f"{PREFIX}-{key}.json")
        builds.prune(folder, PREFIX, KEEP)
        return time.perf_counter() - started
