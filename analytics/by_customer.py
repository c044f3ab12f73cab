"""One customer's records without reading every row: a copy of each record dataset's version,
sorted by customer.

A dataset's rows are stored in the order they were loaded, so the rows of one customer are
spread over all of its files, and Customer 360's `WHERE customer_id = $id` reads the whole
`customer_id` column of 10M orders and 20M events (about 1 s). This derived table holds the
same rows sorted by `customer_id` in small row groups: the files' statistics then skip every
row group but the one or two holding the customer.

A copy is a list of runs, kept in `<dataset>-<version>-<digest>-l<LAYOUT>.json`: each run is
one Parquet file holding the rows of a stretch of the version's files (the files in the
order the version lists them, which is the order its rows are read in; the stretches one
after the other), sorted by customer. A load that appends files (or a rollback to files a
copy already covers) takes the runs of the copy whose files begin or end the version's, and
sorts only the other files into a new run: an append of 10k orders to 10M sorts 10k rows,
not 10M. When a copy would hold more than `MAX_RUNS` runs, the runs other than the largest
are sorted into one again, or all of them when those hold more than half as many rows as
the largest, so that a lookup reads a few row groups and each row is sorted again only a
few times however many appends come.

The copy is exact. It has the version's own columns and rows, and within one customer the
rows keep the version's order (file by file, row by row; the runs read one after the
other), so even order-sensitive answers (a sum of floats, the latest response of two at the
same moment) are the same bits as from the version's files, and as from a copy sorted in
one run. Readers go through the gateway (`QueryGateway.reading`), so access limits and masks
apply as on the version's files. A version without its copy (just loaded, or pinned in the
past) is read from its files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse, file_lock

FOLDER = "_by_customer"
DATASETS = ("orders", "surveys", "tickets", "events")
KEEP = 2  # copies kept per dataset: the current one and the one before it (rollbacks)
ROW_GROUP_ROWS = 16_384
MAX_RUNS = 8  # runs a copy holds at most
# The copies' layout, part of their names: raise it with any change to what they hold.
LAYOUT = 2


@dataclass(frozen=True)
class Run:
    """One sorted file of a copy: `sources`, the names of the version's files whose rows it
    holds (in the version's order), and how many rows they are."""

    file: str  # its name in the folder
    sources: tuple[str, ...]
    rows: int

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "sources": list(self.sources), "rows": self.rows}


def copy_path(warehouse: Warehouse, name: str, version: int) -> Path:
    """Where the copy of `version` of dataset `name` is listed: named after the version's
    files (their names, unique to each load), so that a warehouse loaded again from scratch
    never reads the copy of another."""
    digest = _digest(_names(warehouse.files(name, version)))
    return warehouse.root / FOLDER / f"{name}-{version}-{digest}-l{LAYOUT}.json"


def files_for(gateway: QueryGateway) -> dict[str, tuple[str, ...]]:
    """The copies there are of the dataset versions `gateway` reads, by dataset: their runs'
    files, in order."""
    versions = gateway.versions()
    folder = gateway.warehouse.root / FOLDER
    found: dict[str, tuple[str, ...]] = {}
    for name in DATASETS:
        version = versions.get(name)
        if version is None:
            continue
        runs = _runs(copy_path(gateway.warehouse, name, version))
        if runs is not None:
            found[name] = tuple(str(folder / run.file) for run in runs)
    return found


