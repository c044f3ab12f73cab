"""Retention page (AppTest): cohort heat map and the retention and churn trends."""

from __future__ import annotations

import json

from apptest_helpers import APP, open_page
from streamlit.testing.v1 import AppTest

RETENTION = "views/retention.py"


def test_cohort_heat_map_of_the_tiny_company(tiny_warehouse):
    at = open_page(RETENTION, grain="month")

    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    # One cohort, April 2025 (3 customers); in May only a returned order, so 0 %.
    assert heatmap["y"] == ["2025-04 (3)"]
    assert heatmap["x"] == ["0", "1"]
    assert heatmap["text"] == [["100", "0"]]
    assert not at.error


def test_a_clicked_cell_lists_its_customers(tiny_warehouse):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(RETENTION)
    at.query_params["grain"] = "month"
    at.run()
    at.session_state["cohorts_None_0"] = {
        "selection": {"points": [{"customdata": ["2025-04-01", "0"]}]}
    }
    at.run()

    assert not at.exception, at.exception
    assert at.main.subheader[0].value == "Cohort 2025-04, month 0"
    people = at.dataframe[0].value
    assert people["customer_id"].to_list() == ["C1", "C3", "C2"]
    assert people["revenue"].to_list() == [1200.0, 99.25, 80.5]


def test_revenue_measure_and_quarter_grain_from_the_link(tiny_warehouse):
    at = open_page(RETENTION, measure="revenue", grain="quarter")

    assert at.segmented_control(key="measure").value == "revenue"
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["y"] == ["2025-Q2 (3)"] and heatmap["text"] == [["100"]]
    subheaders = [s.value for s in at.main.subheader]
    assert subheaders == ["Retention and churn"]


def test_cohorts_compared_by_region_side_by_side(tiny_warehouse):
    at = open_page(RETENTION, grain="month", compare="region")

    # The tiny customers have no region: one group, "(not set)", drawn on its own.
    charts = at.get("plotly_chart")
    heatmap = json.loads(charts[0].proto.spec)["data"][0]
    assert heatmap["y"] == ["2025-04 (3)"]
    assert heatmap["showscale"] is False
    assert "**\\(not set\\)**" in [m.value for m in at.main.markdown]
