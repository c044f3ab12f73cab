"""The warehouse: versioned Delta tables on disk, and the one SQL gateway that reads them.

Every load is one Delta commit (atomic, versioned, safe across processes); rollback is a
restore committed as a new version. Queries run in an in-process DuckDB database whose
connection is locked down (no extensions, no file access outside the warehouse, configuration
locked) and whose every query runs on its own cursor (DuckDB 2.0 refuses concurrent use of one
connection). Values are always bound parameters; table names are the contract's constants.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import importlib.util
import json
import math
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import duckdb
import polars as pl
from deltalake import CommitProperties, DeltaTable, Schema, write_deltalake
from deltalake.exceptions import DeltaError
from deltalake.transaction import AddAction, create_table_with_add_actions

from analytics import audit
from analytics.contract import DATASETS, dataset
from analytics.errors import ConfigError, WarehouseError
from analytics.storage import Store, check_location, default_local_dir, is_object_store

if TYPE_CHECKING:  # PyArrow loads only where a load needs it: reading starts without it
    import pyarrow.parquet as pq

LoadMode = Literal["append", "replace"]

_LOG_NAME = re.compile(r"^(\d{20})\.json$")
# Compact once a table has more than this many data files; checkpoint every N versions.
_COMPACT_ABOVE_FILES = 16
_CHECKPOINT_EVERY = 10
_META_PREFIX = "touchpoint."
# Data files of one load hold at most this many rows each (a 10M-row load is 2 files).
_ROWS_PER_FILE = 5_000_000
_COMPRESSION: Literal["snappy"] = "snappy"
# Table features this module's own writer honours; a table needing any other falls back to
# `write_deltalake`.
_OWN_WRITER_FEATURES = frozenset({"timestampNtz"})

# What DuckDB writes is read back by the same version: derived files record it.
DUCKDB_VERSION = duckdb.__version__


@dataclass(frozen=True)
class LoadRecord:
    """What the history shows for one version of one dataset."""

    dataset: str
    version: int
    when: datetime
    action: str
    mode: str
    source_file: str
    sha256: str
    rows_read: int | None
    rows_loaded: int | None
    rows_rejected: int | None
    mapping: str
    user: str
    note: str


class Warehouse:
    """Delta tables, one per dataset, in a folder or on an object store; plus a local folder
    (`root`) with `_mappings/`, `_quarantine/`, locks and the derived tables.

    Parameters
    ----------
    root : Path or str
        The warehouse folder, created when missing; or an object-store URI (`s3://`, `gs://`,
        `abfss://`, see `analytics.storage`) holding the tables.
    rollback_days : int
        How long replaced files are kept so that any version of that age can be restored.
    local_dir : Path, optional
        The local folder of an object-store warehouse (`storage.default_local_dir` when not
        given). A local warehouse is its own.
    """

    def __init__(
        self, root: Path | str, *, rollback_days: int = 30, local_dir: Path | None = None
    ) -> None:
        if is_object_store(root):
            self.location = check_location(str(root))
            self.root = Path(local_dir or default_local_dir(self.location)).resolve()
        else:
            self.root = Path(root).resolve()
            self.location = str(self.root)
        self.store = Store(self.location)
        self.rollback_days = rollback_days
        self.root.mkdir(parents=True, exist_ok=True)

    # ----- paths and versions -------------------------------------------------------------

    def table_location(self, name: str) -> str:
        """Where a dataset's Delta table lives: a local path, or a URI on the object store."""
        return self.store.join(dataset(name).name)

    def table_path(self, name: str) -> Path:
        """A local warehouse's table folder."""
        if self.store.remote:
            raise WarehouseError(f"{self.location} is on an object store, not in a folder.")
        return Path(self.table_location(name))

    @property
    def mappings_dir(self) -> Path:
        return self.root / "_mappings"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "_quarantine"

    def version(self, name: str) -> int | None:
        """Latest committed version of a dataset, or None when nothing was ever loaded.

        Read from the log folder's listing (cheap enough to call on every page render).
        """
        log = self.table_location(name) + "/_delta_log"
        found = [int(m.group(1)) for n in self.store.names(log) if (m := _LOG_NAME.match(n))]
        return max(found) if found else None

    def versions(self) -> dict[str, int | None]:
        return {name: self.version(name) for name in DATASETS}

    def data_version(self) -> str:
        """One string naming the current version of every dataset: the cache key of the app."""
        return ",".join(f"{k}={'-' if v is None else v}" for k, v in self.versions().items())

    def is_empty(self) -> bool:
        return all(v is None for v in self.versions().values())

    def files(self, name: str, version: int) -> tuple[str, ...]:
        """Parquet files making up `version` of a dataset (immutable, so cached)."""
        return _table_files(self.table_location(name), version)[0]

    def columns(self, name: str, version: int) -> tuple[str, ...]:
        """Columns of `version` of a dataset, in its schema's order: what its loads have
        provided so far."""
        return _table_files(self.table_location(name), version)[1]

    def appended(self, name: str, since: int, until: int) -> tuple[str, ...] | None:
        """The data files holding the rows that version `until` of a dataset adds to version
        `since`, when every commit between only appended rows or compacted them (what
        derived tables can be brought up to date from, `analytics.rollups.update`); None when
        one replaced, restored or removed rows or changed the schema, or a file is gone.

        Read from the commits' own records in `_delta_log/` (the Delta protocol: `add` and
        `remove` actions, `dataChange` false for a compaction). The files of a load that a
        compaction rewrote stay on disk for the rollback window, so they are still there.
        """
        if not 0 <= since < until:
            return None
        folder = self.table_location(name)
        added: list[str] = []
        for version in range(since + 1, until + 1):
            try:
                log = f"{folder}/_delta_log/{version:020d}.json"
                lines = self.store.read_text(log).splitlines()
            except OSError:
                return None  # cleaned up with the log's retention: rebuild instead
            actions = [json.loads(line) for line in lines if line.strip()]
            changes = [a for a in actions if "add" in a or "remove" in a]
            if any(set(a) - {"add", "remove", "commitInfo", "txn"} for a in actions):
                return None  # a schema or protocol change
            if all(not (a.get("add") or a.get("remove"))["dataChange"] for a in changes):
                continue  # a compaction: the same rows in other files
            if any("remove" in a for a in changes):
                return None  # a replace or a restore
            added += [f"{folder}/{unquote(a['add']['path'])}" for a in changes]
        if not all(self.store.exists(file) for file in added):
            return None
        return tuple(added)

    # ----- reading --------------------------------------------------------------------------

    def read(
        self, name: str, *, columns: list[str] | None = None, version: int | None = None
    ) -> pl.DataFrame:
        """Read a dataset (or some of its columns) at a version; empty frame when never loaded."""
        current = self.version(name) if version is None else version
        if current is None:
            schema = dataset(name).schema
            if columns is not None:
                schema = {c: schema[c] for c in columns if c in schema}
            return pl.DataFrame(schema=schema)
        table = DeltaTable(self.table_location(name), version=current)
        if columns is not None:
            present = set(table.schema().to_arrow().names)
            columns = [c for c in columns if c in present]
        return pl.from_arrow(table.to_pyarrow_table(columns=columns))  # type: ignore[return-value]

    def row_count(self, name: str) -> int:
        current = self.version(name)
        if current is None:
            return 0
        table = DeltaTable(self.table_location(name), version=current)
        return int(table.count())

    # ----- writing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Serialise loads of one dataset across threads and processes.

        The duplicate-key check against loaded data and the commit must see the same version;
        an OS file lock is released by the kernel even when the loading process is killed.
        """
        lock_dir = self.root / "_locks"
        lock_dir.mkdir(exist_ok=True)
        with file_lock(lock_dir / f"{dataset(name).name}.lock"):
            yield

    def commit(
        self,
        name: str,
        frame: pl.DataFrame,
        *,
        mode: LoadMode,
        metadata: Mapping[str, object],
    ) -> int:
        """Write `frame` as one Delta commit and return the new version.

        The data files are written first and the commit record last, atomically: a process
        killed at any moment leaves the previous version intact and readable (the files it
        wrote are referenced by no commit, so no reader sees them).

        The Parquet files are written by Polars and committed with their statistics
        (`numRecords`, `minValues`, `maxValues`, `nullCount`) through Delta's transaction API;
        an append that adds columns (schema merge) or a table needing a feature this writer
        does not honour goes through `write_deltalake` instead.
        """
        path = self.table_location(name)
        meta = {_META_PREFIX + k: str(v) for k, v in metadata.items()}
        meta[_META_PREFIX + "action"] = "load"
        meta[_META_PREFIX + "mode"] = mode
        properties = CommitProperties(custom_metadata=meta)
        before = self.version(name)
        try:
            table = DeltaTable(path) if before is not None else None
            if table is not None and mode == "append":
                conformed = _conform_to_table(frame, table)
            else:
                conformed = frame
            if conformed is None or (table is not None and not _own_writer_fits(table, frame)):
                write_deltalake(
                    path,
                    frame.to_arrow(),
                    mode="overwrite" if mode == "replace" else "append",
                    schema_mode="overwrite" if mode == "replace" else "merge",
                    commit_properties=properties,
                )
            else:
                self._commit_files(name, table, conformed, mode, properties, before)
        except (DeltaError, pl.exceptions.PolarsError, OSError) as exc:
            raise WarehouseError(
                f"The load of {name} could not be committed: {exc}. Nothing was changed; try again."
            ) from exc
        version = self.version(name)
        assert version is not None
        self.maintain(name, version)
        return version

    def _commit_files(
        self,
        name: str,
        table: DeltaTable | None,
        frame: pl.DataFrame,
        mode: LoadMode,
        properties: CommitProperties,
        before: int | None,
    ) -> None:
        """Write the data files, then commit them (and only them) as one new version."""
        folder = self.table_location(name)
        self.store.make_folder(folder)
        written: list[str] = []
        committing = False
        try:
            actions = _write_data_files(self.store, folder, frame, written)
            committing = True
            if table is None:
                create_table_with_add_actions(
                    folder,
                    Schema.from_arrow(frame.head(0).to_arrow().schema),
                    actions,
                    mode="error",
                    commit_properties=properties,
                )
            else:
                # An append keeps the table's schema (the frame was conformed to it); a replace
                # overwrites it, and "overwrite" removes every file of the current version.
                schema = table.schema() if mode == "append" else frame.head(0).to_arrow().schema
                table.create_write_transaction(
                    actions,  # type: ignore[arg-type]
                    mode="overwrite" if mode == "replace" else "append",
                    schema=schema,
                    commit_properties=properties,
                )
        except BaseException:
            # Remove the new files unless a commit may reference them (a failure after the
            # commit record was written, in a post-commit hook, must not orphan the version).
            if not committing or self.version(name) == before:
                for file in written:
                    self.store.delete(file)
            raise

    def maintain(self, name: str, version: int) -> None:
        """Keep reads fast after appends: compact small files, checkpoint, vacuum old files."""
        path = self.table_location(name)
        table = DeltaTable(path)
        if len(table.file_uris()) > _COMPACT_ABOVE_FILES:
            table.optimize.compact(
                commit_properties=CommitProperties(
                    custom_metadata={_META_PREFIX + "action": "compact"}
                )
            )
            table = DeltaTable(path)
            version = table.version()
        if version % _CHECKPOINT_EVERY == 0:
            table.create_checkpoint()
        table.vacuum(
            retention_hours=self.rollback_days * 24,
            dry_run=False,
            enforce_retention_duration=False,
            # At checkpoints also remove files no commit ever referenced (left by a killed
            # load); only those older than the rollback window, so a running load is safe.
            full=version % _CHECKPOINT_EVERY == 0,
        )

    def rollback(self, name: str, to_version: int, *, user: str) -> int:
        """Restore a dataset to an earlier version, committed as a new version."""
        current = self.version(name)
        if current is None:
            raise WarehouseError(f"{name} has never been loaded, so there is nothing to roll back.")
        if not 0 <= to_version < current:
            raise WarehouseError(
                f"Cannot roll {name} back to version {to_version}: choose a version from 0 to "
                f"{current - 1} (the current version is {current}; see `history`)."
            )
        path = self.table_location(name)
        meta = {
            _META_PREFIX + "action": "rollback",
            _META_PREFIX + "user": user,
            _META_PREFIX + "note": f"restored version {to_version}",
        }
        with self.lock(name):
            try:
                DeltaTable(path).restore(
                    to_version, commit_properties=CommitProperties(custom_metadata=meta)
                )
            except (DeltaError, OSError) as exc:
                raise WarehouseError(
                    f"Version {to_version} of {name} can no longer be restored ({exc}). Versions "
                    f"stay restorable for {self.rollback_days} days."
                ) from exc
        version = self.version(name)
        assert version is not None
        audit.record(
            self.root,
            "rollback",
            user,
            {"dataset": name, "restored": to_version, "version": version},
        )
        return version

    # ----- history ----------------------------------------------------------------------------

    def history(self, name: str | None = None) -> list[LoadRecord]:
        """Loads, rollbacks and compactions, newest first, for one dataset or all."""
        names = [dataset(name).name] if name else list(DATASETS)
        records: list[LoadRecord] = []
        for ds in names:
            if self.version(ds) is None:
                continue
            for entry in DeltaTable(self.table_location(ds)).history():
                records.append(_record(ds, entry))
        records.sort(key=lambda r: (r.when, r.version), reverse=True)
        return records

    def last_loaded(self) -> dict[str, datetime | None]:
        """When each dataset last changed (the freshness line of the Overview)."""
        out: dict[str, datetime | None] = {}
        for ds in DATASETS:
            if self.version(ds) is None:
                out[ds] = None
                continue
            latest = DeltaTable(self.table_location(ds)).history(1)
            out[ds] = _record(ds, latest[0]).when if latest else None
        return out


def history_frame(records: list[LoadRecord]) -> pl.DataFrame:
    """History as a tidy frame (for tables, CSV and JSON output)."""
    schema: dict[str, pl.DataType] = {
        "dataset": pl.String(),
        "version": pl.Int64(),
        "when": pl.Datetime("us", "UTC"),
        "action": pl.String(),
        "mode": pl.String(),
        "source_file": pl.String(),
        "sha256": pl.String(),
        "rows_read": pl.Int64(),
        "rows_loaded": pl.Int64(),
        "rows_rejected": pl.Int64(),
        "mapping": pl.String(),
        "user": pl.String(),
        "note": pl.String(),
    }
    rows = [r.__dict__ for r in records]
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def _record(name: str, entry: dict[str, Any]) -> LoadRecord:
    meta = {k[len(_META_PREFIX) :]: v for k, v in entry.items() if k.startswith(_META_PREFIX)}
    operation = str(entry.get("operation", ""))
    action = meta.get("action") or {
        "RESTORE": "rollback",
        "OPTIMIZE": "compact",
        "VACUUM START": "vacuum",
        "VACUUM END": "vacuum",
    }.get(operation, operation.lower())

    def count(key: str) -> int | None:
        value = meta.get(key)
        return int(value) if value not in (None, "") else None

    return LoadRecord(
        dataset=name,
        version=int(entry["version"]),
        when=datetime.fromtimestamp(int(entry["timestamp"]) / 1000, tz=UTC),
        action=str(action),
        mode=str(meta.get("mode", "")),
        source_file=str(meta.get("source_file", "")),
        sha256=str(meta.get("sha256", "")),
        rows_read=count("rows_read"),
        rows_loaded=count("rows_loaded"),
        rows_rejected=count("rows_rejected"),
        mapping=str(meta.get("mapping", "")),
        user=str(meta.get("user", "")),
        note=str(meta.get("note", "")),
    )


# ----- the Delta writer's helpers -------------------------------------------------------------


def _conform_to_table(frame: pl.DataFrame, table: DeltaTable) -> pl.DataFrame | None:
    """`frame` with the table's columns, order and types, for an append without schema change.

    Columns the frame lacks are added as nulls; a column of another type is cast to the
    table's type (strictly: a value that does not fit fails the load). None when the frame
    has columns the table lacks, so that the schema must be merged.
    """
    import pyarrow as pa  # only loads need it: the read commands start without PyArrow

    target = pl.DataFrame(pa.schema(table.schema().to_arrow()).empty_table()).schema
    if not set(frame.columns) <= set(target):
        return None
    columns = []
    for column, dtype in target.items():
        if column not in frame.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(column))
        elif frame.schema[column] != dtype:
            try:
                frame.select(pl.col(column).cast(dtype, strict=True))
            except pl.exceptions.PolarsError:
                raise WarehouseError(
                    f"Column {column} holds {_type_name(frame.schema[column])} values, but "
                    f"earlier loads stored it as {_type_name(dtype)}. Nothing was changed; load "
                    "the file with mode replace, or rename the column."
                ) from None
            columns.append(pl.col(column).cast(dtype, strict=True))
        else:
            columns.append(pl.col(column))
    return frame.select(columns)


def _type_name(dtype: pl.DataType) -> str:
    if dtype.is_numeric():
        return "number"
    if dtype == pl.String:
        return "text"
    return str(dtype).lower()


def _own_writer_fits(table: DeltaTable, frame: pl.DataFrame) -> bool:
    """Whether the table's protocol allows committing `frame`'s files without upgrading it."""
    protocol = table.protocol()
    features = set(protocol.writer_features or ())
    if not features <= _OWN_WRITER_FEATURES or protocol.min_writer_version > 7:
        return False
    needs_ntz = any(
        isinstance(dtype, pl.Datetime) and dtype.time_zone is None
        for dtype in frame.schema.values()
    )
    return not needs_ntz or "timestampNtz" in features


def _write_data_files(
    store: Store, folder: str, frame: pl.DataFrame, written: list[str]
) -> list[AddAction]:
    """Write `frame` as Parquet files in `folder`, appending each to `written` as it starts."""
    prefix = uuid.uuid4()
    actions = []
    for index, offset in enumerate(range(0, max(frame.height, 1), _ROWS_PER_FILE)):
        part = frame.slice(offset, _ROWS_PER_FILE)
        name = f"part-{index:05d}-{prefix}-c000.{_COMPRESSION}.parquet"
        file = f"{folder}/{name}"
        written.append(file)
        sink = store.open_output(file)
        if isinstance(sink, str):
            _write_parquet(part, sink)
        else:
            with sink:
                _write_parquet(part, sink)
        size, mtime = store.size_and_mtime(file)
        actions.append(
            AddAction(
                path=name,
                size=size,
                partition_values={},
                modification_time=mtime,
                data_change=True,
                stats=_file_stats(store.parquet_metadata(file), part),
            )
        )
    return actions


def _write_parquet(frame: pl.DataFrame, file: str | IO[bytes]) -> None:
    frame.write_parquet(file, compression=_COMPRESSION, statistics=True)


def _file_stats(footer: pq.FileMetaData, part: pl.DataFrame) -> str:
    """Delta statistics of one data file: row and null counts from the frame, bounds from
    the Parquet footer (exact, or widened where long strings were truncated)."""
    groups = [footer.row_group(i) for i in range(footer.num_row_groups)]
    # Leaf columns by path; a nested column has no leaf named as itself and gets no bounds.
    leaves = {footer.schema.column(i).path: i for i in range(footer.num_columns)}
    lows: dict[str, Any] = {}
    highs: dict[str, Any] = {}
    for column, dtype in part.schema.items():
        if column not in leaves:
            continue
        low: Any = None
        high: Any = None
        known = True
        for group in groups:
            chunk = group.column(leaves[column])
            stats = chunk.statistics
            if stats is not None and stats.has_min_max:
                low = stats.min if low is None else min(low, stats.min)
                high = stats.max if high is None else max(high, stats.max)
            elif stats is None or not stats.has_null_count or stats.null_count < group.num_rows:
                known = False  # values without bounds: this column gets none
                break
        if known and low is not None:
            lo, hi = _stat_value(low, dtype, upper=False), _stat_value(high, dtype, upper=True)
            if lo is not None and hi is not None:
                lows[column], highs[column] = lo, hi
    stats_json = {
        "numRecords": part.height,
        "minValues": lows,
        "maxValues": highs,
        "nullCount": {c: n for c, n in part.null_count().row(0, named=True).items() if c in leaves},
    }
    return json.dumps(stats_json, ensure_ascii=False)


def _stat_value(value: object, dtype: pl.DataType, *, upper: bool) -> object | None:
    """A Parquet bound as Delta writes it in stats JSON, or None when it has no safe form.

    Timestamps are written to the millisecond as delta-rs does, an upper bound rounded up.
    """
    if dtype == pl.String:
        return value if isinstance(value, str) else None
    if dtype.is_integer() and isinstance(value, int) and not isinstance(value, bool):
        return value
    if dtype.is_float() and isinstance(value, float):
        return value if math.isfinite(value) else None
    if dtype == pl.Date and isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None and isinstance(value, datetime):
        bound = value.replace(microsecond=value.microsecond // 1000 * 1000)
        try:
            if upper and bound != value:
                bound += timedelta(milliseconds=1)
        except OverflowError:
            return None
        return bound.isoformat(sep=" ", timespec="milliseconds" if bound.microsecond else "seconds")
    return None


@functools.lru_cache(maxsize=256)
def _table_files(path: str, version: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The data files of one table version, and the columns its schema has (in order)."""
    table = DeltaTable(path, version=version)
    columns = tuple(field.name for field in table.schema().fields)
    return tuple(table.file_uris()), columns


