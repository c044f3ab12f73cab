"""Files of derived builds (segmentation, journeys): one build per data version and settings,
named `<prefix>-<key>.*` in a folder of the warehouse, its `.json` metadata written last to
mark it complete. Parquet parts are written atomically and only the latest `keep` builds
stay.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import polars as pl

from analytics import audit
from analytics.errors import ConfigError
from analytics.warehouse import QueryGateway, Warehouse, file_lock


def write_parquet(frame: pl.DataFrame, target: Path) -> None:
    """Write `frame` to `target` atomically (a reader sees the old file or the new one)."""
    partial = target.with_name(f".{target.stem}.{os.getpid()}.parquet")
    frame.write_parquet(partial)
    os.replace(partial, target)


class Parts:
    """The files of a folder of Parquet parts being written (`parquet_parts`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def _next(self) -> Path:
        self.count += 1
        return self.folder / f"part-{self.count - 1:05d}.parquet"

    def write(self, frame: pl.DataFrame) -> None:
        """Write `frame` as the next part."""
        frame.write_parquet(self._next())

    def link(self, part: Path) -> None:
        """Take the Parquet file `part` (of an earlier build) as the next part, unchanged."""
        os.link(part, self._next())


@contextmanager
def parquet_parts(target: Path) -> Iterator[Parts]:
    """Write frames, one after the other, as the parts of a Parquet folder `target`
    (`part-00000.parquet`, ...: read as one, in name order, they are the frames in order),
    atomically: the folder appears when the block ends without error. What a build writes
    a batch at a time without holding them all."""
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        yield Parts(partial)
        shutil.rmtree(target, ignore_errors=True)  # an incomplete build's, left by a crash
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def parts_of(folder: Path) -> list[Path]:
    """The parts of a Parquet folder written by `parquet_parts`, in order."""
    return sorted(folder.glob("part-*.parquet"))


def write_json(meta: dict[str, Any], target: Path) -> None:
    """Write JSON atomically (a reader sees the old file or the new one). A build's
    metadata is written last: it marks the build complete."""
    partial = target.with_name(f".{target.stem}.{os.getpid()}.json")
    partial.write_text(json.dumps(meta, default=str, indent=1, ensure_ascii=False))
    os.replace(partial, target)


Pins = Mapping[str, int | None]  # dataset versions a build is asked for (None: the current)


def versions_of(
    warehouse: Warehouse, names: Sequence[str], at: Pins | None = None
) -> dict[str, int | None]:
    """The versions of datasets `names` a build reads: pinned by `at` where it names them
    (a review replayed as of the versions it was computed from), else the current ones."""
    return {n: at[n] if at is not None and n in at else warehouse.version(n) for n in names}


def key_of(versions: Pins, suffix: str) -> str:
    """A build's key: the dataset versions it reads, then `suffix` (its settings and layout)."""
    named = "-".join(f"{n}{'none' if v is None else v}" for n, v in versions.items())
    return f"{named}-{suffix}"


def read_meta(folder: Path, prefix: str, key: str) -> dict[str, Any] | None:
    """The metadata of the complete build `key`, or None."""
    try:
        return dict(json.loads((folder / f"{prefix}-{key}.json").read_text()))
    except (OSError, ValueError):
        return None


def complete(
    folder: Path, prefix: str, named: tuple[str, dict[str, int | None]] | None
) -> tuple[str, dict[str, Any]] | None:
    """The key and metadata of the build `named` (as a build's `name()` gives it) when it is
    complete, or None."""
    if named is None:
        return None
    meta = read_meta(folder, prefix, named[0])
    return None if meta is None else (named[0], meta)


def latest(folder: Path, prefix: str) -> tuple[str, dict[str, Any]] | None:
    """The key and metadata of the most recent complete build, or None."""
    name = newest(folder, prefix)
    key = None if name is None else name.removeprefix(f"{prefix}-").removesuffix(".json")
    meta = None if key is None else read_meta(folder, prefix, key)
    return None if key is None or meta is None else (key, meta)


def latest_meta(folder: Path, prefix: str) -> dict[str, Any] | None:
    """The metadata of the most recent complete build, or None."""
    found = latest(folder, prefix)
    return None if found is None else found[1]


def newest(folder: Path, prefix: str) -> str | None:
    """The name of the most recent complete build's metadata file, or None."""
    metas = list(folder.glob(f"{prefix}-*.json"))
    return max(metas, key=_modified).name if metas else None


def earlier(
    warehouse: Warehouse, folder: Path, prefix: str, suffix: str, like: Pins | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The key and metadata of the most recent complete build whose key ends with `suffix`
    (the same settings and layout) and whose data the current data only adds rows to (every
    dataset it read appended to since, or the same): what a page shows, saying so, while the
    build of the current data is made after an append. With `like`, only a build made from
    the versions it names of the datasets both name (another build's data). None after a
    replace or rollback (the earlier data is not part of the current), or when no such
    build is kept."""
    metas = sorted(folder.glob(f"{prefix}-*.json"), key=_modified, reverse=True)
    for path in metas:
        key = path.name.removeprefix(f"{prefix}-").removesuffix(".json")
        meta = read_meta(folder, prefix, key) if key.endswith(suffix) else None
        versions = {} if meta is None else meta.get("versions", {})
        agrees = like is None or all(like[n] == v for n, v in versions.items() if n in like)
        if meta is not None and agrees and only_appended(warehouse, versions):
            return key, meta
    return None


class Build(Protocol):
    """A stored build: its metadata names the dataset versions it was made from."""

    @property
    def meta(self) -> dict[str, Any]: ...


B = TypeVar("B", bound=Build)


def served(
    current: Callable[[Warehouse], B | None],
    earlier: Callable[[Warehouse], B | None],
    gateway: QueryGateway,
) -> tuple[QueryGateway, B] | None:
    """What a page reads: the build of the current data, read through `gateway`; while it
    is being made after an append, the `earlier` one, read through `gateway` pinned to the
    versions it was made from, so that everything shown is of that data (the page says
    so); None when neither is there (or `gateway` is pinned and its own is missing)."""
    found = current(gateway.warehouse)
    if found is not None:
        return gateway, found
    before = None if gateway.pinned else earlier(gateway.warehouse)
    return None if before is None else (gateway.at_versions(before.meta["versions"]), before)


def only_appended(warehouse: Warehouse, versions: Pins) -> bool:
    """Whether the current data holds the rows of `versions` (each dataset the same or only
    appended to since), as long as `versions` names any."""
    for name, since in versions.items():
        until = warehouse.version(name)
        if since == until:
            continue
        if since is None or until is None or warehouse.appended(name, since, until) is None:
            return False
    return bool(versions)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # pruned meanwhile
        return 0.0


def prune(folder: Path, prefix: str, keep: int) -> None:
    """Remove every file of all but the `keep` most recent builds."""
    metas = sorted(folder.glob(f"{prefix}-*.json"), key=lambda p: p.stat().st_mtime)
    for meta in metas[:-keep]:
        stem = meta.name.removesuffix(".json")
        for path in folder.glob(f"{stem}.*"):
            if path.is_dir():  # a Parquet folder (`parquet_parts`)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def build_once(
    folder: Path,
    prefix: str,
    name: Callable[[], tuple[str, dict[str, int | None]] | None],
    make: Callable[[str, dict[str, int | None]], None],
    keep: int,
) -> float | None:
    """Run `make(key, versions)` for the build `name()` gives (key and the dataset versions
    it reads) unless it is complete already, then keep the latest `keep` builds; seconds
    taken, or None when there was nothing to build. Builds are serialised across processes
    by a file lock, and `name` is asked under it (a load may have come meanwhile)."""
    folder.mkdir(exist_ok=True)
    with file_lock(folder / ".build.lock"):
        named = name()
        if named is None or read_meta(folder, prefix, named[0]) is not None:
            return None
        started = time.perf_counter()
        make(*named)
        prune(folder, prefix, keep)
        return time.perf_counter() - started


SETTINGS_FOLDER = Path("_settings")  # what analysts choose, per warehouse (not derived)


def read_settings(root: Path, name: str) -> object | None:
    """The warehouse's `_settings/<name>.json`, parsed, or None when there is none; a file
    that cannot be read is named with what is wrong."""
    path = Path(root) / SETTINGS_FOLDER / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The settings in {path} cannot be read: {exc}.") from exc


def write_settings(root: Path, name: str, data: dict[str, Any]) -> None:
    """Keep `data` as `_settings/<name>.json` (written whole, then renamed into place)."""
    folder = Path(root) / SETTINGS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    write_json(data, folder / f"{name}.json")


def change_settings(
    root: Path,
    name: str,
    chosen: dict[str, Any],
    user: str,
    what: dict[str, object],
    *,
    before: dict[str, Any],
) -> bool:
    """Keep `chosen` as `_settings/<name>.json` when it differs from `before`, audited with
    `what` changed; whether it differed (what is built from them is then rebuilt)."""
    if chosen == before:
        return False
    write_settings(root, name, chosen)
    fingerprint = hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:10]
    audit.record(root, "settings_change", user, {name: fingerprint, **what})
    return True


def settings_path(root: Path, name: str) -> Path:
    return Path(root) / SETTINGS_FOLDER / f"{name}.json"
