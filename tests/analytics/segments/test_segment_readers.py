"""The segment pages' other readers, for everyone and for limited users: drill lists picked
where the stored table is read, counts counted there, and what the build stores for everyone
(the projection, who to call) equal to what the stored customers give, to the customer."""

from __future__ import annotations

import dataclasses
import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import segments
from analytics.errors import ConfigError
from analytics.filters import Filters
from analytics.ingest.pipeline import ingest
from analytics.segments import fading, profiles
from analytics.segments.visible import customer_names
from analytics.warehouse import Access, QueryGateway, Warehouse

GERMANY = Access(limits=(("country", ("Germany",)),), mask_pii=True, min_group=5)
USERS = {
    "everyone": (Access(), Filters()),
    "viewer of everyone": (Access(mask_pii=True, min_group=5), Filters()),
    "germany": (GERMANY, Filters()),
    "premium plan": (Access(), Filters(plan=("Premium",))),
    "app orders": (Access(min_group=3), Filters(channel=("app",))),
}


@pytest.fixture(scope="module")
def built(small_company):
    segments.refresh(small_company)
    return QueryGateway(small_company), segments.current(small_company)


def _members_by_hand(gateway, seg, segment, filters, method, limit):
    """What the members list was picked as before: every member read, then sorted."""
    people = segments.segment_customers(gateway, seg, filters, method).filter(
        pl.col("segment") == segment
    )
    if 0 < people.height < gateway.access.min_group:
        return people.head(0)
    ordered = people.sort(
        ["clv", "revenue", "customer_id"], descending=[True, True, False], nulls_last=True
    ).head(limit)
    keep = [c for c in segments.MEMBER_COLUMNS if c in ordered.columns]
    names = customer_names(gateway, ordered["customer_id"].to_list(), plan=True)
    joined = ordered.select(keep).join(names, on="customer_id", how="left", maintain_order="left")
    front = ["customer_id", "name", "country", "plan"]
    return joined.select(front + [c for c in joined.columns if c not in front])


@pytest.mark.parametrize("user", list(USERS))
@pytest.mark.parametrize("method", ["rfm", "cluster"])
def test_members_are_the_segments_first_customers_by_value(built, user, method):
    gateway, seg = built
    access, filters = USERS[user]
    viewer = gateway.scoped(access)
    for segment in segments.segment_summary(gateway, seg, method=method)["segment"]:
        for limit in (5_000, 7):
            found = segments.members(viewer, seg, segment, filters, method, limit=limit)
            expected = _members_by_hand(viewer, seg, segment, filters, method, limit)
            assert_frame_equal(found, expected)


def test_a_segment_under_the_minimum_lists_nobody(built):
    gateway, seg = built
    strict = gateway.scoped(Access(min_group=10_000))
    found = segments.members(strict, seg, "Champions")
    assert found.is_empty()
    assert found.columns == [*pl.read_parquet_schema(seg.path("customers")), "segment"]


@pytest.mark.parametrize("user", list(USERS))
def test_trend_and_grid_count_the_users_customers(built, user):
    gateway, seg = built
    access, filters = USERS[user]
    viewer = gateway.scoped(access)
    ids = segments.segment_customers(viewer, seg, filters).select("customer_id")
    quarters = pl.read_parquet(seg.path("quarters")).join(ids, on="customer_id", how="semi")

    trend = segments.segment_trend(viewer, seg, filters)
    counted = quarters.group_by("rfm_segment", "quarter").agg(n=pl.len())
    assert trend.height == counted["rfm_segment"].n_unique() * counted["quarter"].n_unique()
    keys = trend.select("segment", "quarter").rows()
    assert keys == sorted(keys)
    shown = trend.filter(pl.col("hidden").is_null()).join(
        counted, left_on=["segment", "quarter"], right_on=["rfm_segment", "quarter"], how="left"
    )
    assert shown["customers"].to_list() == shown["n"].fill_null(0).to_list()
    assert trend.schema["customers"] == pl.UInt32

    grid = segments.rfm_grid(viewer, seg, filters)
    buyers = segments.segment_customers(viewer, seg, filters).filter(pl.col("r").is_not_null())
    cells = buyers.group_by("r", "f").agg(n=pl.len())
    assert grid.height == 25
    shown = grid.filter(pl.col("hidden").is_null()).join(cells, on=["r", "f"], how="left")
    assert shown["customers"].to_list() == shown["n"].fill_null(0).to_list()
    if access.min_group == 0:
        assert grid["customers"].sum() == buyers.height


def test_the_stored_projection_and_fading_list_are_everyones(built, monkeypatch):
    gateway, seg = built
    projected = profiles.projected(gateway, seg, sample=500)
    assert_frame_equal(pl.read_parquet(seg.path(profiles.PART)), profiles.projected(gateway, seg))
    assert_frame_equal(segments.projection(gateway, seg, sample=500), projected)
    rows = fading.fading_rows(gateway, seg)
    assert_frame_equal(pl.read_parquet(seg.path(fading.PART)), rows)

    monkeypatch.setattr(profiles, "projected", _not_called)
    monkeypatch.setattr(fading, "fading_rows", _not_called)
    points = segments.projection(gateway.scoped(Access(min_group=5)), seg, Filters())
    assert_frame_equal(points, pl.read_parquet(seg.path(profiles.PART)))
    calls = segments.fading_customers(gateway, seg)
    assert calls["customer_id"].to_list() == rows["customer_id"].to_list()
    assert_frame_equal(segments.fading_customers(gateway, seg, limit=10), calls.head(10))