# ----- the SQL gateway ------------------------------------------------------------------------

_DUCKDB_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "category": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "int": "BIGINT",
    "float": "DOUBLE",
}


PII_COLUMNS = ("name", "email", "phone")
MASKED = "•••"
# Free text may hold what the PII columns hold: e-mail addresses and phone numbers written
# into a comment are masked for viewers too (the same patterns serve DuckDB and Polars).
FREE_TEXT_COLUMNS = {"surveys": ("comment",)}
FREE_TEXT_PII = (
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", "[email]"),
    (r"\+?\(?(?:[0-9][ ()./-]{0,2}){8,}[0-9]", "[phone]"),  # 9 digits or more: not a date
)


def masked_free_text(text: pl.Expr) -> pl.Expr:
    """`text` with e-mail addresses and phone numbers masked (`FREE_TEXT_PII`)."""
    for pattern, replacement in FREE_TEXT_PII:
        text = text.str.replace_all(pattern, replacement)
    return text


def _masked_free_text_sql(column: str) -> str:
    sql = column
    for pattern, replacement in FREE_TEXT_PII:
        sql = f"regexp_replace({sql}, {_sql_string(pattern)}, {_sql_string(replacement)}, 'g')"
    return sql


@dataclass(frozen=True)
class Access:
    """What one user may read, enforced in the gateway's views so that no query escapes it.

    `limits` holds, per column, the values whose rows are visible: a column of the dataset
    itself narrows it directly, a customer attribute narrows every dataset to the customers
    who have one of the values (rows of unknown customers are then hidden too). A dataset
    with neither column is not narrowed by that limit. `mask_pii` replaces names, emails and
    phone numbers by a mask.
    """

    limits: tuple[tuple[str, tuple[str, ...]], ...] = ()
    mask_pii: bool = False
    min_group: int = 0

    def key(self) -> str:
        """A stable text form (cache keys); `Access.from_key` reverses it."""
        limits = [[c, list(v)] for c, v in self.limits]
        return json.dumps({"limits": limits, "mask": self.mask_pii, "min": self.min_group})

    @classmethod
    def from_key(cls, text: str) -> Access:
        raw = json.loads(text)
        limits = tuple((str(c), tuple(str(x) for x in v)) for c, v in raw["limits"])
        return cls(limits=limits, mask_pii=bool(raw["mask"]), min_group=int(raw["min"]))


