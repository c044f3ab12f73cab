"""The scale generator (bench/scale.py): exact invariants of a tiny company, and its cache."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics.contract import DATASETS
from analytics.warehouse import Warehouse

_PATH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"
_spec = importlib.util.spec_from_file_location("bench_scale", _PATH)
assert _spec is not None and _spec.loader is not None
scale = importlib.util.module_from_spec(_spec)
sys.modules["bench_scale"] = scale  # dataclasses resolve their module by name
_spec.loader.exec_module(scale)

SPEC = scale.ScaleSpec(customers=1_000, orders=12_000, surveys=2_500, tickets=600, seed=5)
ROWS = {"customers": 1_000, "orders": 12_000, "surveys": 2_500, "tickets": 600}


@pytest.fixture(scope="module")
def company() -> dict[str, pl.DataFrame]:
    return scale.scale_company(SPEC)


def test_row_counts(company):
    assert {name: frame.height for name, frame in company.items()} == ROWS


@pytest.mark.parametrize("name", list(ROWS))
def test_columns_and_types_are_the_contracts(company, name):
    assert company[name].schema == pl.Schema(DATASETS[name].schema)


@pytest.mark.parametrize("name", list(ROWS))
def test_keys_are_unique_and_present(company, name):
    key = company[name][DATASETS[name].key]
    assert key.null_count() == 0
    assert key.n_unique() == key.len()


@pytest.mark.parametrize("name", ["orders", "surveys", "tickets"])
def test_every_customer_id_exists(company, name):
    ids = company[name]["customer_id"].drop_nulls()
    assert ids.is_in(company["customers"]["customer_id"].implode()).all()


def test_only_surveys_have_anonymous_rows(company):
    assert company["orders"]["customer_id"].null_count() == 0
    assert company["tickets"]["customer_id"].null_count() == 0
    assert company["surveys"]["customer_id"].null_count() > 0


@pytest.mark.parametrize(
    ("name", "column", "low", "high"),
    [
        ("surveys", "nps", 0, 10),
        ("surveys", "csat", 1, 5),
        ("surveys", "ces", 1, 7),
        ("tickets", "csat", 1, 5),
        ("customers", "birth_year", 1900, 2030),
        ("orders", "quantity", 1, 10),
    ],
)
def test_scores_within_their_range(company, name, column, low, high):
    values = company[name][column].drop_nulls()
    assert values.len() > 0
    assert low <= values.min() <= values.max() <= high


def test_every_survey_row_has_a_score(company):
    scores = company["surveys"].select(
        pl.any_horizontal(pl.col("nps", "csat", "ces").is_not_null())
    )
    assert scores.to_series().all()


def test_activity_falls_in_the_window(company):
    first, last = datetime(2023, 1, 1), datetime(2026, 1, 1)
    orders = company["orders"]["order_date"]
    assert date(2023, 1, 1) <= orders.min() <= orders.max() <= date(2025, 12, 31)
    for name, column in [("surveys", "responded_at"), ("tickets", "opened_at")]:
        values = company[name][column]
        assert first <= values.min() <= values.max() < last


def test_order_statuses_are_the_contracts_or_missing(company):
    statuses = set(company["orders"]["status"].unique().to_list())
    assert statuses <= {"completed", "returned", "cancelled", None}
    assert {"completed", "returned", "cancelled"} <= statuses


def test_amounts_are_positive_cents(company):
    amount = company["orders"]["amount"]
    assert amount.min() > 0
    assert (amount.round(2) == amount).all()
    assert (company["orders"]["discount"] <= amount).all()


def test_tickets_resolve_after_they_open(company):
    tickets = company["tickets"].drop_nulls(["first_response_at", "resolved_at"])
    assert (tickets["first_response_at"] >= tickets["opened_at"]).all()
    assert (tickets["resolved_at"] >= tickets["first_response_at"]).all()


def test_customers_region_matches_country(company):
    pairs = company["customers"].select("country", "region").unique()
    assert pairs["country"].n_unique() == pairs.height
    assert set(pairs["region"]) == {"EMEA", "Americas", "APAC"}


@pytest.mark.parametrize("seed", range(20))
def test_invariants_hold_for_any_seed(seed):
    spec = scale.ScaleSpec(customers=60, orders=400, surveys=120, tickets=40, seed=seed)
    frames = scale.scale_company(spec)
    customer_ids = frames["customers"]["customer_id"].implode()
    for name, frame in frames.items():
        assert frame.schema == pl.Schema(DATASETS[name].schema)
        assert frame[DATASETS[name].key].n_unique() == frame.height
        if name != "customers":
            assert frame["customer_id"].drop_nulls().is_in(customer_ids).all()
    nps = frames["surveys"]["nps"].drop_nulls()
    assert 0 <= nps.min() <= nps.max() <= 10


def test_same_seed_same_data_other_seed_other_data(company):
    again = scale.scale_company(SPEC)
    for name, frame in company.items():
        assert_frame_equal(again[name], frame)
    other = scale.scale_company(scale.ScaleSpec(**{**SPEC.__dict__, "seed": 6}))
    assert not other["orders"].equals(company["orders"])


def test_rejects_an_empty_dataset():
    with pytest.raises(ValueError, match="must be >= 1"):
        scale.scale_company(scale.ScaleSpec(customers=10, orders=0, surveys=1, tickets=1))


def test_build_warehouse_commits_once_and_reuses(tmp_path, company):
    root = tmp_path / "wh"
    built = scale.build_warehouse(root, SPEC)
    assert built["reused"] is False
    assert built["rows"] == ROWS
    warehouse = Warehouse(root)
    assert warehouse.versions() == {**dict.fromkeys(ROWS, 0), "events": None}
    for name, frame in company.items():
        assert_frame_equal(warehouse.read(name), frame)
    marker = json.loads((root / scale.MARKER).read_text(encoding="utf-8"))
    assert marker["spec"] == SPEC.__dict__

    assert scale.build_warehouse(root, SPEC)["reused"] is True
    assert warehouse.versions()["orders"] == 0


def test_build_warehouse_rebuilds_another_spec_in_the_same_folder(tmp_path):
    root = tmp_path / "wh"
    scale.build_warehouse(root, SPEC)
    smaller = scale.ScaleSpec(customers=100, orders=300, surveys=50, tickets=20, seed=5)
    assert scale.build_warehouse(root, smaller)["reused"] is False
    assert Warehouse(root).row_count("orders") == 300


def test_build_warehouse_never_replaces_a_folder_it_did_not_build(tmp_path):
    root = tmp_path / "precious"
    root.mkdir()
    (root / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="not replacing it"):
        scale.build_warehouse(root, SPEC)
    assert (root / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_build_warehouse_replaces_an_interrupted_build(tmp_path):
    root = tmp_path / "wh"
    root.mkdir()
    (root / scale.BUILDING).write_text("{}", encoding="utf-8")
    (root / "orders").mkdir()
    assert scale.build_warehouse(root, SPEC)["reused"] is False
    assert not (root / scale.BUILDING).exists()
    assert Warehouse(root).row_count("orders") == ROWS["orders"]


def test_build_warehouse_rebuilds_what_an_older_generator_built(tmp_path):
    root = tmp_path / "wh"
    scale.build_warehouse(root, SPEC)
    marker = root / scale.MARKER
    stale = json.loads(marker.read_text(encoding="utf-8")) | {"version": 0}
    marker.write_text(json.dumps(stale), encoding="utf-8")
    assert scale.build_warehouse(root, SPEC)["reused"] is False


def test_events_follow_each_customers_journey():
    spec = scale.ScaleSpec(customers=500, orders=2_000, surveys=300, tickets=100, seed=4,
                           events=6_000)  # fmt: skip
    data = scale.scale_company(spec)
    events = data["events"]

    assert events.height == 6_000
    assert events.columns == list(DATASETS["events"].column_names)
    assert events["event_id"].n_unique() == 6_000
    assert set(events["customer_id"]) <= set(data["customers"]["customer_id"])
    # a checkout per order, on the order's day
    checkouts = events.filter(pl.col("touchpoint") == "Checkout")
    assert checkouts.height == 2_000
    assert sorted(checkouts["occurred_at"].dt.date().to_list()) == sorted(
        data["orders"]["order_date"].to_list()
    )
    assert set(events["stage"]) == {
        "awareness", "consideration", "purchase", "onboarding", "service", "loyalty",
    }  # fmt: skip
    assert spec.folder_name == "journeys_500_6000_4"
    assert scale.ScaleSpec().folder_name == "kpis_1000000_1"


def test_events_in_chunks_are_the_events_drawn_at_once():
    spec = scale.ScaleSpec(customers=300, orders=1_000, surveys=100, tickets=50, seed=2,
                           events=4_000)  # fmt: skip
    at_once = list(scale.generate(spec))
    chunked = list(scale.generate(spec, chunk_rows=700))

    pieces = [frame for name, frame in chunked if name == "events"]
    assert [frame.height for frame in pieces] == [700] * 5 + [500]
    whole = [frame for name, frame in at_once if name == "events"]
    assert len(whole) == 1
    assert_frame_equal(pl.concat(pieces), whole[0])
    assert whole[0]["event_id"][0] == "E0001"  # one width, no gaps across chunks
    assert pieces[-1]["event_id"][-1] == "E4000"


def test_one_chunk_draws_what_the_unchunked_generator_drew(company):
    # Companies cached under bench/out (GENERATOR_VERSION 2) stay valid only if a dataset
    # within one chunk is drawn exactly as before chunking: values pinned from that generator.
    orders = company["orders"]
    assert round(orders["amount"].sum(), 2) == 853230.13
    assert orders.row(0) == ("O00001", "C0492", date(2023, 1, 1), 61.16, 3, "Hiking backpack",
                             "Outdoor", "web", "completed", 0.0)  # fmt: skip
    assert orders.row(-1)[:4] == ("O12000", "C0964", date(2025, 12, 31), 108.31)
    assert company["surveys"]["nps"].sum() == 17710
    assert company["surveys"].row(0)[:3] == ("R0001", "C0662", datetime(2023, 1, 2, 22, 19, 11))
    assert company["tickets"]["csat"].sum() == 759


@pytest.fixture(scope="module")
def chunked() -> dict[str, pl.DataFrame]:
    return scale.scale_company(SPEC, chunk_rows=1_000)


def test_chunks_make_one_dataset_in_row_order(chunked, company):
    assert {name: frame.height for name, frame in chunked.items()} == ROWS
    assert_frame_equal(chunked["customers"], company["customers"])
    for name, key, when in [("orders", "order_id", "order_date"),
                            ("surveys", "response_id", "responded_at"),
                            ("tickets", "ticket_id", "opened_at")]:  # fmt: skip
        frame = chunked[name]
        assert frame.schema == pl.Schema(DATASETS[name].schema)
        assert frame[key].to_list() == company[name][key].to_list()  # one width, no gaps
        assert frame[when].is_sorted()
        assert (
            frame["customer_id"]
            .drop_nulls()
            .is_in(company["customers"]["customer_id"].implode())
            .all()
        )
    # The orders' customers and days are drawn before the chunks: the same at any chunk size.
    assert_frame_equal(
        chunked["orders"].select("customer_id", "order_date"),
        company["orders"].select("customer_id", "order_date"),
    )


def test_chunks_are_the_same_for_the_same_spec(chunked):
    again = scale.scale_company(SPEC, chunk_rows=1_000)
    for name, frame in chunked.items():
        assert_frame_equal(again[name], frame)


def test_build_warehouse_appends_the_later_chunks(tmp_path, monkeypatch, chunked):
    monkeypatch.setattr(scale, "CHUNK_ROWS", 5_000)  # orders 3 chunks, the others 1
    built = scale.build_warehouse(tmp_path / "wh", SPEC)
    assert built["rows"] == ROWS
    assert built["commits"] == {"customers": 1, "orders": 3, "surveys": 1, "tickets": 1}
    warehouse = Warehouse(tmp_path / "wh")
    loads = [r for r in reversed(warehouse.history("orders")) if r.action == "load"]
    assert [(r.mode, r.rows_loaded) for r in loads] == [
        ("replace", 5_000), ("append", 5_000), ("append", 2_000),
    ]  # fmt: skip
    expected = scale.scale_company(SPEC, chunk_rows=5_000)["orders"]
    assert_frame_equal(warehouse.read("orders").sort("order_id"), expected)  # files unordered
