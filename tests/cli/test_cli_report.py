"""`report` on the command line: the JSON object's keys, the planted first highlight, and a
viewer's review computed through their access."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_helpers import run

from analytics import audit, derived, feedback
from analytics.accounts import AccountStore
from analytics.warehouse import Warehouse


@pytest.fixture
def env(sample_warehouse, tmp_path, monkeypatch):
    feedback.refresh(sample_warehouse)
    store = AccountStore(tmp_path / "accounts.toml")
    store.add("vic", "viewer", "correct horse battery")
    store.set_limits("vic", {"region": ["EMEA"]})
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    monkeypatch.setenv("TOUCHPOINT_ACCOUNTS", str(tmp_path / "accounts.toml"))
    monkeypatch.setenv("TOUCHPOINT_USER", "tester")
    return sample_warehouse


@pytest.mark.slow
def test_report_json_has_the_issue_keys_and_the_planted_first_highlight(env, capsys):
    code, out, err = run(capsys, "report", "--quarter", "2025-Q2", "--format", "json")
    assert code == 0, err
    record = json.loads(out)
    assert list(record) == ["quarter", "data_versions", "scorecard", "highlights", "movers"]
    assert record["quarter"] == "2025-Q2"
    assert record["data_versions"] == dict(env.versions())
    first = record["highlights"][0]
    assert list(first) == ["rank", "text", "kpi", "significant", "link"]
    assert (first["rank"], first["kpi"], first["significant"]) == (1, "nps", True)
    assert "delivery" in first["text"] and "Delivery tickets" in first["text"]
    assert {r["kpi"] for r in record["scorecard"]} >= {"nps", "csat", "revenue", "tickets"}
    assert set(record["movers"]) >= {"region", "acquisition_channel", "themes"}


@pytest.mark.slow
def test_a_viewers_report_is_their_regions_and_bad_quarters_are_named(env, capsys):
    code, out, err = run(
        capsys, "report", "--quarter", "2025-Q2", "--as-user", "vic", "--format", "json"
    )
    assert code == 0, err
    mine = json.loads(out)
    code, out, _ = run(
        capsys, "report", "--quarter", "2025-Q2", "--where", "region=EMEA", "--format", "json"
    )
    emea = json.loads(out)
    orders = [
        next(r["value"] for r in doc["scorecard"] if r["kpi"] == "orders") for doc in (mine, emea)
    ]
    assert orders[0] == orders[1]
    code, _, err = run(capsys, "report", "--quarter", "2025-Q5")
    assert code == 2 and "'2025-Q5' is not a quarter" in err


@pytest.fixture
def copied(sample_warehouse, tmp_path, monkeypatch):
    """A copy of the sample warehouse with everything built, which a test may load into."""
    derived.refresh(sample_warehouse)
    target = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse.root, target)
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(target))
    monkeypatch.setenv("TOUCHPOINT_ACCOUNTS", str(tmp_path / "accounts.toml"))
    monkeypatch.setenv("TOUCHPOINT_USER", "tester")
    return Warehouse(target)


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _nps(document: dict) -> float:
    return next(r["value"] for r in document["scorecard"] if r["kpi"] == "nps")


@pytest.mark.slow
def test_a_review_replayed_as_of_its_versions_is_the_same_after_a_new_load(
    copied, tmp_path, capsys
):
    code, out, err = run(capsys, "report", "--quarter", "2025-Q2", "--format", "json")
    assert code == 0, err
    before = json.loads(out)
    answers = tmp_path / "more-answers.csv"
    answers.write_text(
        "response_id,customer_id,responded_at,nps\n"
        + "".join(f"LATE{i},C{i + 1:05d},2025-05-15 10:00:00,10\n" for i in range(300))
    )
    code, _, err = run(capsys, "ingest", "--dataset", "surveys", "--mode", "append", str(answers))
    assert code == 0, err

    code, out, _ = run(capsys, "report", "--quarter", "2025-Q2", "--format", "json")
    after = json.loads(out)
    assert after["data_versions"]["surveys"] == before["data_versions"]["surveys"] + 1
    assert _nps(after) > _nps(before) + 5  # 300 more promoters in the quarter

    replay = ",".join(f"{k}={v}" for k, v in before["data_versions"].items() if v is not None)
    code, out, err = run(
        capsys, "report", "--quarter", "2025-Q2", "--as-of-versions", replay, "--format", "json"
    )
    assert code == 0, err
    # The same numbers (sums of money may differ in the last bits: DuckDB adds in parallel).
    assert _rounded(json.loads(out)) == _rounded(before)


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ("orders=99", "There is no version 99 of orders: its versions are 0 to 0."),
        ("orders=x", "--as-of-versions: the version of orders must be a whole number, not 'x'."),
        ("shipments=1", "'shipments=1' is not one."),
        ("", "--as-of-versions names no dataset version."),
    ],
)
def test_replay_versions_that_do_not_exist_are_named(env, capsys, versions, message):
    code, out, err = run(capsys, "report", "--quarter", "2025-Q2", "--as-of-versions", versions)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_report_writes_a_self_contained_html_file_and_audits_it(env, tmp_path, capsys):
    target = tmp_path / "q2.html"
    code, out, err = run(
        capsys, "report", "--quarter", "2025-Q2", "--format", "html", "--out", str(target)
    )
    assert code == 0, err
    assert out.startswith("Wrote the 2025-Q2 review to ") and str(target) in out
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>Quarterly review 2025-Q2</title>" in text
    assert "NPS fell 16.5 points to 11.9" in text and "p &lt; 0.001" in text
    entry = audit.read_log(env.root, newest=1).row(0, named=True)
    assert entry["event"] == "export" and entry["user"] == "tester"
    assert "format=html" in entry["details"] and "what=report" in entry["details"]
    code, _, err = run(
        capsys, "report", "--quarter", "2025-Q2", "--format", "html", "--out",
        str(tmp_path / "missing" / "q2.html"),
    )  # fmt: skip
    assert code == 2 and "Cannot write the review to" in err
