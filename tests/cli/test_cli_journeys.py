"""`journeys paths|funnel|map|painpoints` on the command line: exact keys, the planted drop,
access and small-group hiding for viewers."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from cli_helpers import run, sample_company, use_company

FUNNEL_KEYS = [
    "group",
    "step",
    "stage",
    "customers",
    "conversion_from_previous",
    "conversion_from_start",
    "median_days_from_previous",
    "p90_days_from_previous",
]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-journeys")
    return sample_company(root, customers=3_000, seed=5, analyst_limited=True)


@pytest.fixture
def env(company, monkeypatch):
    use_company(company, monkeypatch)
    return company


def test_funnel_records_have_exactly_the_issue_keys(env, capsys):
    code, out, err = run(capsys, "journeys", "funnel", "--format", "json")

    assert code == 0, err
    records = json.loads(out)
    assert [list(r) for r in records] == [FUNNEL_KEYS] * 6
    assert [r["stage"] for r in records] == [
        "awareness", "consideration", "purchase", "onboarding", "service", "loyalty",
    ]  # fmt: skip
    assert {r["group"] for r in records} == {"all"}
    assert records[0]["customers"] == 3_000 and records[0]["conversion_from_start"] == 1.0
    for before, after in itertools.pairwise(records):
        assert after["conversion_from_previous"] == pytest.approx(
            after["customers"] / before["customers"]
        )


def test_the_planted_drop_is_paid_socials_top_pain_point(env, capsys):
    code, out, err = run(
        capsys, "journeys", "painpoints", "--by", "acquisition_channel", "--format", "json"
    )

    assert code == 0, err
    records = json.loads(out)
    assert all(
        list(r) == ["group", "rank", "stage", "touchpoint", "score", "reason"] for r in records
    )
    top = next(r for r in records if r["group"] == "Paid Social" and r["rank"] == 1)
    assert top["stage"] == "consideration" and "never reached purchase" in top["reason"]


def test_paths_have_the_issue_keys_and_shares_of_all_journeys(env, capsys):
    code, out, err = run(capsys, "journeys", "paths", "--steps", "3", "--format", "json")

    assert code == 0, err
    records = json.loads(out)
    assert records and all(list(r) == ["path", "customers", "share", "conversion"] for r in records)
    assert all(1 <= len(r["path"]) <= 3 for r in records)
    first = records[0]
    assert first["share"] == pytest.approx(first["customers"] / 3_000)
    assert [r["customers"] for r in records] == sorted(
        (r["customers"] for r in records), reverse=True
    )


def test_a_limited_user_sees_only_their_customers(env, capsys):
    _, everyone, _ = run(capsys, "journeys", "funnel", "--format", "json")
    _, emea, _ = run(capsys, "journeys", "funnel", "--where", "region=EMEA", "--format", "json")
    code, limited, err = run(capsys, "journeys", "funnel", "--as-user", "ana", "--format", "json")

    assert code == 0, err
    assert json.loads(limited) == json.loads(emea)
    assert json.loads(limited)[0]["customers"] < json.loads(everyone)[0]["customers"]


def test_viewers_get_small_groups_hidden_with_the_reason(env, capsys, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "50")
    code, out, err = run(
        capsys, "journeys", "funnel", "--by", "country", "--as-user", "vic", "--format", "json"
    )

    assert code == 0, err
    records = json.loads(out)
    hidden = [r for r in records if r["hidden"]]
    assert hidden and all(r["customers"] is None for r in hidden)
    assert all(r["customers"] >= 50 for r in records if not r["hidden"] and r["customers"])
    assert {r["hidden"] for r in hidden} <= {
        "fewer than 50 customers",
        "hidden so that a smaller group beside it cannot be worked out from the total",
    }


def test_csv_flattens_the_lists(env, capsys):
    code, out, err = run(capsys, "journeys", "map", "--format", "csv")

    assert code == 0, err
    header, first = out.splitlines()[:2]
    assert header.split(",")[:4] == ["group", "step", "stage", "customers"]
    assert "(" in first  # touchpoints as "name (customers); ..."


def test_bad_input_gets_a_clear_message(env, capsys):
    code, _, err = run(capsys, "journeys", "paths", "--steps", "1")
    assert code != 0 and "Paths need 2 to 20 steps; got 1." in err
    code, _, err = run(capsys, "journeys", "paths", "--by", "region")
    assert code != 0 and "leave out --by" in err


@pytest.mark.parametrize("view", ["funnel", "painpoints", "paths", "map"])
def test_the_stored_view_of_all_dates_equals_the_steps_read_over_all_dates(env, capsys, view):
    by = [] if view == "paths" else ["--by", "plan"]
    _, stored, _ = run(capsys, "journeys", view, *by, "--format", "json")
    code, read, err = run(
        capsys, "journeys", view, *by, "--from", "2000-01-01", "--to", "2099-12-31",
        "--format", "json",
    )  # fmt: skip

    assert code == 0, err
    assert json.loads(read) == json.loads(stored)


@pytest.fixture
def own_copy(company, tmp_path, monkeypatch):
    """A copy of the company that a test may change (the journey settings)."""
    return use_company(company, monkeypatch, copy_to=tmp_path)


STAGE_KEYS = ["touchpoint", "exported", "events", "customers", "stage", "decided_by"]


def test_stages_list_every_touchpoint_and_analysts_change_them(own_copy, capsys):
    from analytics import audit

    code, out, err = run(capsys, "journeys", "stages", "--format", "json")
    assert code == 0, err
    before = json.loads(out)
    assert all(list(r) == STAGE_KEYS for r in before)
    guide = next(r for r in before if r["touchpoint"] == "Size guide")
    assert (guide["stage"], guide["decided_by"]) == ("consideration", "export")

    code, out, err = run(
        capsys, "journeys", "stages", "--set", "Size guide=awareness", "--map-first",
        "--as-user", "ana", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    after = {r["touchpoint"]: r for r in json.loads(out)}
    assert (after["Size guide"]["stage"], after["Size guide"]["decided_by"]) == (
        "awareness", "map"
    )  # fmt: skip
    entry = audit.read_log(own_copy, newest=1).row(0, named=True)
    assert (entry["event"], entry["user"]) == ("settings_change", "ana")
    assert "set=Size guide=awareness" in entry["details"]

    # The journeys were rebuilt with it: the size guide is used at awareness now.
    code, out, err = run(capsys, "journeys", "map", "--format", "json")
    used = {r["stage"]: [t["touchpoint"] for t in r["touchpoints"]] for r in json.loads(out)}
    assert "Size guide" in used["awareness"] and "Size guide" not in used["consideration"]


def test_viewers_may_not_change_stages_and_bad_changes_are_named(own_copy, capsys):
    code, _, err = run(capsys, "journeys", "stages", "--unset", "Checkout", "--as-user", "vic")
    assert code == 2 and "vic may not change the journey stages (analysts may)" in err
    code, _, err = run(capsys, "journeys", "stages", "--set", "Checkout")
    assert code == 2 and "--set takes TOUCHPOINT=STAGE; got 'Checkout'" in err
    code, _, err = run(capsys, "journeys", "stages", "--set", "Checkout=later")
    assert code == 2 and "'checkout' -> 'later'" in err
    code, _, err = run(capsys, "journeys", "funnel", "--reset")
    assert code == 2 and "change `journeys stages`" in err
    assert not (own_copy / "_settings" / "journeys.json").exists()  # nothing was kept
