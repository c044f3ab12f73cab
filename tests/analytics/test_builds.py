"""Derived builds' files: which earlier build the pages may show, and say so, while the
build of the current data is made after a load."""

from __future__ import annotations

import os

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import builds, derived, feedback, journeys, segments
from analytics.ingest.pipeline import ingest
from analytics.warehouse import QueryGateway, Warehouse

ROWS = {  # one more row of each, after the tiny company's last
    "orders": b"order_id,customer_id,order_date,amount,status\n"
    b"O{n},C1,2025-05-{day},50.00,completed\n",
    "surveys": b"response_id,customer_id,responded_at,nps,csat\n"
    b"R{n},C2,2025-05-{day} 10:00:00,7,3\n",
}


def _append(warehouse: Warehouse, dataset: str, n: int = 9) -> None:
    """Load one more row into `dataset` as an analyst would (an append)."""
    content = ROWS[dataset].replace(b"{n}", str(n).encode()).replace(b"{day}", str(n + 10).encode())
    result = ingest(
        content, dataset_name=dataset, warehouse=warehouse, file_name="more.csv", user="tester"
    )
    assert result.loaded, result.message


@pytest.fixture
def built(tiny_warehouse: Warehouse) -> Warehouse:
    derived.refresh(tiny_warehouse)
    return tiny_warehouse


def _keys(warehouse: Warehouse) -> dict[str, str | None]:
    found = {
        "segments": segments.current(warehouse),
        "journeys": journeys.current(warehouse),
        "feedback": feedback.current(warehouse),
    }
    return {name: None if build is None else build.key for name, build in found.items()}


def test_after_an_append_the_earlier_builds_stand_in_until_the_new_ones_are_made(built):
    before = _keys(built)
    assert None not in before.values()

    _append(built, "orders")

    # The segmentation and the journeys read orders: not built for the new data yet.
    assert _keys(built) == {"segments": None, "journeys": None, "feedback": before["feedback"]}
    earlier_segments, earlier_journeys = segments.earlier(built), journeys.earlier(built)
    assert earlier_segments is not None and earlier_segments.key == before["segments"]
    assert earlier_journeys is not None and earlier_journeys.key == before["journeys"]
    assert earlier_segments.meta["versions"]["orders"] == built.version("orders") - 1

    derived.refresh_rest(built)

    after = _keys(built)
    assert after["segments"] not in (None, before["segments"])
    # The newest build whose data the current data holds is now the current one.
    assert {
        "segments": segments.earlier(built).key,
        "journeys": journeys.earlier(built).key,
    } == {"segments": after["segments"], "journeys": after["journeys"]}


def test_an_append_of_responses_leaves_the_earlier_feedback_analysis_standing_in(built):
    before = _keys(built)["feedback"]

    _append(built, "surveys")

    assert feedback.current(built) is None
    stand_in = feedback.earlier(built)
    assert stand_in is not None and stand_in.key == before


def test_after_a_replace_no_earlier_build_stands_in(built):
    orders = QueryGateway(built).query("SELECT * FROM orders ORDER BY order_id")
    built.commit("orders", orders.head(3), mode="replace", metadata={"test": 1})

    assert segments.current(built) is None and journeys.current(built) is None
    assert segments.earlier(built) is None
    assert journeys.earlier(built) is None


def test_after_a_rollback_no_earlier_build_stands_in(built):
    _append(built, "orders")
    derived.refresh_rest(built)
    built.rollback("orders", built.version("orders") - 1, user="tester")

    # The rollback restores the rows the first builds were made from, as a new version
    # that removes rows: neither the build of the appended rows nor an older one is shown.
    assert segments.current(built) is None
    assert segments.earlier(built) is None


def test_a_build_with_other_settings_does_not_stand_in(built):
    _append(built, "orders")

    assert segments.earlier(built) is not None
    assert segments.earlier(built, segments.ValueSettings(margin=0.5)) is None


def test_the_newest_of_several_standing_in_builds_is_offered(built):
    first = segments.current(built)
    _append(built, "orders")
    segments.refresh(built)
    second = segments.current(built)
    _append(built, "orders", n=10)

    assert first is not None and second is not None and first.key != second.key
    stand_in = segments.earlier(built)
    assert stand_in is not None and stand_in.key == second.key


def test_only_appended_needs_versions_the_current_data_holds(built):
    versions = built.versions()

    assert builds.only_appended(built, versions)
    assert not builds.only_appended(built, {})
    assert not builds.only_appended(built, versions | {"events": 0})  # never loaded now
    assert builds.newest(built.root / "_segments", "segments") == (
        f"segments-{segments.current(built).key}.json"
    )
    assert builds.newest(built.root / "_nothing", "segments") is None