@pytest.mark.parametrize("user", ["germany", "premium plan", "app orders"])
def test_limited_users_get_their_own_projection_and_fading_list(built, user):
    gateway, seg = built
    access, filters = USERS[user]
    viewer = gateway.scoped(access)
    theirs = set(segments.segment_customers(viewer, seg, filters)["customer_id"])

    points = segments.projection(viewer, seg, filters)
    assert_frame_equal(points, profiles.projected(viewer, seg, filters))
    assert set(points["customer_id"]) <= theirs

    calls = segments.fading_customers(viewer, seg, filters)
    rows = fading.fading_rows(viewer, seg, filters)
    assert calls["customer_id"].to_list() == rows["customer_id"].to_list()
    assert set(calls["customer_id"]) <= theirs and 0 < calls.height < rows["fading"][0] + 1
    everyone = fading.fading_rows(gateway, seg)
    assert rows["fading"][0] < everyone["fading"][0]


def _not_called(*args, **kwargs):
    raise AssertionError("a user who sees every customer reads what the build stored")


def _stored_history(seg, customer_id):
    return (
        pl.read_parquet(seg.path("quarters"))
        .filter(pl.col("customer_id") == customer_id)
        .sort("quarter")
        .select("quarter", "rfm_segment")
    )


def test_one_customers_segments_are_their_stored_row_and_quarters(built):
    gateway, seg = built
    stored = pl.read_parquet(seg.path("customers"))
    german = gateway.query("SELECT customer_id FROM customers WHERE country = 'Germany'")
    customer = stored.filter(~pl.col("customer_id").is_in(german["customer_id"].implode()))[
        "customer_id"
    ][0]

    row, history = segments.customer_segments(gateway, seg, customer)

    assert row == stored.filter(pl.col("customer_id") == customer).row(0, named=True)
    assert history.height > 0
    assert_frame_equal(history, _stored_history(seg, customer))
    hidden = segments.customer_segments(gateway.scoped(GERMANY), seg, customer)
    assert hidden[0] is None and hidden[1].is_empty()
    unknown = segments.customer_segments(gateway, seg, "NOPE' OR 1=1 --")
    assert unknown[0] is None and unknown[1].is_empty()


def test_a_customer_known_only_from_orders_is_seen(built, tmp_path):
    # The CRM is asked first and the orders only without a CRM row (Customer 360 at scale
    # read all 10M orders for every customer): a customer only in orders is still seen.
    _, seg = built
    shutil.copytree(seg.folder.parent, tmp_path / "warehouse")
    copy = Warehouse(tmp_path / "warehouse")
    stored = pl.read_parquet(seg.path("customers")).filter(pl.col("frequency") > 0)
    buyer = stored["customer_id"][0]
    gateway = QueryGateway(copy)
    others = gateway.query("SELECT * FROM customers WHERE customer_id <> $id", {"id": buyer})
    result = ingest(
        others.write_csv().encode(),
        dataset_name="customers",
        warehouse=copy,
        file_name="x.csv",
        mode="replace",
        user="t",
    )
    assert result.loaded, result.message
    copied = dataclasses.replace(seg, folder=copy.root / seg.folder.name)

    row, history = segments.customer_segments(gateway, copied, buyer)

    assert buyer not in gateway.query("SELECT customer_id FROM customers")["customer_id"]
    assert row == stored.filter(pl.col("customer_id") == buyer).row(0, named=True)
    assert_frame_equal(history, _stored_history(seg, buyer))


@pytest.mark.parametrize("user", list(USERS))
def test_a_grid_cell_lists_its_buyers_by_value_unless_the_grid_hides_it(built, user):
    gateway, seg = built
    access, filters = USERS[user]
    viewer = gateway.scoped(access)
    grid = segments.rfm_grid(viewer, seg, filters)
    everyone = segments.segment_customers(viewer, seg, filters, "rfm")
    listed = 0
    for r, f, customers, hidden in grid.iter_rows():
        found = segments.grid_members(viewer, seg, r, f, filters)
        if hidden is not None:
            assert found.is_empty()
            continue
        assert found.height == customers
        listed += found.height
        cell = everyone.filter((pl.col("r") == r) & (pl.col("f") == f))
        ordered = cell.sort(
            ["clv", "revenue", "customer_id"], descending=[True, True, False], nulls_last=True
        )
        assert found["customer_id"].to_list() == ordered["customer_id"].to_list()
        assert found["segment"].to_list() == ordered["rfm_segment"].to_list()
        assert found.columns[:4] == ["customer_id", "name", "country", "plan"]
    assert listed == grid.filter(pl.col("hidden").is_null())["customers"].sum()
    if access.min_group == 0:  # nothing hidden: every buyer is in exactly one cell
        assert listed == everyone.filter(pl.col("r").is_not_null()).height
    if user == "germany":  # 5 cells too small, 7 of 5 or more hidden beside them: not listed
        reasons = grid["hidden"].drop_nulls().str.starts_with("fewer").value_counts()
        assert sorted(reasons.rows()) == [(False, 7), (True, 5)]


def test_a_grid_cell_is_scored_1_to_5(built):
    gateway, seg = built
    with pytest.raises(ConfigError, match=r"An RFM recency score is 1 to 5\. Got 6 instead\."):
        segments.grid_members(gateway, seg, 6, 1)
    top = segments.grid_members(gateway, seg, 5, 5, limit=3)
    assert top.height == 3
    assert top["clv"].to_list() == sorted(top["clv"].to_list(), reverse=True)
