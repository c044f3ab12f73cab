"""The Spark engine answers as DuckDB does: the same SQL, transpiled, on the same files."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import customer360, journeys, review
from analytics.cli import main
from analytics.cohorts import cohort_table
from analytics.filters import Filters
from analytics.journeys import views as journey_views
from analytics.kpis import KPI_BY_KEY, trend
from analytics.segments.features import customer_facts
from analytics.warehouse import Access, QueryGateway, Warehouse, open_gateway

LIMITED = Access(limits=(("region", ("EMEA",)),), mask_pii=True, min_group=5)
ACCESSES = {"everyone": Access(), "EMEA viewer": LIMITED}


@pytest.fixture(scope="module")
def spark(spark_engine, sample_warehouse) -> QueryGateway:
    return open_gateway(sample_warehouse, "spark", spark_master=spark_engine)


@pytest.fixture(scope="module")
def rows_only(tmp_path_factory, sample_warehouse) -> Warehouse:
    """The sample company without its rollups: every question goes to the rows."""
    root = tmp_path_factory.mktemp("rows") / "warehouse"
    shutil.copytree(sample_warehouse.root, root, ignore=shutil.ignore_patterns("_rollups"))
    return Warehouse(root)


def test_the_duckdb_engine_is_the_default_and_spark_is_another_gateway(spark, sample_warehouse):
    assert type(open_gateway(sample_warehouse)) is QueryGateway
    assert type(spark).__name__ == "SparkGateway"
    assert spark.query("SELECT count(*) AS n FROM customers")["n"][0] == 20_000


@pytest.mark.parametrize("user", ACCESSES)
@pytest.mark.parametrize("source", ["rollups", "rows"])
def test_every_kpi_by_quarter_equals_duckdb(spark, sample_warehouse, rows_only, user, source):
    warehouse = sample_warehouse if source == "rollups" else rows_only
    access = ACCESSES[user]
    on_spark = (
        spark
        if source == "rollups"
        else open_gateway(warehouse, "spark", spark_master=spark.master)
    )
    expected = trend(QueryGateway(warehouse).scoped(access), list(KPI_BY_KEY), Filters(), "quarter")
    got = trend(on_spark.scoped(access), list(KPI_BY_KEY), Filters(), "quarter")

    assert expected.height == 18 * 12  # 18 KPIs, 12 quarters: not an empty comparison
    assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("grain", ["week", "month"])
def test_kpis_by_week_and_by_month_and_region_equal_duckdb(spark, sample_warehouse, grain):
    """The rollups' 64-bit day and month words (UBIGINT, which Spark lacks) test the same
    bits on Spark; a breakdown reads the per-region parts."""
    filters = Filters(start=date(2025, 1, 1), end=date(2025, 6, 29))
    by = "region" if grain == "month" else None
    keys = ["active_customers", "retention_rate", "new_customers", "revenue"]
    expected = trend(QueryGateway(sample_warehouse), keys, filters, grain, by=by)
    got = trend(spark, keys, filters, grain, by=by)

    assert expected.height == 4 * (
        26 if grain == "week" else 6 * 3
    )  # 26 weeks; 6 months, 3 regions
    assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("user", ACCESSES)
def test_customer_360_equals_duckdb(spark, sample_warehouse, user):
    access = ACCESSES[user]
    duck = QueryGateway(sample_warehouse).scoped(access)
    customer = duck.query(
        "SELECT customer_id FROM orders GROUP BY ALL ORDER BY count(*) DESC, customer_id LIMIT 1"
    )["customer_id"][0]
    views = []
    for gateway in (duck, spark.scoped(access)):
        records = customer360.customer_records(gateway, customer)
        views.append([
            customer360.customer_profile(gateway, customer, records),
            customer360.customer_orders(gateway, customer, records),
            customer360.customer_timeline(gateway, customer, records),
        ])  # fmt: skip
    expected, got = views

    assert expected[1].height > 5
    assert got[0].revenue == pytest.approx(expected[0].revenue, rel=1e-9)
    assert replace(got[0], revenue=0.0) == replace(expected[0], revenue=0.0)
    for left, right in zip(got[1:], expected[1:], strict=True):
        assert_frame_equal(left, right, check_dtypes=False, rel_tol=1e-9)


@pytest.mark.parametrize("user", ACCESSES)
def test_cohorts_equal_duckdb(spark, rows_only, user):
    access = ACCESSES[user]
    filters = Filters(start=date(2024, 1, 1), end=date(2025, 12, 31))
    on_spark = open_gateway(rows_only, "spark", spark_master=spark.master).scoped(access)
    expected = cohort_table(QueryGateway(rows_only).scoped(access), filters, "quarter")
    got = cohort_table(on_spark, filters, "quarter")

    assert expected.height > 0
    assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)


def test_segment_features_equal_duckdb(spark, sample_warehouse):
    as_of, cutoff = date(2025, 12, 31), date(2025, 6, 30)
    expected = customer_facts(QueryGateway(sample_warehouse), as_of, (cutoff,))
    got = customer_facts(spark, as_of, (cutoff,))

    assert expected.height == 20_000
    assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("user", ACCESSES)
@pytest.mark.parametrize("when", ["all dates", "2025-Q3"])
def test_the_journey_funnel_equals_duckdb(spark, sample_warehouse, user, when):
    journeys.refresh(sample_warehouse)  # built once for the session's sample
    stored = journeys.current(sample_warehouse)
    assert stored is not None
    access = ACCESSES[user]
    filters = Filters() if when == "all dates" else Filters(date(2025, 7, 1), date(2025, 9, 30))
    expected = journey_views.funnel_table(
        QueryGateway(sample_warehouse).scoped(access), stored, filters
    )
    got = journey_views.funnel_table(spark.scoped(access), stored, filters)

    assert expected["customers"][0] > 0
    assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9)


@pytest.mark.parametrize("user", ACCESSES)
def test_the_quarterly_review_equals_duckdb(spark, sample_warehouse, user):
    access = ACCESSES[user]
    expected = review.quarterly_review(QueryGateway(sample_warehouse).scoped(access), "2025-Q2")
    got = review.quarterly_review(spark.scoped(access), "2025-Q2")

    assert expected.scorecard.height == 9
    assert_frame_equal(got.scorecard, expected.scorecard, check_dtypes=False, rel_tol=1e-9)
    assert_same(review.review_json(got), review.review_json(expected))


def assert_same(got: object, expected: object) -> None:
    """Equal JSON, floats to 1e-9 relative (sums taken in another order)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys()
        for key in expected:
            assert_same(got[key], expected[key])
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        for left, right in zip(got, expected, strict=True):
            assert_same(left, right)
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-9)
    else:
        assert got == expected


