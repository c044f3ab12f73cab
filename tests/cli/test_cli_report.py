"""`report` on the command line: the JSON object's keys, the planted first highlight, and a
viewer's review computed through their access."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run

from analytics import feedback
from analytics.accounts import AccountStore


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
