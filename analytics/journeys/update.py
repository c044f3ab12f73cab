"""The journeys of data that only appends rows to an earlier build's, made from that build: the
steps and parts of the customers the appended rows name are made again, every other
customer's are kept.

Every part but the views of everyone is per customer, and a customer's steps depend on their
own rows alone (`steps.merge_steps`): the customers the appended files name (`touched`) are
the only ones whose steps can change. Their steps are merged from all their rows, as a full
build merges them, and take the place of their earlier ones; so do their `reach`,
`touched`, `reactions` and `positions` rows. The earlier steps are cut, a part at a time,
where the touched customers' steps were or go and written once, not sorted again; a part
none of them falls in is linked as it is (`_write_merged`). Customers new to the journeys
get keys in id order with the others (`write_customer_keys`), and the earlier customers'
keys move up past them: keys keep the id order, so the kept steps stay sorted.

The views of everyone (`totals`) of all dates are counted again from the parts; those of a
quarter that ended before the first appended row are kept: a step depends only on its
customer's steps up to its own day (the stage they were in, the same day's events), so no
step of that quarter changed. The touchpoints' counts are counted again when events were
appended. A quarter whose steps changed, or that the earlier build did not hold, is counted
from the steps as a full build counts it.

`tests/analytics/journeys/test_journeys_update.py` checks over random sequences of appends,
replaces and rollbacks of every source that each part equals a full build's, and that a
full build in batches of any size equals one in one batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analytics import builds
from analytics.contract import DATASETS
from analytics.journeys import totals
from analytics.journeys.parts import PER_CUSTOMER, enum_names, placed_parts, recast
from analytics.journeys.paths import OTHER, positions, sequences, touchpoint_names
from analytics.journeys.stages import JourneySettings
from analytics.journeys.steps import (
    SOURCE_DATASETS,
    customer_ids_sql,
    read_steps,
    write_customer_keys,
)
from analytics.warehouse import QueryGateway, Warehouse


@dataclass(frozen=True)
class Earlier:
    """The build an update starts from: where its parts are, its metadata, and the files
    appended since, by dataset."""

    folder: Path
    stem: str  # "<prefix>-<key>"
    meta: dict[str, Any]
    appended: dict[str, tuple[str, ...]]

    def path(self, part: str) -> Path:
        return self.folder / f"{self.stem}.{part}.parquet"


def earlier_build(
    warehouse: Warehouse,
    previous: tuple[str, dict[str, Any]] | None,
    prefix: str,
    folder: Path,
    versions: dict[str, int | None],
    settings: JourneySettings,
    suffix: str,
) -> Earlier | None:
    """The `previous` build when the data of `versions` only appends rows to its data and it
    was made with these settings and layout (`suffix`) with every part still there; else
    None (a full build)."""
    if previous is None or not previous[0].endswith(suffix):
        return None
    key, meta = previous
    if meta.get("settings") != settings.key() or meta.get("stages") != list(settings.stages):
        return None
    appended: dict[str, tuple[str, ...]] = {}
    for name in SOURCE_DATASETS:
        since, until = meta.get("versions", {}).get(name), versions.get(name)
        if since == until:
            continue
        files = None if since is None or until is None else warehouse.appended(name, since, until)
        if files is None:
            return None
        appended[name] = files
    found = Earlier(folder, f"{prefix}-{key}", meta, appended)
    parts = ("steps", "customers", *PER_CUSTOMER, *totals.TABLES, "touchpoints")
    if not appended or not all(found.path(part).exists() for part in parts):
        return None
    return found


def update(
    pinned: QueryGateway,
    warehouse: Warehouse,
    settings: JourneySettings,
    earlier: Earlier,
    keys: Path,
    target: Path,
) -> tuple[Summary, dict[str, pl.DataFrame]]:
    """Write the steps of the data `pinned` reads, made from `earlier`, to `target` (and the
    customers' keys to `keys`); what they hold and the parts (but the touchpoints' counts)."""
    appended = pinned.reading(earlier.appended)
    before = pl.read_parquet(earlier.path("customers"))
    write_customer_keys(
        appended, warehouse, keys, names=list(earlier.appended), also=earlier.path("customers")
    )
    now = pl.read_parquet(keys)
    moved = _moved_keys(before, now)
    touched = _touched(appended, list(earlier.appended), now)
    touched_keys = touched.get_column("key")
    # The touched customers' steps, from all their rows (a keys file of them alone).
    only = keys.with_name(f".{keys.stem}.touched.{os.getpid()}.parquet")
    try:
        touched.write_parquet(only)
        fresh = read_steps(pinned, warehouse, settings, keys=only)
    finally:
        only.unlink(missing_ok=True)
    _write_merged(earlier.path("steps"), moved, touched_keys.to_numpy(), fresh, target)
    steps = pl.scan_parquet(target)
    paths = sequences(fresh, settings.purchase_stage)
    parts = {
        part: _spliced(pl.read_parquet(earlier.path(part)), moved, touched_keys, new)
        for part, new in placed_parts(fresh, settings).items()
    }
    parts["positions"] = _positions(earlier, paths, moved, touched_keys, steps, settings)
    held = summary(steps)
    first = _first_day(appended, list(earlier.appended))
    parts |= _totals(earlier, steps, parts, totals.everyone(now), settings, held.ranges(), first)
    return held, parts


@dataclass(frozen=True)
class Summary:
    """What a build's steps hold: how many, of how many customers, from when to when."""

    steps: int
    customers: int
    first: datetime | None
    last: datetime | None

    @classmethod
    def of_all(cls, parts: list[Summary]) -> Summary:
        """What the steps of several sets of customers (no two sharing one) hold together."""
        firsts = [p.first for p in parts if p.first is not None]
        lasts = [p.last for p in parts if p.last is not None]
        return cls(
            sum(p.steps for p in parts),
            sum(p.customers for p in parts),
            min(firsts, default=None),
            max(lasts, default=None),
        )

    def ranges(self) -> list[totals.Range]:
        """The date ranges a build of these steps holds (`totals.held_ranges`)."""
        return totals.held_ranges(
            None if self.first is None else self.first.date(),
            None if self.last is None else self.last.date(),
        )


