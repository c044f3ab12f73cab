"""Apache Spark as the gateway's second engine (`TOUCHPOINT_ENGINE=spark`).

The queries stay written once, in DuckDB's dialect: `SparkGateway` transpiles each with
sqlglot into Spark SQL and runs it on a Spark session, `local[*]` or the cluster
`TOUCHPOINT_SPARK_MASTER` names (`spark://host:7077`, or Spark Connect's `sc://host:15002`).

The datasets are the same Delta tables at the same versions. Spark reads them without the
Delta Lake jars (no Maven repository is reachable here, and none is needed): `deltalake`
resolves each version's data files, as it does for DuckDB, and Spark reads those files as
Parquet. Each dataset's view, with the gateway's access limits and PII masks, is the same
SQL as DuckDB's, registered once per session under a name derived from its text (a new
version or another user's limits make another view, so concurrent sessions never clash).
Bound parameters stay bound: `$name` becomes Spark's `:name` marker with the same value.

Derived tables (rollups, segments, journeys, feedback) are still built by the embedded
DuckDB engine after each load; Spark answers the questions, from the rollups' files or the
rows, exactly as DuckDB does.

This is the only module that imports pyspark (an optional extra: `pip install
'touchpoint[spark]'`, with Java 17 on the machine).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import sqlglot
from sqlglot import exp

from analytics.errors import ConfigError
from analytics.storage import is_object_store
from analytics.warehouse import SEGMENTS_VIEW, QueryGateway, Warehouse

DEFAULT_MASTER = "local[*]"
_SESSIONS: dict[str, Any] = {}
_SESSION_LOCK = threading.Lock()


def session(master: str | None = None) -> Any:
    """The process's Spark session for `master` (started on first use; reused after)."""
    master = master or DEFAULT_MASTER
    with _SESSION_LOCK:
        if master in _SESSIONS:
            return _SESSIONS[master]
        # pyspark's notice that it predates pandas 3 (Touchpoint hands it Arrow, not pandas)
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        try:
            from pyspark.logger import PySparkLogger
            from pyspark.sql import SparkSession
        except ImportError:
            raise ConfigError(
                "TOUCHPOINT_ENGINE=spark needs pyspark: pip install 'touchpoint[spark]' "
                "(and Java 17, e.g. Debian's openjdk-17-jre-headless)."
            ) from None
        builder = SparkSession.builder.appName("touchpoint")
        if master.startswith("sc://"):
            builder = builder.remote(master)
        else:
            builder = builder.master(master)
            for key, value in _LOCAL_CONFIG.items():
                builder = builder.config(key, value)
            builder = builder.config(
                "spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={_LOG_CONFIG.as_uri()}"
            )
        for key, value in _SQL_CONFIG.items():
            builder = builder.config(key, value)
        # A failed query raises its error in Python; pyspark would also log it to stderr.
        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            PySparkLogger.getLogger(name).setLevel(logging.CRITICAL + 1)
        spark = builder.getOrCreate()
        if not master.startswith("sc://"):
            spark.sparkContext.setLogLevel("OFF")  # failures surface as Python exceptions
        _SESSIONS[master] = spark
        return spark


# DuckDB's semantics, which the queries are written for: timestamps without a time zone
# (read as written), x / 0 is NULL rather than an error, and no ANSI overflow errors.
_SQL_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.caseSensitive": "false",
}
_LOG_CONFIG = Path(__file__).with_name("spark_log4j2.properties")
# A local session for one machine's questions: few shuffle partitions, no web UI.
_LOCAL_CONFIG = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": str(max(2, os.cpu_count() or 2)),
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.structuredLogging.enabled": "false",
}