def test_served_reads_the_earlier_build_as_of_its_own_data(built):
    gateway = QueryGateway(built)
    now = builds.served(segments.current, segments.earlier, gateway)
    assert now is not None and now[0] is gateway
    orders_before = gateway.query("SELECT count(*) FROM orders").item()

    _append(built, "orders")

    served = builds.served(segments.current, segments.earlier, QueryGateway(built))
    assert served is not None
    reader, stand_in = served
    assert stand_in.key == now[1].key
    assert reader.pinned and reader.versions()["orders"] == built.version("orders") - 1
    assert reader.query("SELECT count(*) FROM orders").item() == orders_before
    # A gateway pinned to other versions asks for the build of exactly those: none here.
    pinned = QueryGateway(built).at_versions({"orders": built.version("orders")})
    assert builds.served(segments.current, segments.earlier, pinned) is None


def test_a_review_stands_in_only_with_every_build_of_the_same_data(built):
    from analytics.review import Derived

    _append(built, "orders")

    found = Derived.earlier(QueryGateway(built))
    assert found is not None
    pinned, stand_in = found
    assert pinned.versions()["orders"] == built.version("orders") - 1
    assert stand_in.segmentation.key == segments.earlier(built).key
    assert stand_in.journeys.key == journeys.earlier(built).key

    # The segmentation of the new data is made, the journeys are not yet: the review still
    # reads the segmentation of the journeys' data, kept beside the new one.
    segments.refresh(built)
    found = Derived.earlier(QueryGateway(built))
    assert found is not None and found[1].segmentation.key == stand_in.segmentation.key
    assert segments.earlier(built).key != stand_in.segmentation.key

    # Once no earlier segmentation of that data is kept, nothing stands in.
    for path in (built.root / "_segments").glob(f"segments-{stand_in.segmentation.key}.*"):
        path.unlink()
    assert Derived.earlier(QueryGateway(built)) is None


# ----- files written a batch at a time ---------------------------------------------------------


def test_frames_written_one_after_the_other_read_back_as_one_folder(tmp_path):
    schema = {"id": pl.UInt32, "name": pl.String}
    first = pl.DataFrame({"id": [3, 1], "name": ["c", None]}, schema=schema)
    second = pl.DataFrame({"id": [7], "name": ["g"]}, schema=schema)
    first.write_parquet(tmp_path / "earlier.parquet")
    target = tmp_path / "steps.parquet"
    with builds.parquet_parts(target) as written:
        written.write(second)
        assert not target.exists()  # whole or not at all
        written.link(tmp_path / "earlier.parquet")
        written.write(second.clear())

    assert_frame_equal(pl.read_parquet(target), pl.concat([second, first]))
    assert [p.name for p in builds.parts_of(target)] == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet",
    ]  # fmt: skip
    assert builds.parts_of(target)[1].stat().st_ino == (tmp_path / "earlier.parquet").stat().st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.parquet", "steps.parquet"]


def test_a_failed_batch_write_leaves_what_was_there(tmp_path):
    target = tmp_path / "steps.parquet"
    with builds.parquet_parts(target) as written:
        written.write(pl.DataFrame({"id": [1]}))
    with pytest.raises(RuntimeError), builds.parquet_parts(target) as written:
        written.write(pl.DataFrame({"id": [2]}))
        raise RuntimeError("the next batch failed")

    assert pl.read_parquet(target)["id"].to_list() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["steps.parquet"]


def test_pruning_removes_an_old_builds_parquet_folders(tmp_path):
    for number in range(3):
        with builds.parquet_parts(tmp_path / f"x-{number}.steps.parquet") as written:
            written.write(pl.DataFrame({"id": [number]}))
        builds.write_json({}, tmp_path / f"x-{number}.json")
        os.utime(tmp_path / f"x-{number}.json", (number, number))
    builds.prune(tmp_path, "x", keep=2)

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "x-1.json", "x-1.steps.parquet", "x-2.json", "x-2.steps.parquet",
    ]  # fmt: skip


def test_the_gateway_writes_a_folder_per_value_of_a_partition_column(built):
    (built.root / "_scratch").mkdir()
    target = built.root / "_scratch" / "orders"
    QueryGateway(built).write_parquet(
        "SELECT order_id, CAST(amount > $cut AS INTEGER) AS big FROM orders",
        target,
        params={"cut": 60},
        partition_by="big",
    )
    small = pl.read_parquet(target / "big=0" / "*.parquet", hive_partitioning=False)
    big = pl.read_parquet(target / "big=1" / "*.parquet", hive_partitioning=False)
    everyone = QueryGateway(built).query("SELECT order_id, amount FROM orders")

    assert small.columns == ["order_id"]
    assert sorted(big["order_id"]) == sorted(everyone.filter(pl.col("amount") > 60)["order_id"])
    assert sorted(small["order_id"]) == sorted(everyone.filter(pl.col("amount") <= 60)["order_id"])