def summary(steps: pl.LazyFrame) -> Summary:
    """`Summary` of `steps`."""
    row = steps.select(
        pl.len(),
        pl.col("customer_id").n_unique(),
        pl.col("at").min().alias("first"),
        pl.col("at").max().alias("last"),
    ).collect()
    return Summary(*row.row(0))


def _write_merged(
    source: Path, moved: np.ndarray | None, touched: np.ndarray, fresh: pl.DataFrame, target: Path
) -> None:
    """Write the steps of the Parquet folder `source` (parts of whole customers, in customer
    order; keys moved by `moved`) but those of the `touched` customers, and the `fresh`
    steps (theirs) in customer order among them, to the Parquet folder `target`, a part for
    each of `source`'s: a touched customer's steps go in the part that holds (or would
    hold) their key. A part is read, cut where the touched customers' steps were or go and
    written, not sorted again; one no touched customer falls in, with keys that stayed, is
    linked as it is. One part in memory at a time, with the fresh steps."""
    fresh = fresh.sort("customer_id", maintain_order=True)
    later = fresh.get_column("customer_id").to_numpy()
    touched = np.sort(touched)
    parts = builds.parts_of(source)
    with builds.parquet_parts(target) as written:
        below = -1  # the keys of the parts before this one are at most `below`
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            if moved is None and not last:  # the part's last key, from its column alone
                top = pl.scan_parquet(part).select(pl.col("customer_id").max()).collect().item()
                if top is None or not ((touched > below) & (touched <= top)).any():
                    written.link(part)
                    below = below if top is None else top
                    continue
            steps = _rekeyed(pl.read_parquet(part), moved)
            keys = steps.get_column("customer_id").to_numpy()
            if keys.size == 0 and not last:  # customers without steps
                written.write(steps)
                continue
            top = np.iinfo(np.int64).max if last else int(keys[-1])
            inside = touched[(touched > below) & (touched <= top)]
            written.write(_cut_in(steps, keys, inside, fresh, later))
            below = top
        if not parts:
            written.write(fresh)


def _cut_in(
    steps: pl.DataFrame,
    keys: np.ndarray,
    touched: np.ndarray,
    fresh: pl.DataFrame,
    later: np.ndarray,
) -> pl.DataFrame:
    """`steps` (whose customers are `keys`, sorted) without the `touched` customers' (sorted),
    with theirs of `fresh` (whose customers are `later`, sorted) in their place."""
    low, high = np.searchsorted(keys, touched, "left"), np.searchsorted(keys, touched, "right")
    first, end = np.searchsorted(later, touched, "left"), np.searchsorted(later, touched, "right")
    pieces, start = [], 0
    for cut, resume, begin, stop in zip(low, high, first, end, strict=True):
        pieces += [steps.slice(start, cut - start), fresh.slice(begin, stop - begin)]
        start = resume
    pieces.append(steps.slice(start))
    return pl.concat(pieces)


def _moved_keys(before: pl.DataFrame, now: pl.DataFrame) -> np.ndarray | None:
    """Each earlier key's key now (indexed by the earlier key), or None when no customer
    came in between (the keys stayed)."""
    if now.height == before.height:
        return None
    joined = before.join(now, on="customer_id", how="left", suffix="_now").sort("key")
    return joined.get_column("key_now").to_numpy()


