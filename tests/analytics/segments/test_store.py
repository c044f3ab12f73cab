"""The stored segmentation: what it holds, that it recovers the planted groups, that its
labels stay put across loads, and that every reader sees only what they may."""

from __future__ import annotations

import json
import shutil
from datetime import date

import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from analytics import segments
from analytics.disclosure import COMPLEMENTARY
from analytics.filters import Filters
from analytics.ingest.pipeline import ingest
from analytics.sample import planted_groups
from analytics.segments import store
from analytics.segments.migration import previous_quarter
from analytics.warehouse import Access, QueryGateway, Warehouse


@pytest.fixture(scope="module")
def sample_segments(sample_warehouse) -> segments.Segmentation:
    segments.refresh(sample_warehouse)
    found = segments.current(sample_warehouse)
    assert found is not None
    return found


@pytest.mark.slow
def test_clusters_recover_the_planted_groups(sample_warehouse, sample_segments):
    people = segments.segment_customers(QueryGateway(sample_warehouse), sample_segments)
    buyers = people.filter(pl.col("cluster").is_not_null()).join(planted_groups(), on="customer_id")

    meta = sample_segments.meta["clusters"]
    assert meta["k"] == 6 and sorted(meta["silhouette"], key=int) == [str(k) for k in range(2, 11)]
    assert adjusted_rand_score(buyers["group"], buyers["cluster"]) >= 0.5
    assert {c["name"] for c in meta["table"]} == {
        "New",
        "Lapsed",
        "Discount-driven low-spend",
        "High-value loyal",
        "Big spenders",
        "Occasional",
    }
    # Every planted new customer is in the "New" cluster, and most of its members are new.
    new = buyers.filter(pl.col("cluster_name") == "New")
    assert (
        new.filter(pl.col("group") == "new").height
        == buyers.filter(pl.col("group") == "new").height
    )
    assert new.filter(pl.col("group") == "new").height / new.height > 0.9


