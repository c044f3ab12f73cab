"""The filter menus' values per data version: a derived table, so that the sidebar of every
page does not read every row for them.

Each region, country, plan, acquisition channel, channel and product category present in
the data, as `filters.dimension_values` lists them: read once per data version after loads
(`derived.refresh_base`, with the rollups) instead of on every first open of a page. At
100M orders that read took 2.5 s of the Overview's 3.2 s.

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
        frame = base.at_versions(versions).query(values_sql(KEYS) + " ORDER BY dimension, value")
        write_parquet(frame, target)
        tables = sorted(folder.glob("values-*.parquet"), key=lambda p: p.stat().st_mtime)
        for old in tables[:-KEEP]:
            old.unlink(missing_ok=True)
        return {"filter values": time.perf_counter() - started}