def test_bound_values_stay_bound(spark):
    hostile = "EMEA' OR '1'='1"
    sql = "SELECT count(*) AS n FROM customers WHERE region = $region"

    assert spark.query(sql, {"region": hostile})["n"][0] == 0
    assert (
        spark.query(sql, {"region": "EMEA"})["n"][0]
        == QueryGateway(spark.warehouse).query(sql, {"region": "EMEA"})["n"][0]
    )


def test_a_limited_user_sees_only_their_rows_and_masked_pii(spark):
    sql = "SELECT region, name, email FROM customers ORDER BY customer_id LIMIT 3"
    expected = QueryGateway(spark.warehouse).scoped(LIMITED).query(sql)
    got = spark.scoped(LIMITED).query(sql)

    assert got.to_dicts() == expected.to_dicts()
    assert set(got["region"]) == {"EMEA"}
    assert set(got["name"]) == {"•••"}


def test_rows_passed_in_are_queried_and_then_dropped(spark):
    frame = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "amount": [1.5, 2.0, None]})
    sql = "SELECT count(*) AS n, sum(amount) AS total FROM picked"

    assert spark.query(sql, rows={"picked": frame}).to_dicts() == [{"n": 3, "total": 3.5}]
    assert not [t for t in spark._spark.catalog.listTables() if t.name.startswith("tp_rows_")]


def test_an_interval_in_seconds_keeps_its_fractions(spark):
    sql = "SELECT epoch(TIMESTAMP '2025-01-01 10:00:01.5' - TIMESTAMP '2025-01-01 09:00:00') AS s"

    assert spark.query(sql)["s"][0] == QueryGateway(spark.warehouse).query(sql)["s"][0] == 3601.5


def test_the_kpis_command_runs_on_the_engine_asked_for(spark, sample_warehouse, capsys):
    command = ["--warehouse", str(sample_warehouse.root), "kpis", "--period", "quarter",
               "--kpi", "nps", "revenue", "--format", "json"]  # fmt: skip
    assert main(command) == 0
    duckdb_rows = json.loads(capsys.readouterr().out)
    assert main([*command, "--engine", "spark"]) == 0
    spark_rows = json.loads(capsys.readouterr().out)
    assert main(["--engine", "spark", *command]) == 0
    before_rows = json.loads(capsys.readouterr().out)

    assert len(duckdb_rows) == 24  # 2 KPIs, 12 quarters
    for rows in (spark_rows, before_rows):
        assert [r["period"] for r in rows] == [r["period"] for r in duckdb_rows]
        for got, expected in zip(rows, duckdb_rows, strict=True):
            assert got["value"] == pytest.approx(expected["value"], rel=1e-9)
            assert got["n"] == expected["n"]


