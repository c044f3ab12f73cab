"""What the rollups are: their families, files and names, and finding the current ones."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from analytics.filters import DIMENSIONS
from analytics.periods import Grain
from analytics.warehouse import Warehouse

Family = Literal["orders", "surveys", "tickets"]
FAMILIES: tuple[Family, ...] = ("orders", "surveys", "tickets")
FOLDER = "_rollups"
KEEP = 3  # rollups kept per family: the current one and the latest before it (rollbacks)
WORD = 64  # months per bitmask word
# The rollups' layout: part of every rollup's name, so that rollups written by another
# release of Touchpoint are never read (they are rebuilt, and pruned). Raise it with any
# change to what the rollups hold.
LAYOUT = 6

CUSTOMER_ATTRIBUTES: tuple[str, ...] = tuple(
    k for k, d in DIMENSIONS.items() if d.level == "customer" and not d.derived
)
# Record dimensions each family's rollups keep: every record dimension its dataset has.
RECORD_DIMENSIONS: dict[Family, tuple[str, ...]] = {
    family: tuple(k for k, d in DIMENSIONS.items() if d.level == "record" and family in d.datasets)
    for family in FAMILIES
}
# Grains whose customer counts the orders' rollup keeps per period (`counts_<grain>`), and
# those it keeps per record value too (months, quarters and years of orders narrowed by a
# record dimension come from the customers' monthly bitmasks instead).
COUNTED_GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")
COUNTED_RECORD_GRAINS: tuple[Grain, ...] = ("day", "week")
# Grains of the retention matrix the orders' rollup keeps (`cohorts_<grain>`).
COHORT_GRAINS: tuple[Grain, ...] = ("month", "quarter")


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
    # Appends brought in since the last full build (`update`): each part's delta files, by
    # the number of the update that wrote them.
    generation: int = 0
    deltas: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def path(self, part: str) -> Path:
        """The part's file as built in full (or as linked from the rollup it was updated from)."""
        return self.folder / f"{self.family}-{self.key}.{part}.parquet"

    def delta_path(self, part: str, generation: int) -> Path:
        return self.folder / f"{self.family}-{self.key}.{part}.d{generation}.parquet"

    def files(self, part: str) -> list[str]:
        """Every file of the part: the full build's and the updates' deltas. Sums add up over
        them; a per-customer part has a row per customer in each, merged when read."""
        deltas = dict(self.deltas).get(part, ())
        return [str(self.path(part))] + [str(self.delta_path(part, g)) for g in deltas]

    def has(self, *parts: str) -> bool:
        return all(self.path(part).exists() for part in parts)


def versions_key(
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


def meta_path(folder: Path, family: Family, key: str) -> Path:
    return folder / f"{family}-{key}.json"


def write_meta(target: Path, meta: Mapping[str, object]) -> None:
    """Write a rollup's record atomically, after its parts: it marks the rollup complete."""
    partial = target.with_name(f".{target.stem}.{os.getpid()}.json")
    partial.write_text(json.dumps(meta))
    os.replace(partial, target)


def current(
    warehouse: Warehouse, family: Family, at: Mapping[str, int | None] | None = None
) -> Rollup | None:
    """The family's rollup for the datasets' current versions (or the versions pinned `at`:
    a replayed review), or None when it isn't built (or no longer kept)."""
    named = versions_key(warehouse, family, at)
    if named is None:
        return None
    folder = warehouse.root / FOLDER
    try:
        meta = json.loads(meta_path(folder, family, named[0]).read_text())
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
        generation=int(meta.get("generation", 0)),
        deltas=tuple(
            (part, tuple(int(g) for g in gs)) for part, gs in meta.get("deltas", {}).items()
        ),
    )


# ----- part names -----------------------------------------------------------------------------


def named(part: str, record: str | None) -> str:
    """A per-customer part's name, for orders narrowed or grouped by `record` (or not)."""
    return part if record is None else f"{part}_{record}"


# Customer dimensions a segmentation gives (`analytics.segments`): the months sums keep them
# per segmentation, in a part named after its customers table (`segments_part`).
SEGMENTED: tuple[str, ...] = ("segment", "cluster")
SEGMENTS_PART = "_segments_"  # in the name of every part per segment
# Grains whose orders' customer counts are kept per segment (`counts_<grain>_segments_...`).
SEGMENTED_GRAINS: tuple[Grain, ...] = ("month", "quarter", "year")


def segments_part(segments: Path, part: str = "months") -> str:
    """The name of `part` per segment and cluster of the segmentation whose customers table
    is `segments`: a rollup keeps its months sums (and the orders' monthly, quarterly and
    yearly customer counts) per segmentation it was asked for."""
    return f"{part}{SEGMENTS_PART}{hashlib.sha1(segments.name.encode()).hexdigest()[:12]}"


def month_index(day: date) -> int:
    """Months since year 0: month arithmetic as integer arithmetic."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def day_index(day: date) -> int:
    """Days since 1970-01-01: the bit of `day` in the customers' day bitmasks."""
    return (day - date(1970, 1, 1)).days


def day_words(rollup: Rollup) -> tuple[int, int]:
    """The first bitmask word of the rollup's days and how many words cover them."""
    first = day_index(rollup.first_day) // WORD
    return first, day_index(rollup.last_day) // WORD - first + 1