def pending(warehouse: Warehouse) -> bool:
    return any(
        (version := warehouse.version(name)) is not None
        and bool(warehouse.files(name, version))
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
            files = warehouse.files(name, version)
            if not files:
                continue  # no rows: nothing to skip
            started = time.perf_counter()
            at = base.at_versions({name: version})
            runs = _compacted(at, name, folder, files, _extended(at, name, folder, files))
            _write_json(
                {"dataset": name, "version": version, "columns": _columns(at, name),
                 "runs": [run.as_json() for run in runs]},
                target,
            )  # fmt: skip
            built[f"{name} by customer"] = time.perf_counter() - started
            _prune(folder, name)
    return built


def _extended(gateway: QueryGateway, name: str, folder: Path, files: Sequence[str]) -> list[Run]:
    """The runs of the kept copy (with the version's columns) whose files begin or end
    `files` (the version's that `gateway` reads), covering the most of them, with a new run
    of the files it does not cover (before or after its runs, as they come in `files`); one
    run of every file when no copy begins or ends them."""
    names = _names(files)
    columns = _columns(gateway, name)
    kept: list[Run] = []
    ahead = False  # whether the files not covered come first
    for listed in folder.glob(f"{name}-*-l{LAYOUT}.json"):
        runs = _runs(listed, columns)
        if runs is None or not all((folder / run.file).exists() for run in runs):
            continue
        covered = tuple(source for run in runs for source in run.sources)
        if len(covered) <= sum(len(run.sources) for run in kept) or len(covered) > len(names):
            continue
        if covered == names[: len(covered)]:
            kept, ahead = runs, False
        elif covered == names[len(names) - len(covered) :]:
            kept, ahead = runs, True
    count = sum(len(run.sources) for run in kept)
    if count == len(names):
        return kept
    if ahead:
        return [_write_run(gateway, name, folder, files[: len(files) - count]), *kept]
    return [*kept, _write_run(gateway, name, folder, files[count:])]


def _compacted(
    gateway: QueryGateway, name: str, folder: Path, files: Sequence[str], runs: list[Run]
) -> list[Run]:
    """`runs`, or when they are more than `MAX_RUNS`, the others than the largest sorted into
    one (every run, when those hold more than half as many rows as the largest, or do not
    come one after the other in `files`)."""
    if len(runs) <= MAX_RUNS:
        return runs
    largest = max(range(len(runs)), key=lambda i: runs[i].rows)
    others = runs[:largest] + runs[largest + 1 :]
    if largest not in (0, len(runs) - 1) or 2 * sum(r.rows for r in others) > runs[largest].rows:
        return [_write_run(gateway, name, folder, files)]
    by_name = dict(zip(_names(files), files, strict=True))
    merged = _write_run(gateway, name, folder, [by_name[s] for r in others for s in r.sources])
    return [runs[0], merged] if largest == 0 else [merged, runs[-1]]


def _write_run(gateway: QueryGateway, name: str, folder: Path, files: Sequence[str]) -> Run:
    """Sort the rows of `files` (some of the files of the version `gateway` reads, in its
    order) by customer into a run; the run of the same files is written once."""
    sources, names = _names(files), _columns(gateway, name)
    # Named by its files and columns (a dataset's columns can grow): written once.
    target = folder / f"{name}-run-{_digest([*sources, '', *names])}-l{LAYOUT}.parquet"
    columns = ", ".join(f'"{c}"' for c in names)
    # Each file's rows numbered in place: the sort keeps the version's order within a customer.
    numbered = " UNION ALL BY NAME ".join(
        f"SELECT *, {index} AS tp_file FROM read_parquet($f{index}, file_row_number = true)"
        for index in range(len(files))
    )
    sql = (
        f"SELECT {columns} FROM ({numbered}) "
        "ORDER BY customer_id NULLS LAST, tp_file, file_row_number"
    )
    if not target.exists():
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
    import polars as pl  # only builds count rows; readers need no Polars here

    rows = pl.scan_parquet(target).select(pl.len()).collect().item()
    return Run(target.name, sources, int(rows))


def _runs(listed: Path, columns: list[str] | None = None) -> list[Run] | None:
    """The runs a copy lists (with `columns`: only when the copy has those columns), or None
    when it is not there (or unreadable)."""
    try:
        meta = json.loads(listed.read_text())
    except (OSError, ValueError):
        return None
    if columns is not None and meta.get("columns") != columns:
        return None
    return [Run(r["file"], tuple(r["sources"]), int(r["rows"])) for r in meta["runs"]]


def _columns(gateway: QueryGateway, name: str) -> list[str]:
    """The columns of the version of dataset `name` that `gateway` reads."""
    version = gateway.versions()[name]
    assert version is not None
    return list(gateway.warehouse.columns(name, version))


def _names(files: Sequence[str]) -> tuple[str, ...]:
    return tuple(file.rsplit("/", 1)[-1] for file in files)


def _digest(names: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]


def _write_json(meta: dict[str, Any], target: Path) -> None:
    """Write a copy's list atomically: the copy is there once it is."""
    partial = target.with_name(f".{target.stem}.{os.getpid()}.json")
    partial.write_text(json.dumps(meta, indent=1))
    os.replace(partial, target)


def _prune(folder: Path, name: str) -> None:
    """Keep the latest `KEEP` copies of dataset `name`, and only the runs they list."""
    copies = sorted(folder.glob(f"{name}-*.json"), key=lambda p: p.stat().st_mtime)
    for old in copies[:-KEEP]:
        old.unlink(missing_ok=True)
    listed = {run.file for copy in copies[-KEEP:] for run in _runs(copy) or []}
    for run in folder.glob(f"{name}-*.parquet"):
        if run.name not in listed:
            run.unlink(missing_ok=True)