def _rekeyed(frame: pl.DataFrame, moved: np.ndarray | None) -> pl.DataFrame:
    """`frame` with its customer keys as they are now."""
    if moved is None:
        return frame
    keys = moved[frame.get_column("customer_id").to_numpy()]
    return frame.with_columns(pl.Series("customer_id", keys, dtype=pl.UInt32))


def _touched(appended: QueryGateway, names: list[str], now: pl.DataFrame) -> pl.DataFrame:
    """The customers the appended files (of datasets `names`) name: customer_id, key."""
    named = appended.query(customer_ids_sql(appended.warehouse, names))
    return now.join(named, on="customer_id", how="semi").sort("key")


def _spliced(
    part: pl.DataFrame, moved: np.ndarray | None, touched: pl.Series, fresh: pl.DataFrame
) -> pl.DataFrame:
    """`part` with the touched customers' rows in place of their earlier ones."""
    kept = _rekeyed(part, moved).filter(~pl.col("customer_id").is_in(touched.implode()))
    return pl.concat([kept, fresh.select(kept.columns).cast(kept.schema)])


def _positions(
    earlier: Earlier,
    paths: pl.DataFrame,
    moved: np.ndarray | None,
    touched: pl.Series,
    steps: pl.LazyFrame,
    settings: JourneySettings,
) -> pl.DataFrame:
    """The positions: the earlier ones with the touched customers' in place, in customer
    order. Their touchpoints are an enum of every touchpoint the positions hold: one the
    touched customers' paths bring joins it, and one only their earlier paths held leaves
    it."""
    part = _rekeyed(pl.read_parquet(earlier.path("positions")), moved)
    before = enum_names(part)
    if not before:  # no positions: made from every step
        return positions(sequences(steps.collect(), settings.purchase_stage))
    names = sorted(set(before) | touchpoint_names(paths))
    fresh = positions(paths, names=names)
    chosen = pl.col("customer_id").is_in(touched.implode())
    gone = _used(part.filter(chosen))
    kept = recast(part.filter(~chosen), names)
    spliced = pl.concat([kept, fresh.select(kept.columns)]).sort("customer_id", maintain_order=True)
    if gone <= _used(fresh):
        return spliced
    return recast(spliced, sorted(_used(spliced)))


def _used(frame: pl.DataFrame) -> set[str]:
    """The touchpoints `frame`'s positions hold, and "Other" (as `touchpoint_names`)."""
    columns = [c for c, t in frame.schema.items() if isinstance(t, pl.Enum)]
    found = {OTHER}
    for column in columns:
        found.update(frame.get_column(column).drop_nulls().unique().cast(pl.String).to_list())
    return found


def _first_day(appended: QueryGateway, names: list[str]) -> date | None:
    """The first day of any appended row (of datasets `names`; None: no row has a day)."""
    firsts = appended.query(
        "SELECT min(d) FROM ("
        + " UNION ALL ".join(
            f"SELECT CAST(min({DATASETS[name].time_column}) AS DATE) AS d FROM {name}"
            for name in names
        )
        + ")"
    )
    first: date | None = firsts.item()
    return first


def _totals(
    earlier: Earlier,
    steps: pl.LazyFrame,
    parts: dict[str, pl.DataFrame],
    everyone: pl.DataFrame,
    settings: JourneySettings,
    ranges: list[totals.Range],
    first: date | None,
) -> dict[str, pl.DataFrame]:
    """The views of everyone for `ranges`: a quarter's earlier ones when it ended before
    `first` (the first appended day) and the earlier build held it, the others counted."""
    held = earlier.meta.get("ranges", [])
    before = {part: pl.read_parquet(earlier.path(part)) for part in totals.TABLES}
    kept = [
        (start, end)
        for start, end in ranges
        if end is not None and (first is None or end < first) and totals.holds(held, start, end)
    ]
    counting = [r for r in ranges if r not in kept]
    placed = parts["reach"], parts["touched"], parts["reactions"]
    tally = totals.tally(steps, *placed, everyone, settings.stages, counting)
    counted = totals.tables([tally], everyone, settings.stages, counting)
    out = {}
    for part in totals.TABLES:
        old = [
            totals.pick(before[part], start, end).select(
                pl.lit(start, pl.Date).alias("start"), pl.lit(end, pl.Date).alias("end"), pl.all()
            )
            for start, end in kept
        ]
        table = pl.concat([*old, counted[part]]) if old else counted[part]
        out[part] = table.sort("start", "end", nulls_last=False, maintain_order=True)
    return out