@pytest.mark.slow
def test_the_stored_table_and_meta(sample_warehouse, sample_segments):
    people = pl.read_parquet(sample_segments.path("customers"))
    meta = sample_segments.meta

    assert people.height == 20_000  # every CRM contact, prospects included
    assert people.filter(pl.col("rfm_segment") == "Prospects")["clv"].null_count() == 4_871
    assert meta["as_of"] == "2025-12-31"
    assert set(meta["purchases"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(meta["spend"]["params"]) == {"p", "q", "gamma"}
    holdout = meta["holdout"]
    assert holdout["predicted_total"] == pytest.approx(holdout["actual_total"], rel=0.2)
    quarters = pl.read_parquet(sample_segments.path("quarters"))
    assert quarters["quarter"].unique().sort().to_list()[:2] == ["2023-Q1", "2023-Q2"]
    assert quarters["quarter"].max() == "2025-Q4"


def test_a_segmentation_is_built_once_per_data_version(small_company):
    assert segments.pending(small_company)
    took = segments.refresh(small_company)

    assert took is not None and took > 0
    assert not segments.pending(small_company)
    assert segments.refresh(small_company) is None  # nothing to build


def test_labels_are_the_same_for_the_same_data_and_stay_after_a_small_load(small_company, tmp_path):
    segments.refresh(small_company)
    first = segments.current(small_company)
    assert first is not None
    before = pl.read_parquet(first.path("customers")).select(
        "customer_id", "cluster", "cluster_name"
    )

    # The same data built again from scratch gives the same labels.
    shutil.copytree(small_company.root, tmp_path / "copy")
    shutil.rmtree(tmp_path / "copy" / store.FOLDER)
    copy = Warehouse(tmp_path / "copy")
    segments.refresh(copy)
    again = pl.read_parquet(segments.current(copy).path("customers"))
    assert again.select("customer_id", "cluster", "cluster_name").equals(before)

    # A few more orders: the clusters are matched to the previous ones, names stay.
    extra = b"order_id,customer_id,order_date,amount,status\n" + b"".join(
        f"X{i},C{i:05d},2025-12-30,80.00,completed\n".encode() for i in range(1, 21)
    )
    result = ingest(extra, dataset_name="orders", warehouse=copy, file_name="extra.csv")
    assert result.loaded, result.message
    segments.refresh(copy)
    after = pl.read_parquet(segments.current(copy).path("customers"))
    joined = before.join(
        after.select("customer_id", "cluster", "cluster_name"), on="customer_id", suffix="_after"
    )
    buyers = joined.filter(pl.col("cluster").is_not_null() & pl.col("cluster_after").is_not_null())
    kept = buyers.filter(pl.col("cluster") == pl.col("cluster_after")).height / buyers.height
    assert kept >= 0.95
    ids_to_names = set(before.drop_nulls().select("cluster", "cluster_name").unique().rows())
    assert set(after.drop_nulls().select("cluster", "cluster_name").unique().rows()) == ids_to_names


def test_a_limited_user_sees_only_their_customers_and_no_small_segment(small_company):
    segments.refresh(small_company)
    seg = segments.current(small_company)
    everyone = QueryGateway(small_company)
    germany = Access(limits=(("country", ("Germany",)),), mask_pii=True, min_group=5)
    viewer = everyone.scoped(germany)

    theirs = segments.segment_customers(viewer, seg)
    germans = everyone.query("SELECT customer_id FROM customers WHERE country = 'Germany'")
    assert sorted(theirs["customer_id"].to_list()) == sorted(germans["customer_id"].to_list())

    summary = segments.segment_summary(viewer, seg)
    shown = summary.filter(pl.col("hidden").is_null())
    assert shown["customers"].min() >= 5
    assert summary["customers"].sum() <= theirs.height
    hidden = summary.filter(pl.col("hidden").is_not_null())
    assert hidden.height != 1  # one hidden segment would follow from the total
    assert hidden.select(pl.col("clv", "revenue").null_count()).row(0) == (hidden.height,) * 2
    nps = summary.filter(pl.col("nps_hidden").is_null() & pl.col("nps").is_not_null())
    assert nps["nps_n"].min() >= 5
    assert set(summary["nps_hidden"].drop_nulls()) <= {"fewer than 5 responses", COMPLEMENTARY}


def test_filters_narrow_the_customers_by_attribute_and_by_orders(small_company):
    segments.refresh(small_company)
    seg = segments.current(small_company)
    gateway = QueryGateway(small_company)

    premium = segments.segment_customers(gateway, seg, Filters(plan=("Premium",)))
    app = segments.segment_customers(gateway, seg, Filters(channel=("app",)))

    plans = gateway.query("SELECT customer_id FROM customers WHERE plan = 'Premium'")
    assert sorted(premium["customer_id"].to_list()) == sorted(plans["customer_id"].to_list())
    app_buyers = gateway.query(
        "SELECT DISTINCT customer_id FROM orders WHERE channel = 'app' "
        "AND coalesce(status, 'completed') NOT IN ('returned', 'cancelled')"
    )
    assert sorted(app["customer_id"].to_list()) == sorted(app_buyers["customer_id"].to_list())
    assert "Prospects" not in set(app["rfm_segment"])


def test_migration_counts_add_up_to_the_later_quarter(small_company):
    segments.refresh(small_company)
    seg = segments.current(small_company)
    gateway = QueryGateway(small_company)

    table = segments.segment_migration(gateway, seg, "2025-Q1", "2025-Q2")
    quarters = pl.read_parquet(seg.path("quarters"))

    assert table["customers"].sum() == quarters.filter(pl.col("quarter") == "2025-Q2").height
    shares = table.group_by("from_segment").agg(pl.col("share").sum())
    assert shares["share"].to_list() == pytest.approx([100.0] * shares.height)
    with pytest.raises(Exception, match="There is no quarter '2031-Q1'"):
        segments.segment_migration(gateway, seg, "2031-Q1", "2025-Q2")


def test_the_tiny_company_gets_rfm_segments_without_models(tiny_warehouse):
    segments.refresh(tiny_warehouse)
    seg = segments.current(tiny_warehouse)

    people = segments.segment_customers(QueryGateway(tiny_warehouse), seg)

    assert "3" in seg.meta["models_skipped"]  # n_customers=3 should be >= 4
    # As of the last order (C1's return on 1 May): recency 30, 28 and 21 days give R 1, 2
    # and 4 among three buyers; one order each ties F at 1.
    assert people.select("customer_id", "r", "f", "rfm_segment").rows() == [
        ("C1", 1, 1, "Lost"),
        ("C2", 2, 1, "Hibernating"),
        ("C3", 4, 1, "Promising"),
    ]
    meta = json.loads((seg.folder / f"segments-{seg.key}.json").read_text())
    assert (meta["as_of"], seg.as_of) == ("2025-05-01", date(2025, 5, 1))


def _copy_with_segments(source: Warehouse, target) -> Warehouse:
    shutil.copytree(source.root, target)
    return Warehouse(target)


def _stored_quarters(warehouse: Warehouse) -> tuple[pl.DataFrame, pl.DataFrame]:
    found = segments.current(warehouse)
    assert found is not None
    return pl.read_parquet(found.path("quarters")), pl.read_parquet(found.path("migration"))


@pytest.mark.parametrize(
    ("day", "mode", "scored"),
    [
        ("2026-01-15", "append", ["2026-Q1"]),  # after the data: only the new quarter
        ("2025-12-30", "append", ["2025-Q4"]),  # in the last quarter: that one again
        ("2025-05-02", "append", ["2025-Q2", "2025-Q3", "2025-Q4"]),  # back-dated
        ("2026-01-15", "replace", None),  # rows replaced: every quarter
    ],
)
def test_a_load_scores_again_only_the_quarters_its_orders_reach(
    small_company, tmp_path, monkeypatch, day, mode, scored
):
    segments.refresh(small_company)
    copy = _copy_with_segments(small_company, tmp_path / "copy")
    orders = QueryGateway(copy).query("SELECT * FROM orders ORDER BY order_id")
    extra = pl.DataFrame(
        {
            "order_id": [f"X{i}" for i in range(1, 31)],
            "customer_id": [f"C{i:05d}" for i in range(1, 31)],
            "order_date": [date.fromisoformat(day)] * 30,
            "amount": [25.0 + 7.5 * i for i in range(30)],
            "status": ["completed"] * 25 + ["returned"] * 5,
        }
    )
    rows = pl.concat([orders, extra], how="diagonal_relaxed") if mode == "replace" else extra
    result = ingest(
        rows.write_csv().encode(), dataset_name="orders", warehouse=copy, file_name="more.csv",
        mode=mode,
    )  # fmt: skip
    assert result.loaded, result.message
    calls: list[date | None] = []
    scoring = store.quarter_segments

    def recorded(*args, since=None, **kwargs):
        calls.append(since)
        return scoring(*args, since=since, **kwargs)

    monkeypatch.setattr(store, "quarter_segments", recorded)
    segments.refresh(copy)
    quarters, flows = _stored_quarters(copy)

    if scored is None:
        assert calls == [None]
    else:
        year, quarter = scored[0].split("-Q")
        assert calls == [date(int(year), 3 * int(quarter) - 2, 1)]
    # Everything equals a build from scratch of the same data.
    fresh = _copy_with_segments(copy, tmp_path / "fresh")
    shutil.rmtree(fresh.root / store.FOLDER)
    monkeypatch.setattr(store, "quarter_segments", scoring)
    segments.refresh(fresh)
    expected_quarters, expected_flows = _stored_quarters(fresh)
    assert quarters.equals(expected_quarters)
    assert flows.equals(expected_flows)
    last = quarters["quarter"].max()
    assert last == ("2026-Q1" if day.startswith("2026") else "2025-Q4")
    into_last = flows.filter(
        (pl.col("after") == last) & (pl.col("before") == previous_quarter(last))
    )  # every buyer at the last quarter end comes from somewhere
    assert into_last["customers"].sum() == quarters.filter(pl.col("quarter") == last).height


def test_the_same_orders_keep_every_quarter(small_company, tmp_path, monkeypatch):
    segments.refresh(small_company)
    copy = _copy_with_segments(small_company, tmp_path / "copy")
    before = _stored_quarters(copy)
    people = QueryGateway(copy).query("SELECT * FROM customers")
    result = ingest(
        people.write_csv().encode(), dataset_name="customers", warehouse=copy,
        file_name="crm.csv", mode="replace",
    )  # fmt: skip
    assert result.loaded, result.message
    monkeypatch.setattr(store, "quarter_segments", None)  # never called
    assert segments.pending(copy)
    segments.refresh(copy)
    after = _stored_quarters(copy)
    assert after[0].equals(before[0]) and after[1].equals(before[1])
    assert segments.current(copy).meta["versions"]["customers"] == 1


def test_a_buyer_whose_orders_are_free_is_segmented(small_company, tmp_path):
    copy = _copy_with_segments(small_company, tmp_path / "copy")
    orders = pl.DataFrame(
        {
            "order_id": ["NOAMOUNT1", "NOAMOUNT2"],
            "customer_id": ["ZERO1", "ZERO1"],
            "order_date": [date(2025, 11, 2), date(2025, 12, 1)],
            "amount": [0.0, 0.0],  # free samples
            "status": ["completed", "completed"],
        }
    )
    result = ingest(
        orders.write_csv().encode(), dataset_name="orders", warehouse=copy,
        file_name="samples.csv", mode="append",
    )  # fmt: skip
    assert result.loaded, result.message
    segments.refresh(copy)  # before: the discount share was 0/0, and clustering refused NaN
    found = segments.current(copy)
    assert found is not None and "models_skipped" not in found.meta
    table = pl.read_parquet(found.path("customers"))
    zero = table.filter(pl.col("customer_id") == "ZERO1").row(0, named=True)
    assert (zero["frequency"], zero["revenue"]) == (2, 0.0)
    assert zero["cluster"] is not None
    # Nothing spent: the share is the population's, every buyer's discount over their spend.
    buyers = table.filter(pl.col("frequency") > 0)
    discounts = QueryGateway(copy).query(
        "SELECT sum(coalesce(discount, 0)) AS d FROM orders "
        "WHERE status = 'completed' AND customer_id IS NOT NULL"
    )["d"][0]
    assert zero["feature_discount_share"] == pytest.approx(discounts / buyers["revenue"].sum())
    assert table["feature_discount_share"].is_nan().sum() == 0


def test_a_small_load_leaves_the_clusters_where_they_were(small_company, tmp_path):
    segments.refresh(small_company)
    before = segments.current(small_company)
    assert before is not None and before.meta["clusters"]["started_from_previous"] is False
    copy = _copy_with_segments(small_company, tmp_path / "copy")
    extra = pl.DataFrame(
        {
            "order_id": [f"S{i}" for i in range(30)],
            "customer_id": [f"C{i:05d}" for i in range(1, 61, 2)],
            "order_date": [date(2026, 1, 5)] * 30,
            "amount": [40.0 + i for i in range(30)],
            "status": ["completed"] * 30,
        }
    )
    result = ingest(
        extra.write_csv().encode(), dataset_name="orders", warehouse=copy,
        file_name="week.csv", mode="append",
    )  # fmt: skip
    assert result.loaded, result.message
    segments.refresh(copy)
    after = segments.current(copy)
    assert after is not None and after.key != before.key
    assert after.meta["clusters"]["started_from_previous"] is True
    assert [(c["id"], c["name"]) for c in after.clusters] == [
        (c["id"], c["name"]) for c in before.clusters
    ]
    columns = ["customer_id", "cluster", "cluster_name"]
    then = pl.read_parquet(before.path("customers"), columns=columns)
    now = pl.read_parquet(after.path("customers"), columns=columns)
    kept = now.join(then, on="customer_id", suffix="_before").filter(
        pl.col("cluster").is_not_null()
    )
    assert (kept["cluster"] == kept["cluster_before"]).mean() >= 0.97
