"""Where a warehouse's Delta tables live: a local folder, or a prefix on an object store.

`TOUCHPOINT_WAREHOUSE` may be an `s3://bucket/prefix`, `gs://bucket/prefix` or
`abfss://container@account.dfs.core.windows.net/prefix` URI. The tables (data files and
transaction logs) then live there, written and read by `deltalake` and by Arrow's own
filesystems, with credentials from the environment as those libraries take them
(`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `GOOGLE_APPLICATION_CREDENTIALS`,
`AZURE_STORAGE_ACCOUNT_KEY`, ...). DuckDB reads the same files through Arrow's filesystem,
registered with it under the URI's scheme (DuckDB's own `httpfs` extension would be a
run-time download).

What one machine keeps for itself (derived tables, locks, saved mappings, quarantined rows,
the audit log) stays in a local folder: `Warehouse.root`.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from analytics.errors import ConfigError

if TYPE_CHECKING:  # Arrow is imported when a store is opened (settings import this module)
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

_AZURITE = "http://127.0.0.1:10000"
# The schemes `deltalake` and Arrow both read (Azure's `abfs` is `abfss` without TLS).
OBJECT_STORE_SCHEMES = ("s3", "gs", "abfss", "abfs")


def is_object_store(location: str | Path) -> bool:
    """Whether `location` is an object-store URI rather than a local folder."""
    return isinstance(location, str) and urlsplit(location).scheme in OBJECT_STORE_SCHEMES


def check_location(location: str) -> str:
    """`location` as the warehouse's Delta tables use it, or a ConfigError saying what is
    wrong with it: an absolute local path, or an object-store URI naming a bucket."""
    parts = urlsplit(location)
    if parts.scheme and len(parts.scheme) > 1 and not is_object_store(location):
        schemes = ", ".join(s + "://" for s in OBJECT_STORE_SCHEMES)
        raise ConfigError(
            f"The warehouse {location!r} uses {parts.scheme}://, which Touchpoint cannot store "
            f"tables on: use a local folder or one of {schemes}."
        )
    if is_object_store(location):
        if not _bucket(parts.netloc):
            raise ConfigError(
                f"The warehouse {location!r} names no bucket (or container): write it as "
                f"{parts.scheme}://bucket/prefix."
            )
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return str(Path(location).expanduser().resolve())


def default_local_dir(location: str) -> Path:
    """The local folder of an object-store warehouse when none is set: one per URI, under
    `data/local/`."""
    parts = urlsplit(location)
    return Path("data/local", parts.scheme, parts.netloc, parts.path.strip("/") or "_")


def _bucket(netloc: str) -> str:
    """The bucket (S3, GCS) or container (Azure: `container@account.dfs...`) of a URI."""
    return netloc.split("@", 1)[0]


def _fs_path(location: str) -> str:
    """The path Arrow's filesystem takes for a URI (`bucket/key`), or a local path as is."""
    parts = urlsplit(location)
    if parts.scheme not in OBJECT_STORE_SCHEMES:
        return location
    return _bucket(parts.netloc) + parts.path.rstrip("/")


@functools.lru_cache(maxsize=8)
def _filesystem(scheme: str, netloc: str) -> pafs.FileSystem:
    """Arrow's filesystem for one bucket (credentials from the environment)."""
    import pyarrow.fs as pafs

    if scheme in ("abfs", "abfss"):
        host = netloc.partition("@")[2]
        account = host.split(".", 1)[0] or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME", "")
        key = os.environ.get("AZURE_STORAGE_ACCOUNT_KEY") or None
        if os.environ.get("AZURE_STORAGE_USE_EMULATOR", "").lower() in ("1", "true"):
            # Azurite, where `deltalake` finds it too (its AZURITE_BLOB_STORAGE_URL).
            emulator = urlsplit(os.environ.get("AZURITE_BLOB_STORAGE_URL", _AZURITE))
            return pafs.AzureFileSystem(
                account_name=account,
                account_key=key,
                blob_storage_authority=emulator.netloc,
                dfs_storage_authority=emulator.netloc,
                blob_storage_scheme=emulator.scheme,
                dfs_storage_scheme=emulator.scheme,
            )
        return pafs.AzureFileSystem(account_name=account, account_key=key)
    return pafs.FileSystem.from_uri(f"{scheme}://{netloc}/")[0]


