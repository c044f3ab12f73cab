"""Migration between quarter ends: the flows the build stores for everyone (every pair of
quarters at once) and the ones counted where the quarters are read (a limited user's) are
the flows of `migration` over the same customers, to the customer."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import segments
from analytics.errors import ConfigError
from analytics.periods import period_label, period_start
from analytics.segments.features import customer_facts
from analytics.segments.migration import every_migration, migration, quarter_segments
from analytics.segments.rfm import rfm_table
from analytics.warehouse import Access, QueryGateway, Warehouse
from tests.analytics.rollups.test_update import frame

GERMANY = Access(limits=(("country", ("Germany",)),), mask_pii=True, min_group=5)


def _quarters(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"customer_id": pl.String, "quarter": pl.String, "rfm_segment": pl.String},
        orient="row",
    ).with_columns(quarter_end=pl.lit(date(2025, 9, 30)))  # fmt: skip


TOY = _quarters(
    [
        ("A", "2025-Q1", "Champions"), ("A", "2025-Q2", "Loyal"), ("A", "2025-Q3", "Loyal"),
        ("B", "2025-Q2", "New"), ("B", "2025-Q3", "Champions"),
        ("C", "2025-Q3", "New"),
    ]
)  # fmt: skip


def test_every_migration_counts_each_pair_of_quarters_by_hand():
    found = every_migration(TOY).sort(pl.all())
    assert found.rows() == sorted(
        [
            ("2025-Q1", "2025-Q2", "Champions", "Loyal", 1),
            ("2025-Q1", "2025-Q2", "Prospects", "New", 1),
            ("2025-Q1", "2025-Q3", "Champions", "Loyal", 1),
            ("2025-Q1", "2025-Q3", "Prospects", "Champions", 1),
            ("2025-Q1", "2025-Q3", "Prospects", "New", 1),
            ("2025-Q2", "2025-Q3", "Loyal", "Loyal", 1),
            ("2025-Q2", "2025-Q3", "New", "Champions", 1),
            ("2025-Q2", "2025-Q3", "Prospects", "New", 1),
        ]
    )
    assert every_migration(TOY.head(0)).is_empty()


@pytest.fixture(scope="module")
def built(small_company):
    segments.refresh(small_company)
    return QueryGateway(small_company), segments.current(small_company)


def _flows(table: pl.DataFrame) -> pl.DataFrame:
    return table.select("from_segment", "to_segment", "customers").sort(pl.all())


def test_the_stored_flows_are_migrations_flows_for_every_pair(built):
    _, seg = built
    quarters = pl.read_parquet(seg.path("quarters"))
    stored = pl.read_parquet(seg.path("migration"))
    labels = sorted(quarters["quarter"].unique())
    assert stored.select("before", "after").unique().height == len(labels) * (len(labels) - 1) // 2
    for i, before in enumerate(labels):
        for after in labels[i + 1 :]:
            pair = stored.filter(before=before, after=after)
            assert_frame_equal(_flows(pair), _flows(migration(quarters, before, after)))


@pytest.mark.parametrize(
    ("before", "after"), [("2025-Q3", "2025-Q4"), ("2023-Q1", "2025-Q4"), ("2024-Q2", "2024-Q2")]
)
def test_everyone_and_a_limited_user_get_the_flows_of_their_customers(built, before, after):
    gateway, seg = built
    quarters = pl.read_parquet(seg.path("quarters"))
    expected = migration(quarters, before, after)
    everyone = segments.segment_migration(gateway, seg, before, after)
    assert_frame_equal(everyone.drop("hidden"), expected)
    assert everyone["hidden"].is_null().all()

    viewer = gateway.scoped(GERMANY)
    germans = gateway.query("SELECT customer_id FROM customers WHERE country = 'Germany'")
    reference = migration(quarters.join(germans, on="customer_id", how="semi"), before, after)
    limited = segments.segment_migration(viewer, seg, before, after)
    flow = ["from_segment", "to_segment"]
    assert_frame_equal(limited.select(flow), reference.select(flow))
    shown = limited["hidden"].is_null()
    assert_frame_equal(limited.filter(shown).drop("hidden"), reference.filter(shown))
    hidden = limited.filter(~shown)
    assert hidden.select("customers", "share").null_count().row(0) == (hidden.height,) * 2
    assert limited.filter(shown)["customers"].min() >= 5
    assert reference["customers"].sum() < everyone["customers"].sum()  # theirs, not everyone's


def test_a_quarter_outside_the_data_is_named(built):
    gateway, seg = built
    with pytest.raises(ConfigError, match="There is no quarter '2031-Q1' in the data"):
        segments.segment_migration(gateway, seg, "2031-Q1", "2025-Q2")
    with pytest.raises(ConfigError, match="There is no quarter '2031-Q1' in the data"):
        segments.segment_migration(gateway.scoped(GERMANY), seg, "2025-Q1", "2031-Q1")


class _NoReads:
    """A gateway that fails any question: what `quarter_segments` must not read."""

    def query(self, *args: object, **kwargs: object) -> pl.DataFrame:
        raise AssertionError("the orders were read")


@pytest.mark.parametrize("days_before_end", [0, 45, 92, 400])
def test_the_last_quarter_from_the_customers_table_is_the_one_read_from_the_orders(
    small_company, days_before_end
):
    gateway = QueryGateway(small_company)
    first, end = gateway.query(
        "SELECT CAST(min(order_date) AS DATE), CAST(max(order_date) AS DATE) FROM orders"
    ).row(0)
    as_of = end - timedelta(days=days_before_end)
    latest = rfm_table(customer_facts(gateway, as_of), as_of)
    read = quarter_segments(gateway, first, as_of)
    assert_frame_equal(quarter_segments(gateway, first, as_of, latest=latest), read)
    last = period_start(as_of, "quarter")
    label = period_label(last, "quarter")
    at_end = read.filter(pl.col("quarter") == label)
    assert at_end["quarter_end"].unique().to_list() == [as_of]
    # The last quarter end's segments are the customers' table's, buyer by buyer.
    buyers = latest.filter(pl.col("frequency") > 0).select("customer_id", "rfm_segment")
    assert_frame_equal(at_end.select("customer_id", "rfm_segment"), buyers)
    # Scoring again from the last quarter on reads no order at all.
    again = quarter_segments(_NoReads(), first, as_of, since=last, latest=latest)  # type: ignore[arg-type]
    assert_frame_equal(again, at_end)
    # From the quarter before on, only that quarter is read.
    before = period_start(last - timedelta(days=1), "quarter")
    two = quarter_segments(gateway, first, as_of, since=before, latest=latest)
    assert_frame_equal(two, read.filter(pl.col("quarter_end") >= before))


def test_orders_without_an_amount_score_alike_from_the_start_or_a_later_quarter(tmp_path):
    warehouse = Warehouse(tmp_path / "w")
    days = [date(2025, 2, 3), date(2025, 5, 6), date(2025, 5, 20), date(2025, 8, 1)]
    warehouse.commit(
        "orders",
        frame(
            "orders",
            order_id=["o1", "o2", "o3", "o4", "o5", "o6"],
            customer_id=["A", "A", "B", "C", "C", "B"],
            order_date=[days[0], days[1], days[1], days[2], days[3], days[3]],
            amount=[None, None, 40.0, None, 12.5, 8.0],  # A never had an amount
            status=["completed"] * 6,
        ),
        mode="replace",
        metadata={},
    )
    gateway = QueryGateway(warehouse)
    every = quarter_segments(gateway, days[0], days[3])
    later = quarter_segments(gateway, days[0], days[3], since=date(2025, 4, 1))
    assert_frame_equal(later, every.filter(pl.col("quarter") >= "2025-Q2"))
    assert every["rfm_segment"].null_count() == 0
    assert every.group_by("quarter").len().sort("quarter").rows() == [
        ("2025-Q1", 1), ("2025-Q2", 3), ("2025-Q3", 3),
    ]  # fmt: skip
