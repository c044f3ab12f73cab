"""`segments`, `segments migration` and `clv` on the command line: exact keys, access."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run, sample_company, use_company

from analytics.segments.features import FEATURES

RFM_KEYS = [
    "customer_id",
    "segment",
    "r",
    "f",
    "m",
    "recency_days",
    "frequency",
    "monetary",
    "revenue",
    "tenure_days",
    "discount_share",
]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-segments")
    return sample_company(root, customers=1_000, seed=11)


@pytest.fixture
def env(company, monkeypatch):
    use_company(company, monkeypatch)
    return company


def test_segments_json_has_one_record_per_customer_with_exactly_the_rfm_keys(env, capsys):
    code, out, err = run(capsys, "segments", "--format", "json")

    assert code == 0, err
    records = json.loads(out)
    assert len(records) == 1_000
    assert all(list(r) == RFM_KEYS for r in records)
    prospects = [r for r in records if r["segment"] == "Prospects"]
    assert prospects and all(r["r"] is None and r["frequency"] == 0 for r in prospects)


def test_segments_by_clusters_have_the_features(env, capsys):
    code, out, err = run(capsys, "segments", "--method", "kmeans", "--format", "json")

    assert code == 0, err
    first = json.loads(out)[0]
    assert list(first) == [
        "customer_id",
        "segment",
        "cluster",
        *[f"feature_{f.name}" for f in FEATURES],
        "frequency",
        "revenue",
    ]


def test_segments_with_a_chosen_k_and_date_are_computed_on_the_spot(env, capsys):
    code, out, err = run(
        capsys,
        "segments",
        "--method",
        "gmm",
        "--k",
        "3",
        "--as-of",
        "2025-06-30",
        "--format",
        "json",
    )

    assert code == 0, err
    records = json.loads(out)
    named = {r["segment"] for r in records if r["cluster"] is not None}
    assert len(named) == 3


def test_a_viewer_gets_no_customer_records_but_a_summary_of_their_region(env, capsys):
    code, _, err = run(capsys, "segments", "--as-user", "vic", "--format", "json")
    assert code == 2 and "customer-level output is for analysts and admins" in err

    code, out, err = run(capsys, "segments", "--summary", "--as-user", "vic", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    _, everyone, _ = run(capsys, "segments", "--summary", "--format", "json")
    theirs = sum(r["customers"] or 0 for r in summary)
    assert 0 < theirs < sum(r["customers"] for r in json.loads(everyone))
    assert all(r["customers"] is None or r["customers"] >= 5 for r in summary)


def test_segments_migration_json_keys(env, capsys):
    code, out, err = run(
        capsys, "segments", "migration", "--from", "2025-Q1", "--to", "2025-Q2", "--format", "json"
    )

    assert code == 0, err
    records = json.loads(out)
    assert records and all(
        list(r) == ["from_segment", "to_segment", "customers", "share", "hidden"] for r in records
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["segments", "migration", "--from", "2025-Q1"], "needs --from QUARTER and --to QUARTER"),
        (["segments", "migration", "--from", "1999-Q1", "--to", "2025-Q2"], "no quarter '1999-Q1'"),
        (["segments", "--from", "2025-Q1"], "--from and --to belong to `segments migration`"),
        (["segments", "--method", "kmeans", "--k", "0"], "'n_clusters' parameter"),
    ],
)
def test_bad_segment_arguments_get_one_clear_message(env, capsys, args, message):
    code, _, err = run(capsys, *args)

    assert code == 2 and message in err and "Traceback" not in err


def test_clv_json_has_the_model_parameters_and_the_holdout(env, capsys):
    code, out, err = run(capsys, "clv", "--customers")

    assert code == 0, err
    output = json.loads(out)
    assert list(output) == [
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "gamma",
        "standard_errors",
        "calibration_end",
        "unit_days",
        "holdout",
        "customers",
    ]
    assert all(output[k] > 0 for k in ("r", "alpha", "a", "b", "p", "q", "gamma"))
    assert output["holdout"]["actual_total"] > 0
    assert {"customer_id", "p_alive", "purchases_365d", "clv"} <= set(output["customers"][0])


def test_clv_without_a_holdout_when_calibrating_on_everything(env, capsys):
    code, out, err = run(capsys, "clv", "--calibration-end", "2025-12-31")

    assert code == 0, err
    assert json.loads(out)["holdout"] is None
