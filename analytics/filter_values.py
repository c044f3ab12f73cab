"""The filter menus' values per data version: a derived table, so that the sidebar of every
page does not read every row for them.

Each region, country, plan, acquisition channel, channel and product category present in
the data, as `filters.dimension_values` lists them: read once per data version after loads
(`derived.refresh_base`, with the rollups) instead of on every first open of a page. At
100M orders that read took 2.5 s of the Overview's 3.2 s. After loads that only append rows
to the datasets of an earlier table, the values are that table's and those of the appended
files (the distinct values of a union are the union of the distinct values).

The table holds what a user who sees every row is offered. A user with row limits is
offered the values of their own rows, read through the gateway as before; so is everyone
until the table of the current versions is built. The segmentation's dimensions (segment,
cluster) come from its own small table, live.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from analytics.builds import write_parquet
from analytics.filters import DIMENSIONS, values_sql
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse, file_lock

FOLDER = "_filter_values"
KEEP = 3
# The table's layout, part of its name: raise it with any change to what it holds.
LAYOUT = 1
KEYS = tuple(k for k, d in DIMENSIONS.items() if not d.derived)
# The datasets the values come from: the customers, and those carrying record dimensions.
SOURCES = (
    "customers",
    *sorted({n for k in KEYS if DIMENSIONS[k].level == "record" for n in DIMENSIONS[k].datasets}),
)


def table_path(root: Path, versions: dict[str, int | None]) -> Path:
    named = "-".join(f"{n}{'none' if v is None else v}" for n, v in sorted(versions.items()))
    return root / FOLDER / f"values-{named}-l{LAYOUT}.parquet"


def stored(gateway: QueryGateway) -> pl.DataFrame | None:
    """The datasets' dimension values (`dimension`, `value`) for the versions `gateway`
    reads, when built and when its user sees every row; else None."""
    if gateway.access.limits:
        return None
    versions = gateway.versions()
    path = table_path(gateway.warehouse.root, {n: versions.get(n) for n in SOURCES})
    try:
        return pl.read_parquet(path)
    except (FileNotFoundError, OSError):
        return None


def pending(warehouse: Warehouse) -> bool:
    versions = {name: warehouse.version(name) for name in SOURCES}
    if all(v is None for v in versions.values()):
        return False
    return not table_path(warehouse.root, versions).exists()


def refresh(warehouse: Warehouse, gateway: QueryGateway | None = None) -> dict[str, float]:
    """Build the table for the current versions when missing; seconds taken."""
    folder = warehouse.root / FOLDER
    folder.mkdir(exist_ok=True)
    base = (gateway or QueryGateway(warehouse)).scoped(FULL_ACCESS)
    with file_lock(folder / ".build.lock"):
        versions = {name: warehouse.version(name) for name in SOURCES}
        target = table_path(warehouse.root, versions)
        if target.exists() or all(v is None for v in versions.values()):
            return {}
        started = time.perf_counter()
        pinned = base.at_versions(versions)
        earlier = _appended_to(warehouse, folder, versions)
        if earlier is None:
            frame = pinned.query(values_sql(KEYS) + " ORDER BY dimension, value")
        else:
            table, appended = earlier
            frame = pinned.reading(appended).query(
                "SELECT dimension, value FROM read_parquet($table) UNION "
                f"{values_sql(KEYS, list(appended))} ORDER BY dimension, value",
                {"table": str(table)},
            )
        write_parquet(frame, target)
        tables = sorted(folder.glob("values-*.parquet"), key=lambda p: p.stat().st_mtime)
        for old in tables[:-KEEP]:
            old.unlink(missing_ok=True)
        return {"filter values": time.perf_counter() - started}


def _appended_to(
    warehouse: Warehouse, folder: Path, versions: dict[str, int | None]
) -> tuple[Path, dict[str, tuple[str, ...]]] | None:
    """An earlier table whose datasets' versions `versions` only append to, with the files
    appended since, by dataset (the latest such table); None when there is none."""
    tables = sorted(folder.glob("values-*.parquet"), key=lambda p: p.stat().st_mtime)
    for table in reversed(tables):
        before = _versions_of(table)
        if before is None or before.keys() != versions.keys():
            continue
        appended: dict[str, tuple[str, ...]] = {}
        for name, version in versions.items():
            since = before[name]
            if since == version:
                continue
            files = (
                None
                if since is None or version is None
                else warehouse.appended(name, since, version)
            )
            if files is None:
                break
            appended[name] = files
        else:
            return table, appended
    return None


def _versions_of(table: Path) -> dict[str, int | None] | None:
    """The datasets' versions a table was built from (`table_path`'s name), or None when the
    name is not one of this layout's."""
    named = table.name.removeprefix("values-").removesuffix(f"-l{LAYOUT}.parquet")
    if named == table.name or not table.name.endswith(f"-l{LAYOUT}.parquet"):
        return None
    found: dict[str, int | None] = {}
    for part in named.split("-"):
        name = next((n for n in SOURCES if part.startswith(n)), None)
        if name is None:
            return None
        version = part.removeprefix(name)
        if version == "none":
            found[name] = None
        elif version.isdigit():
            found[name] = int(version)
        else:
            return None
    return found