class Store:
    """The files of a warehouse's Delta tables: listing, reading and writing them by the
    locations `deltalake` uses (absolute paths, or URIs on the warehouse's object store;
    a local path is always read locally, as the derived tables are)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.remote = is_object_store(location)
        self.scheme = urlsplit(location).scheme if self.remote else "file"

    @functools.cached_property
    def fs(self) -> pafs.FileSystem:
        """Arrow's filesystem of the store, opened on first use (S3's asks for the bucket's
        region)."""
        import pyarrow.fs as pafs

        if not self.remote:
            return pafs.LocalFileSystem()
        try:
            return _filesystem(self.scheme, urlsplit(self.location).netloc)
        except OSError as exc:  # S3's region lookup, say
            raise ConfigError(f"The warehouse {self.location} cannot be opened: {exc}.") from exc

    def join(self, *names: str) -> str:
        return "/".join((self.location, *names))

    def names(self, folder: str) -> list[str]:
        """Names of the files in `folder` (none when it does not exist)."""
        if not is_object_store(folder):
            try:
                return [entry.name for entry in os.scandir(folder)]
            except FileNotFoundError:
                return []
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(_fs_path(folder), allow_not_found=True)
        try:
            return [info.base_name for info in self.fs.get_file_info(selector)]
        except OSError as exc:  # every page and command asks this first
            raise ConfigError(
                f"The warehouse {self.location} cannot be read: {exc}. Check the URI, the "
                'network, and the credentials in the environment (README, "Warehouses on '
                'object storage").'
            ) from exc

    def read_text(self, location: str) -> str:
        """A file's text; OSError (FileNotFoundError when missing) when it cannot be read."""
        if not is_object_store(location):
            return Path(location).read_text()
        with self.fs.open_input_stream(_fs_path(location)) as stream:
            return stream.read().decode()

    def exists(self, location: str) -> bool:
        if not is_object_store(location):
            return Path(location).exists()
        import pyarrow.fs as pafs

        return self.fs.get_file_info(_fs_path(location)).type != pafs.FileType.NotFound

    def make_folder(self, folder: str) -> None:
        if not is_object_store(folder):
            Path(folder).mkdir(parents=True, exist_ok=True)
        # An object store has no folders: a key's prefix is one.

    def open_output(self, location: str) -> IO[bytes] | str:
        """Where to write a new file: its local path, or an output stream to the store."""
        if not is_object_store(location):
            return location
        return self.fs.open_output_stream(_fs_path(location))

    def size_and_mtime(self, location: str) -> tuple[int, int]:
        """A file's size in bytes and its modification time in ms since the epoch."""
        if not is_object_store(location):
            info = os.stat(location)
            return info.st_size, info.st_mtime_ns // 1_000_000
        found = self.fs.get_file_info(_fs_path(location))
        mtime = found.mtime_ns // 1_000_000 if found.mtime_ns is not None else 0
        return int(found.size or 0), mtime

    def parquet_metadata(self, location: str) -> pq.FileMetaData:
        import pyarrow.parquet as pq

        if not is_object_store(location):
            return pq.read_metadata(location)
        with self.fs.open_input_file(_fs_path(location)) as handle:
            return pq.read_metadata(handle)

    def parquet_schema(self, location: str) -> Any:
        import pyarrow.parquet as pq

        if not is_object_store(location):
            return pq.read_schema(location)
        with self.fs.open_input_file(_fs_path(location)) as handle:
            return pq.read_schema(handle)

    def delete(self, location: str) -> None:
        """Remove a file; one already gone is fine."""
        if not is_object_store(location):
            Path(location).unlink(missing_ok=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(_fs_path(location))

    def prefixes(self) -> list[str]:
        """The store's warehouse prefix as DuckDB may check a path against it: as written,
        and as DuckDB normalises an Azure URI (`abfss://container/key`, no account)."""
        written = self.location + "/"
        normalised = f"{self.scheme}://{_fs_path(self.location)}/"
        return [written] if normalised == written else [written, normalised]

    def register(self, connection: object) -> None:
        """Let a DuckDB connection read this store's URIs (`read_parquet('s3://...')`)
        through Arrow's filesystem. Done before its configuration is locked."""
        if not self.remote:
            return
        wrapper = _duckdb_filesystem(self.scheme, self.fs)
        if not connection.filesystem_is_registered(wrapper.protocol[0]):  # type: ignore[attr-defined]
            connection.register_filesystem(wrapper)  # type: ignore[attr-defined]


def _duckdb_filesystem(scheme: str, fs: pafs.FileSystem) -> object:
    """An fsspec view of Arrow's filesystem answering to `scheme://` URIs (what DuckDB's
    `register_filesystem` takes)."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class ObjectStore(ArrowFSWrapper):
        protocol = (scheme,)

        @classmethod
        def _strip_protocol(cls, path: str) -> str:
            return _strip_for_duckdb(path)

    return ObjectStore(fs)


def _strip_for_duckdb(path: str) -> str:
    """The Arrow path of what DuckDB hands the filesystem: a whole URI, or a path already
    stripped of it."""
    return _fs_path(path) if "://" in path else path.lstrip("/")