class SparkGateway(QueryGateway):
    """The gateway's queries run on Spark (see the module's docstring); builds of derived
    tables (`workspace`, `write_parquet`) stay on the embedded DuckDB database."""

    engine = "spark"

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        master: str | None = None,
        memory_limit: str = "4GB",
        threads: int = 2,
    ) -> None:
        super().__init__(warehouse, memory_limit=memory_limit, threads=threads)
        self.master = master or DEFAULT_MASTER
        self._spark = session(self.master)
        self._views: set[str] = set()
        self._views_lock = threading.Lock()

    def query(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        rows: Mapping[str, pl.DataFrame] | None = None,
    ) -> pl.DataFrame:
        given = dict(rows or {})
        names = self._views_to_bind(sql, given)
        tables: dict[str, str] = {}
        for name in names:
            tables[name] = self._dataset_view(name, tables)
        for name, frame in given.items():
            tables[name] = f"tp_rows_{uuid.uuid4().hex}"
            self._spark.createDataFrame(frame.to_arrow()).createOrReplaceTempView(tables[name])
        try:
            return self._run(sql, dict(params or {}), tables)
        finally:
            for name in given:
                self._spark.catalog.dropTempView(tables[name])

    def query_derived(self, sql: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
        return self._run(sql, dict(params or {}), {})

    def reading(self, files: Mapping[str, tuple[str, ...]]) -> QueryGateway:
        """Copies of the datasets (`analytics.by_customer`) are this machine's files: a
        local session reads them, a cluster reads the versions' own files instead."""
        return super().reading(files) if self.master.startswith("local") else self

    def _derived(self, path: str) -> bool:
        """Whether `path` is a derived table's file: in this machine's folder of the
        warehouse, outside the datasets' own tables."""
        if is_object_store(path):
            return False
        inside = Path(os.path.realpath(path)).relative_to(self.warehouse.root)
        return inside.parts[0].startswith("_")

    # ----- translation ------------------------------------------------------------------------

    def _run(self, sql: str, params: dict[str, object], tables: Mapping[str, str]) -> pl.DataFrame:
        text, used = self._translate(sql, params, tables)
        frame = self._spark.sql(text, args={k: params[k] for k in used} or None)
        result: pl.DataFrame = pl.from_arrow(frame.toArrow())  # type: ignore[assignment]
        # Spark's session-zoned timestamps (from rows handed in) back to the warehouse's
        # naive ones, as DuckDB returns them (the session's zone is UTC).
        zoned = [n for n, t in result.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
        return result.with_columns(pl.col(zoned).dt.replace_time_zone(None)) if zoned else result

    def _translate(
        self, sql: str, params: Mapping[str, object], tables: Mapping[str, str]
    ) -> tuple[str, list[str]]:
        """`sql` (DuckDB's dialect) as Spark SQL, with dataset names bound to `tables` and
        each `read_parquet(...)` to a view of those files; and the parameters it still uses."""
        tree = sqlglot.parse_one(sql, read="duckdb")
        for table in list(tree.find_all(exp.Table)):
            source = table.this
            if isinstance(source, exp.ReadParquet):
                view = self._parquet_view(_paths(source, params))
                table.set("this", exp.to_identifier(view))
            elif not table.db and table.name in tables:
                alias = table.alias or table.name
                table.replace(exp.table_(tables[table.name], alias=alias))
        tree = tree.transform(_spark_idioms)
        used = sorted({p.name for p in tree.find_all(exp.Placeholder) if p.name})
        return tree.sql(dialect="spark"), used

    def _dataset_view(self, name: str, tables: Mapping[str, str]) -> str:
        """A temporary view of dataset `name` as this gateway sees it (version, limits,
        masks), named after its text."""
        body = self._segments_view_sql() if name == SEGMENTS_VIEW else self._view_body(name)
        if name == SEGMENTS_VIEW:
            body = body.split(" AS ", 1)[1]
        text, _ = self._translate(body, {}, tables)
        view = f"tp_{name}_{_digest(text)}"
        self._create_view(view, text)
        return view

    def _create_view(self, view: str, text: str) -> None:
        with self._views_lock:
            if view in self._views:
                return
        self._spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {view} AS {text}")
        with self._views_lock:
            self._views.add(view)

    def _parquet_view(self, paths: list[str]) -> str:
        view = f"tp_files_{_digest(chr(0).join(paths))}"
        with self._views_lock:
            if view in self._views:
                return view
        warehouse = self.warehouse
        for path in paths:
            inside = (
                path.startswith(warehouse.location + "/")
                if is_object_store(path)
                else os.path.realpath(path).startswith(str(warehouse.root) + os.sep)
            )
            if not inside:
                raise ConfigError(f"{path} is outside the warehouse {warehouse.location}.")
        if not self.master.startswith("local") and all(self._derived(p) for p in paths):
            # A derived table is this machine's file, which a cluster's executors cannot
            # read: it goes to the cluster from here (they are small: rollups, segments).
            self._spark.createDataFrame(_shipped(paths)).createOrReplaceTempView(view)
            with self._views_lock:
                self._views.add(view)
            return view
        # None: Spark's Arrow bridge lacks a type, and Spark infers the schema.
        schema = _spark_schema([warehouse.store.parquet_schema(path) for path in paths])
        reader = self._spark.read
        reader = reader.option("mergeSchema", "true") if schema is None else reader.schema(schema)
        reader.parquet(*(_hadoop_uri(p) for p in paths)).createOrReplaceTempView(view)
        with self._views_lock:
            self._views.add(view)
        return view


def _spark_idioms(node: exp.Expression) -> exp.Expression:
    """DuckDB idioms sqlglot does not carry over exactly, rewritten to what Spark means by
    the same: `epoch(a - b)` (an interval's seconds, with their fractions) becomes the
    difference of the two timestamps' microseconds; `to_months(n)`, an interval of n months;
    a bit test `word & CAST(mask AS UBIGINT)` on the rollups' 64-bit words, the same test on
    their signed form (`_signed`)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_months":
        months = exp.cast(node.expressions[0].copy(), exp.DataType.Type.INT)
        return exp.Anonymous(this="make_interval", expressions=[exp.Literal.number(0), months])
    if isinstance(node, exp.BitwiseAnd) and _is_unsigned(node.expression):
        return exp.BitwiseAnd(this=_signed(node.this), expression=_signed(node.expression))
    if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Sub):
        later, earlier = node.this.this, node.this.expression
        micros = [
            exp.func("unix_micros", exp.cast(side.copy(), exp.DataType.Type.TIMESTAMP))
            for side in (later, earlier)
        ]
        seconds = exp.cast(exp.Sub(this=micros[0], expression=micros[1]), exp.DataType.Type.DOUBLE)
        return seconds / exp.Literal.number(1_000_000)
    return node


_UNSIGNED = exp.DataType.Type.UBIGINT
_TWO_TO_64 = 1 << 64


def _is_unsigned(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.this == _UNSIGNED


def _signed(node: exp.Expression) -> exp.Expression:
    """A 64-bit word of bits (DuckDB's UBIGINT, which Spark lacks) as Spark's BIGINT with the
    same bits: a literal mask directly, a column (read by Spark as DECIMAL(20, 0)) by
    subtracting 2^64 from the values past the signed range. `&` then tests the same bits."""
    if _is_unsigned(node) and isinstance(node.this, exp.Literal):
        value = int(node.this.name)
        value = value - _TWO_TO_64 if value >= 1 << 63 else value
        return exp.cast(exp.Literal.number(value), exp.DataType.Type.BIGINT)
    wrapped = sqlglot.parse_one(
        f"CAST(CASE WHEN x >= {1 << 63} THEN x - {_TWO_TO_64} ELSE x END AS BIGINT)",
        read="spark",
    )
    return wrapped.transform(
        lambda n: node.copy() if isinstance(n, exp.Column) and n.name == "x" else n
    )


def _shipped(paths: list[str]) -> pa.Table:
    """Local Parquet files as one Arrow table for Spark, their columns united by name and
    typed as Spark reads such files: unsigned integers widened (a 64-bit word of bits as
    DECIMAL(20, 0), which `_signed` expects)."""
    import pyarrow.parquet as pq

    tables = [pq.read_table(path) for path in paths]
    table = pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})
    wider = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64()}
    wider[pa.uint64()] = pa.decimal128(20, 0)
    fields = [pa.field(f.name, wider.get(f.type, f.type)) for f in table.schema]
    return table.cast(pa.schema(fields))


def _hadoop_uri(path: str) -> str:
    """A file's location as Spark's Hadoop filesystems name it: S3 through the `s3a`
    connector; Google's `gs` and Azure's `abfss` connectors take their own URIs."""
    return "s3a://" + path.removeprefix("s3://") if path.startswith("s3://") else path


def _spark_schema(schemas: list[pa.Schema]) -> Any:
    """The files' columns (their footers' schemas), united by name (as DuckDB's
    `union_by_name`), as Spark's schema: read here, so Spark runs no job to infer it; None
    when a type has no Spark equivalent."""
    from pyspark.errors import PySparkTypeError
    from pyspark.sql.pandas.types import from_arrow_schema

    try:
        united = pa.unify_schemas(schemas, promote_options="permissive")
        return from_arrow_schema(united.remove_metadata(), prefer_timestamp_ntz=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, PySparkTypeError):
        return None


def _paths(node: exp.ReadParquet, params: Mapping[str, object]) -> list[str]:
    """The files a `read_parquet(...)` call names: a literal, a list of them, or a parameter."""
    first = node.expressions[0]
    if isinstance(first, exp.Placeholder):
        value = params[first.name]
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    if isinstance(first, exp.Array):
        return [e.name for e in first.expressions]
    return [first.name]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
