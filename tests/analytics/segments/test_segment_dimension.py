"""Segments as a filter and a breakdown everywhere: KPIs, cohorts, access, the CLI."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from analytics import kpis, rollups, segments
from analytics.cli import main
from analytics.cohorts import cohort_table
from analytics.filters import Filters, dimension_values
from analytics.warehouse import Access, QueryGateway

Q2 = Filters(start=date(2025, 4, 1), end=date(2025, 6, 30))


@pytest.fixture(scope="module")
def built(small_company):
    segments.refresh(small_company)
    rollups.refresh(small_company)
    return small_company


def _members(gateway: QueryGateway, column: str, value: str) -> list[str]:
    seg = segments.current(gateway.warehouse)
    table = pl.read_parquet(seg.path("customers"))
    return table.filter(pl.col(column) == value)["customer_id"].to_list()


def test_the_segments_are_filter_values(built):
    values = dimension_values(QueryGateway(built))

    assert "Champions" in values["segment"] and "Prospects" in values["segment"]
    assert "Lapsed" in values["cluster"] or "Lapsed low-spend" in values["cluster"]


def test_a_segment_filter_gives_the_kpis_of_its_customers(built):
    gateway = QueryGateway(built)
    loyal = _members(gateway, "rfm_segment", "Loyal")

    by_filter = kpis.trend(
        gateway, ["revenue", "orders", "nps"], Q2.narrowed("segment", "Loyal"), "quarter"
    )
    orders = gateway.query(
        "SELECT sum(amount) AS revenue, count(*) AS n FROM orders WHERE customer_id = ANY($ids) "
        "AND order_date BETWEEN $a AND $b AND coalesce(status, 'completed') "
        "NOT IN ('returned', 'cancelled')",
        {"ids": loyal, "a": date(2025, 4, 1), "b": date(2025, 6, 30)},
    ).row(0)
    values = dict(by_filter.select("kpi", "value").rows())
    assert values["revenue"] == pytest.approx(orders[0])
    assert values["orders"] == orders[1]


def test_a_breakdown_by_segment_adds_up_to_the_total(built):
    gateway = QueryGateway(built)

    parts = kpis.trend(gateway, ["revenue", "active_customers"], Q2, "quarter", by="segment")
    total = kpis.trend(gateway, ["revenue", "active_customers"], Q2, "quarter")

    for key in ("revenue", "active_customers"):
        summed = parts.filter(pl.col("kpi") == key)["value"].sum()
        assert summed == pytest.approx(total.filter(pl.col("kpi") == key)["value"][0])
    prospects = parts.filter((pl.col("group") == "Prospects") & (pl.col("kpi") == "revenue"))
    assert prospects["value"].to_list() in ([], [0.0])  # returned or cancelled orders only


def test_cohorts_by_cluster_split_the_customers(built):
    gateway = QueryGateway(built)

    split = cohort_table(gateway, Filters(start=date(2025, 1, 1)), "quarter", by="cluster")
    whole = cohort_table(gateway, Filters(start=date(2025, 1, 1)), "quarter")

    first = split.filter(pl.col("period_index") == 0).group_by("cohort").agg(pl.col("size").sum())
    expected = whole.filter(pl.col("period_index") == 0).select("cohort", "size")
    assert dict(first.rows()) == dict(expected.rows())


def test_a_limited_user_sees_only_their_customers_in_a_segment(built):
    gateway = QueryGateway(built)
    limited = gateway.scoped(Access(limits=(("country", ("Germany",)),)))

    theirs = kpis.trend(
        limited, ["active_customers"], Q2.narrowed("segment", "Champions"), "quarter"
    )
    germans = gateway.query("SELECT customer_id FROM customers WHERE country = 'Germany'")
    champions = set(_members(gateway, "rfm_segment", "Champions")) & set(germans["customer_id"])
    active = gateway.query(
        "SELECT count(DISTINCT customer_id) AS n FROM orders WHERE customer_id = ANY($ids) "
        "AND order_date BETWEEN $a AND $b AND coalesce(status, 'completed') "
        "NOT IN ('returned', 'cancelled')",
        {"ids": list(champions), "a": date(2025, 4, 1), "b": date(2025, 6, 30)},
    )["n"][0]
    assert theirs["value"][0] == active


def test_kpis_by_segment_on_the_command_line(built, capsys, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(built.root))
    code = main(
        [
            "kpis",
            "--period",
            "quarter",
            "--from",
            "2025-04-01",
            "--to",
            "2025-06-30",
            "--kpi",
            "revenue",
            "--by",
            "segment",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()

    assert code == 0, err
    groups = {r["group"] for r in json.loads(out)}
    assert {"Champions", "Loyal"} <= groups


def test_segments_cannot_limit_an_account():
    from analytics.accounts import Account
    from analytics.errors import ConfigError
    from analytics.filters import LIMITABLE

    assert "segment" not in LIMITABLE and "region" in LIMITABLE
    with pytest.raises(ConfigError, match="Access can be limited by region"):
        from analytics.accounts import _check_limits

        _check_limits({"segment": ["Champions"]})
    assert Account("x", "viewer", "h").limits == ()


def test_customer_lists_carry_each_customers_segment(built):
    from analytics import drill
    from analytics.cohorts import cohort_customers

    gateway = QueryGateway(built)
    table = pl.read_parquet(segments.current(built).path("customers"))
    truth = dict(table.select("customer_id", "rfm_segment").rows())

    listed = drill.kpi_customers(gateway, "revenue", Q2, "quarter", date(2025, 4, 1)).customers
    cohort = cohort_customers(gateway, Filters(), "quarter", date(2025, 1, 1), 1)

    assert listed.columns[:5] == ["customer_id", "name", "region", "country", "segment"]
    for frame in (listed, cohort):
        assert frame.height > 0
        assert all(truth[c] == s for c, s in frame.select("customer_id", "segment").rows())
