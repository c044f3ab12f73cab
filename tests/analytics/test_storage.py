"""A warehouse on object storage: the same tables and answers from a bucket.

The buckets are on storage servers on localhost, moto's for S3 and Azurite for Azure,
reached the way a deployment reaches the real ones: credentials and endpoint from the
environment, read by `deltalake` and by Arrow. Google Cloud Storage has no emulator here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.fs as pafs
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

from analytics.bootstrap import ensure_sample_loaded
from analytics.errors import ConfigError, WarehouseError
from analytics.filters import Filters
from analytics.ingest.pipeline import ingest
from analytics.kpis import KPI_BY_KEY, trend
from analytics.settings import load_settings
from analytics.storage import (
    Store,
    _fs_path,
    _strip_for_duckdb,
    check_location,
    default_local_dir,
)
from analytics.warehouse import Access, QueryGateway, Warehouse, check_engine

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
BUCKET = "touchpoint-test"
LIMITED = Access(limits=(("region", ("EMEA",)),), mask_pii=True, min_group=5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


AZURITE = ROOT / ".venv" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (published in Azure's documentation).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _serve(command: list[str], port: int, what: str) -> subprocess.Popen[bytes]:
    """Start a storage server in a process of its own (as a real store is: in this one it
    would wait for the interpreter while `deltalake` waits for it) and wait for its port."""
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"{what} did not start (exit code {server.poll()})")
            time.sleep(0.1)


def _s3(port: int) -> tuple[list[str], dict[str, str], str]:
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    environment = {
        "AWS_ACCESS_KEY_ID": "touchpoint",
        "AWS_SECRET_ACCESS_KEY": "touchpoint-secret",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ALLOW_HTTP": "true",
    }
    return command, environment, f"s3://{BUCKET}"


def _azure(port: int, folder: Path) -> tuple[list[str], dict[str, str], str]:
    if not AZURITE.exists():
        reason = "AZURE STORAGE TESTS NOT RUN: Azurite is missing (make test installs it with npm)."
        if os.environ.get("TOUCHPOINT_REQUIRE_STORES") == "1":
            pytest.fail(reason + " TOUCHPOINT_REQUIRE_STORES=1 requires it.")
        pytest.skip(reason)
    command = [
        str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
        str(folder), "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
    ]  # fmt: skip
    environment = {
        "AZURE_STORAGE_USE_EMULATOR": "true",
        "AZURITE_BLOB_STORAGE_URL": f"http://127.0.0.1:{port}",
        "AZURE_STORAGE_ACCOUNT_NAME": AZURITE_ACCOUNT,
        "AZURE_STORAGE_ACCOUNT_KEY": AZURITE_KEY,
    }
    return command, environment, f"abfss://{BUCKET}@{AZURITE_ACCOUNT}.dfs.core.windows.net"


@pytest.fixture(scope="module", params=["s3", "abfss"])
def bucket(request, tmp_path_factory) -> Iterator[str]:
    """An empty bucket on a storage server on localhost: moto's S3 server (a real S3 API:
    listings, conditional writes, multipart uploads) or Azurite, Azure Storage's emulator.
    The environment points at it, as a deployment's does; yields the bucket's URI."""
    port = _free_port()
    if request.param == "s3":
        command, environment, uri = _s3(port)
    else:
        command, environment, uri = _azure(port, tmp_path_factory.mktemp("azurite"))
    server = _serve(command, port, f"The {request.param} server")
    before = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        if request.param == "s3":
            import boto3  # Arrow's S3 filesystem creates no buckets unless told to

            boto3.client("s3").create_bucket(Bucket=BUCKET)
        else:
            Store(uri).fs.create_dir(BUCKET)
        yield uri
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.terminate()
        server.wait(timeout=30)


def _keys(bucket: str, prefix: str) -> list[str]:
    """The files under `prefix` in the bucket (not the "folders" Arrow marks)."""
    found = Store(bucket).fs.get_file_info(
        pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True)
    )
    return sorted(f.path.split("/", 1)[1] for f in found if f.type == pafs.FileType.File)


@pytest.fixture(scope="module")
def sample_in_bucket(bucket, tmp_path_factory) -> Warehouse:
    """The sample company loaded into the bucket (rollups built in the local folder)."""
    local = tmp_path_factory.mktemp("bucket-local")
    warehouse = Warehouse(f"{bucket}/sample", local_dir=local)
    ensure_sample_loaded(warehouse, SAMPLE, user="tester", progress=lambda stage, done: None)
    return warehouse


def test_the_tables_live_in_the_bucket_and_the_derived_tables_on_this_machine(
    bucket, sample_in_bucket
):
    keys = _keys(bucket, "sample/")
    tables = sorted({key.split("/")[1] for key in keys})
    local = sorted(p.name for p in sample_in_bucket.root.iterdir())

    assert tables == ["customers", "events", "orders", "surveys", "tickets"]
    assert "sample/orders/_delta_log/00000000000000000000.json" in keys
    assert sample_in_bucket.versions() == {
        "customers": 0,
        "orders": 0,
        "surveys": 0,
        "tickets": 0,
        "events": 0,
    }
    assert "_rollups" in local and "orders" not in local
    assert sample_in_bucket.row_count("customers") == 20_000


@pytest.mark.parametrize("user", ["everyone", "EMEA viewer"])
def test_every_kpi_by_quarter_equals_the_local_warehouse(sample_in_bucket, sample_warehouse, user):
    """The same 18 KPIs from the bucket's rows (DuckDB reading S3 through Arrow) as from
    the local copy of the same sample, for everyone and for a limited viewer."""
    access = Access() if user == "everyone" else LIMITED
    rows_only = Warehouse(sample_in_bucket.location, local_dir=sample_in_bucket.root / "no-rollups")
    expected = trend(
        QueryGateway(sample_warehouse).scoped(access), list(KPI_BY_KEY), Filters(), "quarter"
    )
    from_rows = trend(
        QueryGateway(rows_only).scoped(access), list(KPI_BY_KEY), Filters(), "quarter"
    )
    from_rollups = trend(
        QueryGateway(sample_in_bucket).scoped(access), list(KPI_BY_KEY), Filters(), "quarter"
    )

    assert expected.height == 18 * 12
    assert_frame_equal(from_rows, expected, rel_tol=1e-12, abs_tol=1e-12)
    assert_frame_equal(from_rollups, expected, rel_tol=1e-12, abs_tol=1e-12)


def test_the_gateway_reads_nothing_outside_the_warehouse(bucket, sample_in_bucket):
    gateway = QueryGateway(sample_in_bucket)
    files = sample_in_bucket.files("orders", 0)

    assert files[0].startswith(f"{bucket}/sample/orders/part-")
    assert gateway.query_derived("SELECT count(*) AS n FROM read_parquet($f)", {"f": list(files)})[
        "n"
    ][0] == sample_in_bucket.row_count("orders")
    with pytest.raises(duckdb.PermissionException, match=r'elsewhere/x\.parquet" - file system'):
        gateway.query_derived(
            "SELECT count(*) FROM read_parquet($f)",
            {"f": f"{bucket}/elsewhere/x.parquet"},
        )


def test_appends_rollbacks_and_history_work_on_the_bucket(bucket, tmp_path):
    warehouse = Warehouse(f"{bucket}/loads", local_dir=tmp_path / "local")
    first = b"order_id,customer_id,order_date,amount\nO1,C1,2025-01-02,10\nO2,C2,2025-01-03,20\n"
    more = b"order_id,customer_id,order_date,amount\nO3,C1,2025-02-02,5\n"
    for content in (first, more):
        result = ingest(
            content, dataset_name="orders", warehouse=warehouse, file_name="o.csv", user="ann"
        )
        assert result.loaded, result.message

    appended = warehouse.appended("orders", 0, 1)
    assert warehouse.version("orders") == 1
    assert appended is not None and len(appended) == 1
    assert appended[0].startswith(f"{bucket}/loads/orders/part-")
    assert warehouse.read("orders")["amount"].sum() == 35

    assert warehouse.rollback("orders", 0, user="ann") == 2
    assert warehouse.read("orders")["order_id"].sort().to_list() == ["O1", "O2"]
    assert warehouse.appended("orders", 1, 2) is None  # a restore: derived tables rebuild
    assert [(r.version, r.action, r.user) for r in warehouse.history("orders")] == [
        (2, "rollback", "ann"),
        (1, "load", "ann"),
        (0, "load", "ann"),
    ]
    audit = (warehouse.root / "_audit" / "audit.jsonl").read_text().splitlines()
    assert json.loads(audit[-1])["event"] == "rollback"


def test_a_failed_commit_leaves_no_files_in_the_bucket(bucket, tmp_path, monkeypatch):
    warehouse = Warehouse(f"{bucket}/failed", local_dir=tmp_path / "local")
    content = b"order_id,customer_id,order_date,amount\nO1,C1,2025-01-02,10\n"
    assert ingest(
        content, dataset_name="orders", warehouse=warehouse, file_name="o.csv", user="ann"
    ).loaded
    before = _keys(bucket, "failed/")

    def conflict(*args, **kwargs):
        raise OSError("the commit raced another writer")

    monkeypatch.setattr(DeltaTable, "create_write_transaction", conflict)
    with pytest.raises(WarehouseError, match=r"raced another writer\. Nothing was changed"):
        ingest(
            content.replace(b"O1", b"O2"),
            dataset_name="orders",
            warehouse=warehouse,
            file_name="o.csv",
            user="ann",
        )

    assert sum(key.endswith(".snappy.parquet") for key in before) == 1  # the first load's
    # Arrow keeps an empty "folder" marker where it removed a folder's last new file.
    assert [key for key in _keys(bucket, "failed/") if not key.endswith("/")] == before
    assert warehouse.version("orders") == 0


def test_the_command_line_reads_the_bucket_with_credentials_from_the_environment(
    bucket, sample_in_bucket, sample_warehouse, tmp_path
):
    env = os.environ | {
        "TOUCHPOINT_WAREHOUSE": f"{bucket}/sample/",
        "TOUCHPOINT_LOCAL_DIR": str(sample_in_bucket.root),
        "TOUCHPOINT_ACCOUNTS": str(tmp_path / "accounts.toml"),
    }
    command = [sys.executable, "-m", "analytics", "kpis", "--period", "quarter", "--format", "json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    local = subprocess.run(
        command,
        env=env | {"TOUCHPOINT_WAREHOUSE": str(sample_warehouse.root)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(local.stdout)
    assert len({row["kpi"] for row in json.loads(done.stdout)}) == 18


def test_a_store_that_cannot_be_reached_is_named_with_what_to_check(tmp_path, monkeypatch):
    """A command, or the dashboard, says so (a ConfigError) rather than failing with a
    traceback; an unknown bucket reads as an empty warehouse, whose first load says it."""
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "touchpoint")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "touchpoint-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    warehouse = Warehouse(f"s3://unreachable-{port}/wh", local_dir=tmp_path)

    with pytest.raises(
        ConfigError,
        match=rf"s3://unreachable-{port}/wh cannot be read: .*"
        r"Check the URI, the network, and the credentials",
    ):
        warehouse.versions()


def test_the_settings_take_object_store_uris(tmp_path):
    settings = load_settings(
        {"TOUCHPOINT_WAREHOUSE": "s3://bucket/team/touchpoint/", "TOUCHPOINT_ROLLBACK_DAYS": "7"}
    )
    chosen = load_settings(
        {"TOUCHPOINT_WAREHOUSE": "gs://bucket/wh", "TOUCHPOINT_LOCAL_DIR": str(tmp_path)}
    )

    assert settings.warehouse_location == "s3://bucket/team/touchpoint"
    assert settings.warehouse == Path("data/local/s3/bucket/team/touchpoint")
    assert (chosen.warehouse_location, chosen.warehouse) == ("gs://bucket/wh", tmp_path)
    assert load_settings({"TOUCHPOINT_WAREHOUSE": "data/wh"}).warehouse_location == ""
    assert default_local_dir("abfss://c@acct.dfs.core.windows.net/") == Path(
        "data/local/abfss/c@acct.dfs.core.windows.net/_"
    )


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("ftp://host/warehouse", "uses ftp://, which Touchpoint cannot store tables on"),
        ("s3:///prefix", "names no bucket (or container): write it as s3://bucket/prefix"),
    ],
)
def test_a_location_touchpoint_cannot_use_is_refused_with_what_to_write(location, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings({"TOUCHPOINT_WAREHOUSE": location})
    with pytest.raises(ConfigError):
        check_location(location)


def test_each_store_names_its_files_as_its_filesystem_does():
    """Arrow's filesystems take `bucket/key` (Azure: `container/key`); DuckDB hands the
    registered filesystem whole URIs."""
    assert _fs_path("s3://bucket/wh/orders/a.parquet") == "bucket/wh/orders/a.parquet"
    assert _fs_path("gs://bucket/wh/") == "bucket/wh"
    assert _fs_path("abfss://cont@acct.dfs.core.windows.net/wh/a") == "cont/wh/a"
    assert _fs_path("/local/wh/a.parquet") == "/local/wh/a.parquet"
    assert _strip_for_duckdb("abfss://cont@acct.dfs.core.windows.net/wh/a") == "cont/wh/a"
    assert _strip_for_duckdb("cont/wh/a") == "cont/wh/a"


def test_spark_reads_s3_through_its_s3a_connector_on_a_cluster():
    pytest.importorskip("sqlglot")
    from analytics.spark import _hadoop_uri

    with pytest.raises(ConfigError, match="pyspark brings no S3, GCS or Azure connector"):
        check_engine("spark", "local[*]", "s3://bucket/wh")
    with pytest.raises(ConfigError, match="give TOUCHPOINT_SPARK_MASTER a cluster"):
        check_engine("spark", None, "gs://bucket/wh")
    check_engine("duckdb", None, "s3://bucket/wh")

    assert _hadoop_uri("s3://bucket/wh/orders/a.parquet") == "s3a://bucket/wh/orders/a.parquet"
    assert _hadoop_uri("gs://bucket/a.parquet") == "gs://bucket/a.parquet"
    assert _hadoop_uri("/local/a.parquet") == "/local/a.parquet"


def test_a_local_warehouse_is_unchanged(warehouse):
    assert warehouse.location == str(warehouse.root)
    assert not warehouse.store.remote
    assert warehouse.table_path("orders") == warehouse.root / "orders"
    with pytest.raises(WarehouseError, match="is on an object store"):
        Warehouse("s3://bucket/x", local_dir=warehouse.root / "x").table_path("orders")
