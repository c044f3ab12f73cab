"""One customer's records without reading every row: a copy of each record dataset's version,
sorted by customer.

The datasets' files are in load order, so the rows of one customer are spread over all of
them, and Customer 360's `WHERE customer_id = $id` reads the whole `customer_id` column of
10M orders and 20M events (about 1 s). This derived table holds the same rows sorted by
`customer_id` in small row groups: the files' statistics then skip every row group but the
one or two holding the customer.

The copy is exact. It has the version's own columns and rows, and within one customer the
rows keep the version's order (file by file, row by row), so even order-sensitive answers
(a sum of floats, the latest response of two at the same moment) are the same bits.
Readers go through the gateway (`QueryGateway.reading`), so access limits and masks apply as
on the version's files. A version without its copy (just loaded, or pinned in the past) is
read from its files.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse, file_lock

FOLDER = "_by_customer"
DATASETS = ("orders", "surveys", "tickets", "events")
KEEP = 2  # copies kept per dataset: the current one and the one before it (rollbacks)
ROW_GROUP_ROWS = 16_384
# The copies' layout, part of their names: raise it with any change to what they hold.
LAYOUT = 1


def copy_path(warehouse: Warehouse, name: str, version: int) -> Path:
    """Where the copy of `version` of dataset `name` is: named after the version's files
    (their names, unique to each load), so that a warehouse loaded again from scratch never
    reads the copy of another."""
    files = "\n".join(file.rsplit("/", 1)[-1] for file in warehouse.files(name, version))
    digest = hashlib.sha256(files.encode()).hexdigest()[:12]
    return warehouse.root / FOLDER / f"{name}-{version}-{digest}-l{LAYOUT}.parquet"


def files_for(gateway: QueryGateway) -> dict[str, tuple[str, ...]]:
    """The copies there are of the dataset versions `gateway` reads, by dataset."""
    versions = gateway.versions()
    found: dict[str, tuple[str, ...]] = {}
    for name in DATASETS:
        version = versions.get(name)
        if version is None:
            continue
        path = copy_path(gateway.warehouse, name, version)
        if path.exists():
            found[name] = (str(path),)
    return found


def pending(warehouse: Warehouse) -> bool:
    return any(
        (version := warehouse.version(name)) is not None
        and not copy_path(warehouse, name, version).exists()
        for name in DATASETS
    )


def refresh(warehouse: Warehouse, gateway: QueryGateway | None = None) -> dict[str, float]:
    """Build the copies missing for the current versions; seconds taken per dataset. Safe
    across threads and processes (one builds, the others then find the copy there)."""
    folder = warehouse.root / FOLDER
    folder.mkdir(exist_ok=True)
    base = (gateway or QueryGateway(warehouse)).scoped(FULL_ACCESS)
    built: dict[str, float] = {}
    with file_lock(folder / ".build.lock"):
        for name in DATASETS:
            version = warehouse.version(name)
            if version is None:
                continue
            target = copy_path(warehouse, name, version)
            if target.exists():
                continue
            if not warehouse.files(name, version):
                continue  # no rows: nothing to skip
            started = time.perf_counter()
            _write_copy(base, name, version, target)
            built[f"{name} by customer"] = time.perf_counter() - started
            _prune(folder, name)
    return built


def _write_copy(gateway: QueryGateway, name: str, version: int, target: Path) -> None:
    warehouse = gateway.warehouse
    files = warehouse.files(name, version)
    if not files:
        return
    columns = ", ".join(f'"{c}"' for c in warehouse.columns(name, version))
    # Each file's rows numbered in place: the sort keeps the version's order within a customer.
    numbered = " UNION ALL BY NAME ".join(
        f"SELECT *, {index} AS tp_file FROM read_parquet($f{index}, file_row_number = true)"
        for index in range(len(files))
    )
    sql = (
        f"SELECT {columns} FROM ({numbered}) "
        "ORDER BY customer_id NULLS LAST, tp_file, file_row_number"
    )
    partial = target.with_name(f".{target.stem}.{os.getpid()}.parquet")
    try:
        with gateway.workspace() as work:
            work.write_parquet(
                sql,
                partial,
                {f"f{i}": file for i, file in enumerate(files)},
                row_group_size=ROW_GROUP_ROWS,
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _prune(folder: Path, name: str) -> None:
    copies = sorted(folder.glob(f"{name}-*.parquet"), key=lambda p: p.stat().st_mtime)
    for old in copies[:-KEEP]:
        old.unlink(missing_ok=True)