FULL_ACCESS = Access()


class QueryGateway:
    """The only place SQL runs. One locked-down DuckDB database per process, a cursor per query.

    Each query sees one consistent snapshot: the datasets it names are bound, as temporary
    views on its own cursor, to the Parquet files of their current Delta versions, narrowed
    to what the gateway's `Access` allows (see `scoped`).
    """

    access: Access = FULL_ACCESS
    _pinned: Mapping[str, int | None] | None = None
    _files: Mapping[str, tuple[str, ...]] = {}

    def __init__(self, warehouse: Warehouse, *, memory_limit: str = "4GB", threads: int = 2):
        self.warehouse = warehouse
        self._root = duckdb.connect(
            ":memory:",
            config={
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "memory_limit": memory_limit,
                "threads": threads,
            },
        )
        # The local folder (derived tables), and the object store's prefix when the tables
        # live there (read through Arrow's filesystem, registered before the lock).
        allowed = [str(warehouse.root) + "/"]
        if warehouse.store.remote:
            warehouse.store.register(self._root)
            allowed += warehouse.store.prefixes()
        self._root.execute("SET allowed_directories = $dirs", {"dirs": allowed})
        self._root.execute("SET enable_external_access = false")
        self._root.execute("SET lock_configuration = true")
        self._lock = threading.Lock()

    def scoped(self, access: Access) -> QueryGateway:
        """This gateway (the same database) for a user who may only read what `access` allows."""
        for column, _ in access.limits:
            if not any(column in d.column_names for d in DATASETS.values()):
                raise WarehouseError(f"An access limit names {column!r}, which no dataset has.")
        scoped = copy.copy(self)
        scoped.access = access
        return scoped

    def at_versions(self, versions: Mapping[str, int | None]) -> QueryGateway:
        """This gateway, reading the named datasets at `versions` rather than their latest."""
        pinned = copy.copy(self)
        pinned._pinned = dict(versions)
        return pinned

    def reading(self, files: Mapping[str, tuple[str, ...]]) -> QueryGateway:
        """This gateway, reading the named datasets from `files`: other files holding the
        same rows as the version it reads, in the same order (`analytics.by_customer`).
        Access limits and masks apply to them as to the version's own."""
        reading = copy.copy(self)
        reading._files = dict(files)
        return reading

    def versions(self) -> dict[str, int | None]:
        """The version of every dataset this gateway reads: pinned, or the current one."""
        current = self.warehouse.versions()
        return current | {k: v for k, v in (self._pinned or {}).items() if k in current}

    @property
    def pinned(self) -> bool:
        return self._pinned is not None

    def query_derived(self, sql: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
        """Run `sql` over derived files (rollups, read with `read_parquet($path)`) only.

        No dataset views are bound, so the gateway's `Access` is not applied here: the caller
        narrows the derived rows itself (see `analytics.rollups`). DuckDB still refuses any
        path outside the warehouse. A file that cannot be read (removed meanwhile by another
        process) raises FileNotFoundError.
        """
        with self._lock:
            cursor = self._root.cursor()
        try:
            return cursor.sql(sql, params=dict(params or {})).pl()
        except duckdb.IOException as exc:
            raise FileNotFoundError(str(exc)) from exc
        finally:
            cursor.close()

    def write_parquet(
        self,
        sql: str,
        target: Path,
        params: Mapping[str, object] | None = None,
        *,
        row_group_size: int = 32_768,
        partition_by: str | None = None,
    ) -> None:
        """Write the rows of `sql` (over the datasets' views, with bound `params`) to the
        Parquet file `target`, which must lie inside the warehouse (derived tables); with
        `partition_by` (a column of `sql`), to a folder `target` holding a folder per value
        (`<column>=<value>/`, files without the column)."""
        names = _datasets_named(sql)
        with self._lock:
            cursor = self._root.cursor()
        try:
            for name in names:
                cursor.execute(self._view_sql(name))
            _copy_to_parquet(
                cursor, self.warehouse.root, sql, target, params, row_group_size, partition_by
            )
        finally:
            cursor.close()

    def query(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        rows: Mapping[str, pl.DataFrame] | None = None,
    ) -> pl.DataFrame:
        """Run `sql` with bound `params` and return a Polars frame.

        Dataset names used in `sql` (`customers`, `orders`, ...) resolve to the current
        version of that dataset, narrowed by this gateway's access; those named in `rows`
        to those frames instead: rows this gateway returned earlier (one customer's, say,
        read once and asked several questions).
        """
        given = dict(rows or {})
        names = self._views_to_bind(sql, given)
        with self._lock:
            cursor = self._root.cursor()
        try:
            for name in names:
                cursor.execute(self._view_sql(name))
            for name, frame in given.items():
                cursor.register(name, frame)
            return cursor.sql(sql, params=dict(params or {})).pl()
        finally:
            cursor.close()

    def _views_to_bind(self, sql: str, given: Mapping[str, pl.DataFrame]) -> list[str]:
        """The datasets `sql` names that `given` rows do not stand in for, customers first
        (also when unnamed, under a limit on customer attributes): the other views narrow
        through it."""
        names = [n for n in _datasets_named(sql) if n not in given and n != "customers"]
        named = "customers" in _datasets_named(sql) and "customers" not in given
        if named or (self._customer_limits() and "customers" not in given):
            names.insert(0, "customers")
        return names

    def segments_file(self) -> Path | None:
        """The segmentation's customers table the `customer_segments` view reads: the latest
        one, or the latest of the pinned versions."""
        if self._pinned is not None:
            return segments_file_at(self.warehouse.root, self._pinned)
        return latest_segments_file(self.warehouse.root)

    def _segments_view_sql(self) -> str:
        table = self.segments_file()
        if table is None:
            return (
                f"CREATE OR REPLACE TEMP VIEW {SEGMENTS_VIEW} AS SELECT CAST(NULL AS VARCHAR) "
                "AS customer_id, CAST(NULL AS VARCHAR) AS segment, CAST(NULL AS VARCHAR) AS "
                "cluster WHERE false"
            )
        body = (
            "SELECT customer_id, rfm_segment AS segment, cluster_name AS cluster "
            f"FROM read_parquet({_sql_string(str(table))})"
        )
        if self._customer_limits():
            body += " WHERE customer_id IN (SELECT customer_id FROM customers)"
        return f"CREATE OR REPLACE TEMP VIEW {SEGMENTS_VIEW} AS {body}"

    def _customer_limits(self) -> list[tuple[str, tuple[str, ...]]]:
        customers = DATASETS["customers"].column_names
        return [(c, v) for c, v in self.access.limits if c in customers and c != "customer_id"]

    def _row_conditions(self, name: str) -> list[str]:
        columns = DATASETS[name].column_names
        conditions = []
        for column, values in self.access.limits:
            listed = ", ".join(_sql_string(v) for v in values) or "NULL"
            if column in columns:
                conditions.append(f"{column} IN ({listed})")
        if name != "customers" and "customer_id" in columns and self._customer_limits():
            conditions.append("customer_id IN (SELECT customer_id FROM customers)")
        return conditions

    @contextlib.contextmanager
    def workspace(self) -> Iterator[Workspace]:
        """A cursor of its own for several statements sharing temporary tables: a derived
        build that works on a few rows (`analytics.rollups.update`). Dataset rows are copied
        in with `Workspace.load`; the gateway must see everything (derived tables do)."""
        if self.access != FULL_ACCESS:
            raise WarehouseError("A workspace is for derived builds, which read every row.")
        with self._lock:
            cursor = self._root.cursor()
        try:
            yield Workspace(self, cursor)
        finally:
            cursor.close()

    def _view_sql(self, name: str) -> str:
        """A view of the dataset with every contract column: ones no load has provided yet
        are typed NULLs, so queries never depend on which optional columns an export had."""
        if name == SEGMENTS_VIEW:
            return self._segments_view_sql()
        return f"CREATE OR REPLACE TEMP VIEW {name} AS {self._view_body(name)}"

    def _view_body(self, name: str, files: tuple[str, ...] | None = None) -> str:
        """The SELECT of a dataset's view: its current (or pinned) version's files, or only
        `files` of it (which must belong to that version or an earlier one)."""
        if self._pinned is not None and name in self._pinned:
            version = self._pinned[name]
        else:
            version = self.warehouse.version(name)
        if files is None:
            files = self._files.get(name)
        if files is None:
            files = self.warehouse.files(name, version) if version is not None else ()
        present = self.warehouse.columns(name, version) if version is not None else ()
        absent = [c for c in DATASETS[name].columns if c.name not in present]
        missing = [f"CAST(NULL AS {_DUCKDB_TYPES[c.kind]}) AS {c.name}" for c in absent]
        if not files:
            return f"SELECT {', '.join(missing)} WHERE false"
        # Views cannot take bound parameters: the paths are the warehouse's own Delta files,
        # and access values come from the accounts file, quoted as SQL strings.
        listed = ", ".join(_sql_string(f) for f in files)
        extra = "".join(", " + column for column in missing)
        body = f"SELECT *{extra} FROM read_parquet([{listed}], union_by_name = true)"
        conditions = self._row_conditions(name)
        if conditions:
            body = f"SELECT * FROM ({body}) WHERE " + " AND ".join(conditions)
        masked = [c for c in PII_COLUMNS if c in DATASETS[name].column_names]
        free = FREE_TEXT_COLUMNS.get(name, ())
        if self.access.mask_pii and (masked or free):
            # Every column listed (not `* REPLACE`, which only DuckDB has), in the view's order.
            outputs: list[str] = []
            for column in (*present, *(c.name for c in absent)):
                quoted = _sql_identifier(column)
                if column in masked:
                    value = f"CASE WHEN {quoted} IS NULL THEN NULL ELSE '{MASKED}' END"
                elif column in free:
                    value = _masked_free_text_sql(quoted)
                else:
                    value = quoted
                outputs.append(f"{value} AS {quoted}")
            body = f"SELECT {', '.join(outputs)} FROM ({body})"
        return body


def open_gateway(
    warehouse: Warehouse,
    engine: str = "duckdb",
    *,
    spark_master: str | None = None,
    memory_limit: str = "4GB",
    threads: int = 2,
) -> QueryGateway:
    """The gateway on `engine` (`settings.ENGINES`): DuckDB in this process, or Apache Spark
    (`analytics.spark`, imported only when asked for)."""
    if engine == "spark":
        check_engine(engine, spark_master, warehouse.location)
        from analytics.spark import SparkGateway

        return SparkGateway(
            warehouse, master=spark_master, memory_limit=memory_limit, threads=threads
        )
    if engine != "duckdb":
        raise WarehouseError(f"Unknown engine {engine!r}: duckdb or spark.")
    return QueryGateway(warehouse, memory_limit=memory_limit, threads=threads)


def check_engine(engine: str, spark_master: str | None = None, location: str = "") -> None:
    """Refuse, with what to install, an engine this machine cannot run: Spark needs its
    extra (pyspark, sqlglot) and, unless it is a Spark Connect server elsewhere, Java; and
    a warehouse at `location` on object storage needs a cluster, whose Hadoop connectors
    read it (pyspark's own jars have none)."""
    if engine != "spark":
        return
    if is_object_store(location) and (spark_master or "local").startswith("local"):
        raise ConfigError(
            f"The warehouse {location} is on object storage, which Spark on this machine "
            "cannot read (pyspark brings no S3, GCS or Azure connector): give "
            "TOUCHPOINT_SPARK_MASTER a cluster that has them, or use TOUCHPOINT_ENGINE=duckdb."
        )
    missing = [name for name in ("pyspark", "sqlglot") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"TOUCHPOINT_ENGINE=spark needs {' and '.join(missing)}: "
            "pip install -e '.[spark]' (or choose TOUCHPOINT_ENGINE=duckdb)."
        )
    if not (spark_master or "").startswith("sc://") and shutil.which("java") is None:
        raise ConfigError(
            "TOUCHPOINT_ENGINE=spark runs Spark on this machine, which needs Java 17: "
            "apt-get install openjdk-17-jre-headless (or give TOUCHPOINT_SPARK_MASTER a "
            "sc:// Spark Connect server)."
        )


class Workspace:
    """Statements on one cursor of a gateway (see `QueryGateway.workspace`): temporary
    tables made by one statement are there for the next."""

    def __init__(self, gateway: QueryGateway, cursor: duckdb.DuckDBPyConnection) -> None:
        self._gateway = gateway
        self._cursor = cursor

    def load(
        self,
        table: str,
        name: str,
        *,
        files: tuple[str, ...] | None = None,
        columns: tuple[str, ...] = (),
        where: str = "",
    ) -> None:
        """Copy the rows of dataset `name` (only those in `files`, when given; only those
        `where` allows, SQL over the workspace's tables; only `columns`, when given) into the
        temporary table `table`."""
        body = self._gateway._view_body(name, files)
        if columns or where:
            listed = ", ".join(c for c in columns if c in DATASETS[name].column_names) or "*"
            body = f"SELECT {listed} FROM ({body}) WHERE {where or 'true'}"
        self._cursor.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {body}")

    def execute(self, sql: str, params: Mapping[str, object] | None = None) -> None:
        self._cursor.execute(sql, dict(params or {}))

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
        return self._cursor.sql(sql, params=dict(params or {})).pl()

    def write_parquet(
        self,
        sql: str,
        target: Path,
        params: Mapping[str, object] | None = None,
        *,
        row_group_size: int = 32_768,
    ) -> None:
        """Write the rows of `sql` to `target`, a derived file inside the warehouse."""
        root = self._gateway.warehouse.root
        _copy_to_parquet(self._cursor, root, sql, target, params, row_group_size)


def _copy_to_parquet(
    cursor: duckdb.DuckDBPyConnection,
    root: Path,
    sql: str,
    target: Path,
    params: Mapping[str, object] | None,
    row_group_size: int,
    partition_by: str | None = None,
) -> None:
    """Write the rows of `sql` with `cursor` to the Parquet file `target` (with
    `partition_by`, a column of `sql`: a folder of a folder per value), which must lie
    inside the warehouse at `root` (derived tables)."""
    target = Path(target).resolve()
    if not target.is_relative_to(root):
        raise WarehouseError(f"{target} is outside the warehouse {root}.")
    partitioned = "" if partition_by is None else f", PARTITION_BY ({partition_by})"
    cursor.execute(
        f"COPY ({sql}) TO {_sql_string(str(target))} "
        f"(FORMAT parquet, ROW_GROUP_SIZE {int(row_group_size)}{partitioned})",
        dict(params or {}),
    )


def _datasets_named(sql: str) -> list[str]:
    words = set(re.findall(r"[a-z_]+", sql.lower()))
    return [name for name in (*DATASETS, SEGMENTS_VIEW) if name in words]


# ----- the segments view ----------------------------------------------------------------------
# Queries may name `customer_segments`: every customer's RFM segment and behavioural cluster
# from the latest segmentation built in the warehouse (analytics.segments), narrowed like the
# customers. Until one is built, the view is empty.

SEGMENTS_FOLDER = "_segments"
SEGMENTS_VIEW = "customer_segments"


def latest_segments_file(root: Path) -> Path | None:
    """The customers table of the most recently completed segmentation under `root`."""
    folder = root / SEGMENTS_FOLDER
    if not folder.is_dir():
        return None
    metas = sorted(folder.glob("segments-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for meta in metas:
        table = meta.with_name(meta.name.removesuffix(".json") + ".customers.parquet")
        if table.exists():
            return table
    return None


def segments_file_at(root: Path, pins: Mapping[str, int | None]) -> Path | None:
    """The customers table of the latest complete segmentation computed from the versions
    `pins` names (a review replayed as of its data versions), or None when none is kept."""
    folder = root / SEGMENTS_FOLDER
    metas = sorted(folder.glob("segments-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for meta in metas:
        try:
            versions = json.loads(meta.read_text()).get("versions", {})
        except (OSError, ValueError):
            continue
        if any(versions.get(k, v) != v for k, v in pins.items()):
            continue
        table = meta.with_name(meta.name.removesuffix(".json") + ".customers.parquet")
        if table.exists():
            return table
    return None


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on `path` (created when missing) across threads and
    processes; the kernel releases it even when the holder is killed."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
