"""KPIs page (AppTest): the trend from a link, the drill to a period and the customers behind it."""

from __future__ import annotations

import pytest
from apptest_helpers import chart_options, click_chart, open_page
from streamlit.testing.v1 import AppTest

from analytics.kpis import KPI_BY_KEY

KPIS_PAGE = "views/kpis.py"


def chart_series(at: AppTest, index: int = 0) -> list[dict]:
    """The series of the page's `index`-th chart (an ECharts option)."""
    return chart_options(at)[index]["series"]


def test_link_opens_the_kpi_and_grain_it_names(tiny_warehouse):
    at = open_page(KPIS_PAGE, kpi="nps", grain="quarter")

    assert at.selectbox(key="kpi").value == "nps"
    assert at.segmented_control(key="grain").value == "quarter"
    low, width, line = chart_series(at)
    assert line["name"] == "NPS"
    # One quarter: NPS 10, 9, 6, 8 -> 2 promoters, 1 detractor of 4 answers (tests/conftest.py).
    assert [point["value"] for point in line["data"]] == [25.0]
    assert [low["name"], width["name"]] == ["interval low", "95% interval"]
    assert width["stack"] == low["stack"] == "interval"


def test_unknown_kpi_in_a_link_falls_back_with_a_notice(tiny_warehouse):
    at = open_page(KPIS_PAGE, kpi="drop table", grain="quarter")

    assert at.selectbox(key="kpi").value == "revenue"
    assert [t.value for t in at.toast] == ["drop table in the link is not a choice for KPI."]
    assert not at.error


def test_a_period_in_the_link_shows_the_breakdown_and_the_customers(tiny_warehouse):
    at = open_page(KPIS_PAGE, kpi="revenue", grain="quarter", at="2025-Q2")

    assert [s.value for s in at.main.subheader] == ["Revenue in 2025-Q2"]
    customers = at.dataframe[0].value
    # O1 1,200.00 (C1), O2 80.50 (C2), O3 99.25 (C3); O4 (C1) was returned.
    assert customers["customer_id"].to_list() == ["C1", "C3", "C2"]
    assert customers["contribution"].to_list() == [1200.0, 99.25, 80.5]
    assert "3 customers. Select one to open Customer 360." in [c.value for c in at.caption]


def test_a_group_in_the_link_narrows_the_customers(tiny_warehouse):
    at = open_page(KPIS_PAGE, kpi="nps", grain="quarter", at="2025-Q2", split="country", group="US")

    assert [s.value for s in at.main.subheader] == ["NPS in 2025-Q2 · US"]
    customers = at.dataframe[0].value
    # US customers: C2 scored 9 (promoter), C3 scored 6 (detractor): NPS 0 of 2 answers.
    assert customers["customer_id"].to_list() == ["C2", "C3"]
    assert customers["contribution"].to_list() == [50.0, -50.0]


def test_the_table_behind_the_chart_offers_csv_and_excel(tiny_warehouse):
    at = open_page(KPIS_PAGE, kpi="orders", grain="month")
    # Closed, the expander's content is not drawn (nor the grid's script loaded).
    assert not at.get("download_button") and not at.dataframe

    at.session_state["kpi_numbers"] = True  # opened
    at.run()

    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download CSV", "Download Excel"]
    table = at.dataframe[-1].value
    assert table["period"].to_list() == ["2025-04", "2025-05"]
    assert table["value"].to_list() == [3.0, 0.0]


def test_a_breakdown_shows_the_latest_period_by_group_and_a_bar_drills(tiny_warehouse):
    at = open_page(KPIS_PAGE, kpi="revenue", grain="quarter", by="country")

    assert [s.value for s in at.main.subheader] == ["Revenue in 2025-Q2 by country"]
    option = chart_options(at)[1]
    assert option["xAxis"]["data"] == ["GB", "US"]
    assert [bar["value"] for bar in option["series"][0]["data"]] == [1200.0, 179.75]

    click_chart(at, "latest_", 0, 1)  # the US bar

    assert [s.value for s in at.main.subheader] == ["Revenue in 2025-Q2 · US"]
    assert at.dataframe[0].value["customer_id"].to_list() == ["C3", "C2"]


@pytest.mark.parametrize("key", list(KPI_BY_KEY))
def test_every_kpi_renders_its_trend_and_drill(tiny_warehouse, key):
    # The tiny company has no tickets and no CES answers: those KPIs must say so, not fail.
    at = open_page(KPIS_PAGE, kpi=key, grain="month", at="2025-04")

    assert not at.error
    assert [s.value for s in at.main.subheader] == [f"{KPI_BY_KEY[key].label} in 2025-04"]