def test_a_file_outside_the_warehouse_is_refused(spark, tmp_path):
    outside = tmp_path / "x.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(outside)

    with pytest.raises(Exception, match="outside the warehouse"):
        spark.query_derived("SELECT * FROM read_parquet($path)", {"path": str(outside)})


@pytest.fixture(scope="module")
def connect_server(spark_engine, tmp_path_factory) -> Iterator[str]:
    """A Spark Connect server on this machine (pyspark's own start script), as a cluster
    would run one; its `sc://` URL."""
    try:
        import grpc  # noqa: F401  (Spark Connect's client needs it: the spark extra has it)
        import pyspark
    except ImportError:
        reason = "SPARK CONNECT TEST NOT RUN: pip install -e '.[spark]' (pyspark[connect])."
        if os.environ.get("TOUCHPOINT_REQUIRE_SPARK") == "1":
            pytest.fail(reason + " TOUCHPOINT_REQUIRE_SPARK=1 requires it.")
        pytest.skip(reason)
    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("connect")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(folder),
           "SPARK_PID_DIR": str(folder), "PATH": path}  # fmt: skip
    start = [str(home / "sbin" / "start-connect-server.sh"), "--master", "local[2]",
             "--conf", f"spark.connect.grpc.binding.port={port}"]  # fmt: skip
    subprocess.run(start, env=env, check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                logs = "\n".join(p.read_text()[-3000:] for p in folder.glob("*.out"))
                pytest.fail(f"The Spark Connect server did not listen on {port}:\n{logs}")
            time.sleep(1)
        yield f"sc://localhost:{port}"
    finally:
        subprocess.run([str(home / "sbin" / "stop-connect-server.sh")], env=env, check=False,
                       capture_output=True)  # fmt: skip


# A process holds one kind of Spark session: the remote one runs in a process of its own.
REMOTE = """
import json, sys
from analytics import customer360
from analytics.filters import Filters
from analytics.kpis import KPI_BY_KEY, trend
from analytics.warehouse import Access, Warehouse, open_gateway

remote = open_gateway(Warehouse(sys.argv[1]), "spark", spark_master=sys.argv[2])
access = Access(limits=(("region", ("EMEA",)),), mask_pii=True, min_group=5)
limited = remote.scoped(access)
sql = "SELECT count(*) AS n FROM customers WHERE region = $r"
hostile = remote.query(sql, {"r": "EMEA' OR '1'='1"})["n"][0]
trend(limited, list(KPI_BY_KEY), Filters(), "quarter").write_parquet(sys.argv[3])
# With the rollups, which are this machine's files: sent to the server from here.
summarised = open_gateway(Warehouse(sys.argv[4]), "spark", spark_master=sys.argv[2])
trend(summarised.scoped(access), list(KPI_BY_KEY), Filters(), "quarter").write_parquet(sys.argv[5])
customer360.customer_timeline(summarised, "C13578").write_parquet(sys.argv[6])
print(json.dumps({"session": type(remote._spark).__module__, "hostile": hostile}))
"""


def test_a_spark_connect_server_gives_the_same_kpis_to_a_limited_user(
    connect_server, rows_only, sample_warehouse, tmp_path
):
    """From the rows, and from the rollups, which a server elsewhere cannot read from this
    machine's folder: they are sent to it (`SparkGateway._parquet_view`)."""
    out = [tmp_path / f"{name}.parquet" for name in ("rows", "rollups", "timeline")]
    command = [sys.executable, "-c", REMOTE, str(rows_only.root), connect_server, str(out[0]),
               str(sample_warehouse.root), str(out[1]), str(out[2])]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    limited = QueryGateway(rows_only).scoped(LIMITED)
    expected = trend(limited, list(KPI_BY_KEY), Filters(), "quarter")
    timeline = customer360.customer_timeline(QueryGateway(sample_warehouse), "C13578")

    assert answer["hostile"] == 0
    assert answer["session"].startswith("pyspark.sql.connect")
    for got in (pl.read_parquet(out[0]), pl.read_parquet(out[1])):
        assert_frame_equal(got, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)
    assert timeline.height == 25
    assert_frame_equal(pl.read_parquet(out[2]), timeline, check_dtypes=False)
