"""The quarterly review: the planted NPS drop leads its quarter with the delivery theme and
Delivery tickets named; noise is not called a change; counts get an exact test."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from analytics import feedback, review
from analytics.filters import Filters
from analytics.review import core
from analytics.warehouse import QueryGateway


@pytest.fixture(scope="module")
def gateway(sample_warehouse) -> QueryGateway:
    feedback.refresh(sample_warehouse)
    return QueryGateway(sample_warehouse)


@pytest.mark.slow
def test_the_planted_nps_drop_is_the_first_highlight_with_its_causes(gateway):
    found = review.quarterly_review(gateway, "2025-Q2")

    first = found.highlights[0]
    assert (first.rank, first.kpi, first.significant) == (1, "nps", True)
    assert first.text == (
        "NPS fell 16.5 points to 11.9 (95 % CI 7.6 to 16.2) from 28.4 in 2025-Q1, a "
        "significant drop (p < 0.001); detractor comments about delivery rose from 23% to "
        "60%; Delivery tickets rose from 19% to 54% of tickets."
    )
    assert first.link == "/kpis?kpi=nps&grain=quarter&at=2025-Q2"
    assert round(first.numbers["value"], 1) == 11.9 and round(first.numbers["delta"], 1) == -16.5
    assert found.data_versions == dict(gateway.warehouse.versions())
    nps = found.scorecard.filter(pl.col("kpi") == "nps").row(0, named=True)
    assert nps["yoy_significant"] is True and round(nps["year_ago"], 1) == 26.0
    categories = found.movers["ticket_categories"]
    assert categories.row(0, named=True)["category"] == "Delivery"


@pytest.mark.slow
@pytest.mark.parametrize("quarter", ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q4"])
def test_a_quarter_whose_nps_moved_within_noise_claims_no_nps_change(gateway, quarter):
    found = review.quarterly_review(gateway, quarter)
    nps = found.scorecard.filter(pl.col("kpi") == "nps").row(0, named=True)
    assert nps["delta_significant"] is False and abs(nps["delta"]) < 5
    assert "nps" not in [h.kpi for h in found.highlights]
    assert not any(h.text.startswith("NPS") for h in found.highlights)


def test_nothing_significant_says_so():
    card = pl.DataFrame(
        {"kpi": ["nps"], "label": ["NPS"], "unit": ["score"], "better": ["up"],
         "value": [30.0], "ci_low": [25.0], "ci_high": [35.0], "n": [900],
         "previous": [28.0], "delta": [2.0], "delta_p": [0.4], "delta_significant": [False],
         "year_ago": [None], "yoy_delta": [None], "yoy_p": [None], "yoy_significant": [None],
         "hidden": [None]},
        schema=review.SCORECARD_SCHEMA,
    )  # fmt: skip
    (only,) = core._highlights(card, "2025-Q3", core._Causes(None, None))
    assert only.significant is False and only.kpi is None
    assert only.text == (
        "No headline KPI changed significantly from 2025-Q2 to 2025-Q3: every movement is "
        "within what sampling noise explains."
    )


def test_counts_get_an_exact_poisson_test():
    from analytics.stats import count_change_p

    assert count_change_p(10, 10) == pytest.approx(1.0)
    assert count_change_p(480, 889) < 1e-20
    assert count_change_p(40, 60) == pytest.approx(0.05689, abs=1e-4)
    assert count_change_p(0, 0) is None


@pytest.mark.slow
def test_the_review_follows_the_filters_and_the_last_complete_quarter(gateway):
    assert review.last_complete_quarter(gateway) == "2025-Q4"
    emea = review.quarterly_review(gateway, "2025-Q2", Filters(region=("EMEA",)))
    everyone = review.quarterly_review(gateway, "2025-Q2")
    orders = {
        name: r.scorecard.filter(pl.col("kpi") == "orders")["value"].item()
        for name, r in (("emea", emea), ("all", everyone))
    }
    assert 0 < orders["emea"] < orders["all"]
    record = review.review_json(everyone)
    assert list(record) == ["quarter", "data_versions", "scorecard", "highlights", "movers"]
    assert list(record["highlights"][0]) == ["rank", "text", "kpi", "significant", "link"]


@pytest.mark.slow
@pytest.mark.parametrize(("customers", "seed"), [(5_000, 11), (12_000, 29)])
def test_the_planted_drop_leads_for_other_seeds_and_sizes(tmp_path, customers, seed):
    from analytics import derived
    from analytics.bootstrap import load_sample_files
    from analytics.periods import period_label, period_start
    from analytics.sample import sample_company, write_sample_company
    from analytics.warehouse import Warehouse

    files = write_sample_company(tmp_path / "exports", customers=customers, seed=seed)
    warehouse = Warehouse(tmp_path / "warehouse")
    load_sample_files(warehouse, files, user="tester")
    derived.refresh(warehouse)
    # The late orders start 8 days before the incident quarter (data/sample/README.md).
    late = sample_company(customers=customers, seed=seed).incident_start + timedelta(days=8)
    quarter = period_label(period_start(late, "quarter"), "quarter")

    found = review.quarterly_review(QueryGateway(warehouse), quarter)

    first = found.highlights[0]
    assert (first.kpi, first.significant) == ("nps", True)
    assert first.text.startswith("NPS fell")
    assert "detractor comments about delivery rose" in first.text
    assert "Delivery tickets rose" in first.text
