"""`feedback themes|drivers|sentiment|dictionary` on the command line: exact keys, the
planted truths, access and small-group hiding for viewers, and the analysts' dictionary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run, sample_company, use_company

from analytics import audit

THEME_KEYS = [
    "theme", "label", "top_terms", "comments", "share", "share_previous", "change", "p_value",
    "sentiment", "nps",
]  # fmt: skip


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-feedback")
    return sample_company(root, customers=3_000, seed=5)


@pytest.fixture
def env(company, tmp_path, monkeypatch):
    """A copy of the company (the dictionary tests change its settings)."""
    return use_company(company, monkeypatch, copy_to=tmp_path)


def test_themes_have_exactly_the_issue_keys_and_delivery_grows_first(env, capsys):
    code, out, err = run(
        capsys, "feedback", "themes", "--quarter", "2025-Q2", "--nps-group", "detractor",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    records = json.loads(out)
    assert all(list(r) == THEME_KEYS for r in records)
    top = records[0]
    assert top["label"].startswith("delivery") and isinstance(top["top_terms"], list)
    assert top["change"] == pytest.approx(top["share"] - top["share_previous"])
    # A smaller company than the committed sample: the rise is as large, its p-value larger.
    assert top["change"] > 0.2 and 0 < top["p_value"] < 0.1
    changes = [r["change"] for r in records]
    assert changes == sorted(changes, reverse=True)

    code, out, _ = run(capsys, "feedback", "themes", "--format", "json")
    volume = json.loads(out)
    assert [r["comments"] for r in volume] == sorted((r["comments"] for r in volume), reverse=True)
    assert sum(r["share"] for r in volume) == pytest.approx(1.0)
    assert {r["share_previous"] for r in volume} == {None}


def test_drivers_have_the_issue_keys_in_the_planted_order(env, capsys):
    code, out, err = run(capsys, "feedback", "drivers", "--format", "json")
    assert code == 0, err
    records = json.loads(out)
    assert all(
        list(r) == ["driver", "importance", "performance", "quadrant", "r2", "n"] for r in records
    )
    ratings = [r["driver"] for r in records if r["driver"].endswith("rating")]
    assert ratings == [
        "Delivery speed rating", "Product quality rating", "Value for money rating",
        "Website ease rating",
    ]  # fmt: skip
    assert sum(r["importance"] for r in records) == pytest.approx(1.0)
    assert len({r["r2"] for r in records}) == 1 and records[0]["n"] > 100


def test_sentiment_per_quarter_and_a_viewers_small_groups(env, capsys, monkeypatch):
    code, out, err = run(capsys, "feedback", "sentiment", "--period", "quarter", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert list(rows[0]) == [
        "period", "comments", "sentiment", "positive", "negative", "responses", "nps"
    ]  # fmt: skip
    assert rows[0]["period"] == "2023-Q1"

    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "60")
    code, out, err = run(
        capsys, "feedback", "sentiment", "--period", "month", "--as-user", "vic", "--format",
        "json",
    )  # fmt: skip
    assert code == 0, err
    hidden = [r for r in json.loads(out) if r.get("hidden")]
    assert hidden and all(r["comments"] is None and r["sentiment"] is None for r in hidden)
    assert all(r["hidden"] == "fewer than 60 comments" for r in hidden)


def test_the_dictionary_is_kept_audited_and_wins(env, capsys):
    code, out, err = run(
        capsys, "feedback", "dictionary", "--set-theme", "Couriers=courier, tracking",
        "--as-user", "ana", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == [{"theme": "Couriers", "keywords": ["courier", "tracking"]}]
    entry = audit.read_log(env, newest=1).row(0, named=True)
    assert (entry["event"], entry["user"]) == ("settings_change", "ana")

    code, out, _ = run(capsys, "feedback", "themes", "--format", "json")
    couriers = next(r for r in json.loads(out) if r["theme"] == "d:Couriers")
    assert couriers["label"] == "Couriers" and couriers["comments"] > 0


def test_bad_input_and_viewers_changing_themes_get_clear_messages(env, capsys):
    code, _, err = run(capsys, "feedback", "dictionary", "--set-theme", "X", "--as-user", "ana")
    assert code == 2 and "--set-theme takes THEME=WORD,WORD; got 'X'" in err
    code, _, err = run(capsys, "feedback", "dictionary", "--themes", "99")
    assert code == 2 and "Choose 2 to 30 themes (or automatic); got 99" in err
    code, _, err = run(capsys, "feedback", "dictionary", "--themes", "4", "--as-user", "vic")
    assert code == 2 and "vic may not change the themes (analysts may)" in err
    code, _, err = run(capsys, "feedback", "themes", "--quarter", "2025-5")
    assert code == 2 and "'2025-5' is not a quarter" in err
    code, _, err = run(capsys, "feedback", "themes", "--themes", "4")
    assert code == 2 and "change `feedback dictionary`" in err
    assert not (env / "_settings" / "feedback.json").exists()
