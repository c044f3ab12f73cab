"""`python -m analytics kpis` and `cohorts` on the tiny company: exact records and formats."""

from __future__ import annotations

import csv
import io
import json

import pytest
from cli_helpers import run

from analytics.kpis import KPI_BY_KEY

KEYS = ["kpi", "period", "group", "value", "n", "ci_low", "ci_high", "hidden"]


def test_kpis_json_records_have_exactly_the_documented_keys(tiny_warehouse, capsys):
    code, out, err = run(
        capsys, "kpis", "--period", "quarter", "--kpi", "revenue", "nps", "--format", "json"
    )

    assert code == 0, err
    records = json.loads(out)
    assert [list(r) for r in records] == [KEYS, KEYS]
    revenue, nps = records
    assert revenue == {
        "kpi": "revenue",
        "period": "2025-Q2",
        "group": None,
        "value": 1379.75,
        "n": None,
        "ci_low": None,
        "ci_high": None,
        "hidden": None,
    }
    assert (nps["kpi"], nps["period"], nps["value"], nps["n"]) == ("nps", "2025-Q2", 25.0, 4)
    assert nps["ci_low"] == pytest.approx(25 - 1.959964 * 41.45781, abs=1e-3)
    assert nps["ci_high"] == 100.0


@pytest.mark.parametrize(
    ("period", "start", "labels"),
    [
        ("day", "2025-04-01", ["2025-04-01", "2025-04-02", "2025-04-03"]),
        ("week", "2025-04-01", ["2025-W14"]),
        ("month", "2025-04-01", ["2025-04"]),
        ("year", "2025-04-01", ["2025"]),
    ],
)
def test_kpis_period_labels(tiny_warehouse, capsys, period, start, labels):
    code, out, _ = run(
        capsys,
        "kpis",
        "--period",
        period,
        "--from",
        start,
        "--to",
        "2025-04-03",
        "--kpi",
        "orders",
        "--format",
        "json",
    )

    assert code == 0
    assert [r["period"] for r in json.loads(out)] == labels


def test_kpis_where_and_by_narrow_and_group(tiny_warehouse, capsys):
    code, out, _ = run(
        capsys,
        "kpis",
        "--period",
        "quarter",
        "--kpi",
        "revenue",
        "--where",
        "country=US",
        "--by",
        "country",
        "--format",
        "json",
    )

    assert code == 0
    assert [(r["group"], r["value"]) for r in json.loads(out)] == [("US", 179.75)]


def test_kpis_csv_has_the_same_columns(tiny_warehouse, capsys):
    code, out, _ = run(capsys, "kpis", "--period", "quarter", "--kpi", "csat", "--format", "csv")

    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == KEYS
    assert (rows[0]["value"], rows[0]["n"]) == ("66.66666666666667", "3")


def test_kpis_default_is_every_kpi(tiny_warehouse, capsys):
    code, out, _ = run(capsys, "kpis", "--period", "quarter", "--format", "json")

    assert code == 0
    assert [r["kpi"] for r in json.loads(out)] == list(KPI_BY_KEY)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kpi", "nope"], "There is no KPI 'nope'."),
        (["--where", "bogus=1"], "Cannot break down or filter by 'bogus'."),
        (["--where", "region"], "--where needs COLUMN=VALUE"),
        (["--from", "2025-05-01", "--to", "2025-04-01"], "The date range starts after it ends"),
        (["--kpi", "nps", "--by", "product_category"], "Surveys cannot be broken down by"),
    ],
)
def test_kpis_bad_input_is_one_message_with_exit_2(tiny_warehouse, capsys, args, message):
    code, out, err = run(capsys, "kpis", *args)

    assert code == 2
    assert err.startswith("touchpoint: ") and message in err
    assert "Traceback" not in err and out == ""


def test_kpis_on_an_empty_warehouse_says_so(warehouse, capsys):
    code, out, _ = run(capsys, "kpis", "--format", "table")

    assert (code, out.strip()) == (0, "No data in that range.")


def test_cohorts_json(tiny_warehouse, capsys):
    code, out, err = run(capsys, "cohorts", "--period", "month", "--format", "json")

    assert code == 0, err
    records = json.loads(out)
    # Everyone's first completed order is in April 2025; May holds only a returned order.
    assert [(r["cohort"], r["period_index"], r["size"], r["customers"]) for r in records] == [
        ("2025-04", 0, 3, 3),
        ("2025-04", 1, 3, 0),
    ]
    assert [r["value"] for r in records] == [100.0, 0.0]


def test_kpis_on_behalf_of_a_limited_user_see_only_their_rows(
    tiny_warehouse, capsys, tmp_path, monkeypatch
):
    from analytics.accounts import AccountStore

    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")

    store = AccountStore(tmp_path / "accounts.toml")  # the path conftest points the setting at
    store.add("vera", "viewer", "correct horse battery")
    store.set_limits("vera", {"country": ["US"]})

    code, out, _ = run(
        capsys,
        "kpis",
        "--period",
        "quarter",
        "--kpi",
        "revenue",
        "--as-user",
        "vera",
        "--from",
        "2025-04-01",
        "--to",
        "2025-06-30",
        "--format",
        "json",
    )

    assert code == 0
    assert [r["value"] for r in json.loads(out)] == [179.75]


def test_kpis_as_an_unknown_user_is_refused(tiny_warehouse, capsys):
    code, _, err = run(capsys, "kpis", "--as-user", "nobody")

    assert code == 2 and "There is no user called 'nobody'" in err


def test_kpis_on_behalf_of_a_viewer_hide_small_groups(tiny_warehouse, capsys, tmp_path):
    from analytics.accounts import AccountStore

    AccountStore(tmp_path / "accounts.toml").add("vera", "viewer", "correct horse battery")

    code, out, _ = run(
        capsys,
        "kpis",
        "--period",
        "quarter",
        "--kpi",
        "orders",
        "--as-user",
        "vera",
        "--format",
        "json",
    )

    assert code == 0
    assert [r["value"] for r in json.loads(out)] == [None]  # 3 customers, fewer than 5


@pytest.mark.parametrize(
    ("role", "orders", "cohort_value"),
    [("viewer", None, None), ("analyst", 3.0, 100.0), ("admin", 3.0, 100.0)],
)
def test_cli_on_behalf_of_each_role(tiny_warehouse, capsys, tmp_path, role, orders, cohort_value):
    # The tiny quarter has 3 customers: under a viewer's minimum group of 5, so hidden.
    from analytics.accounts import AccountStore

    AccountStore(tmp_path / "accounts.toml").add("someone", role, "correct horse battery")

    _, out, _ = run(
        capsys,
        "kpis",
        "--period",
        "quarter",
        "--kpi",
        "orders",
        "--as-user",
        "someone",
        "--format",
        "json",
    )
    assert [r["value"] for r in json.loads(out)] == [orders]
    _, out, _ = run(capsys, "cohorts", "--as-user", "someone", "--format", "json")
    assert json.loads(out)[0]["value"] == cohort_value
