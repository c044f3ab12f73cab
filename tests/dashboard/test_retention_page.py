"""Retention page (AppTest): cohort heat map and the retention and churn trends; the heat map
chart itself (`charts.cohorts`)."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
from apptest_helpers import APP, click_chart, open_page
from streamlit.testing.v1 import AppTest

from analytics.cohorts import COHORT_SCHEMA
from dashboard.charts.cohorts import HIDDEN_GREY, cohort_heatmap

RETENTION = "views/retention.py"


def chart_option(at: AppTest, index: int = 0) -> dict:
    """The page's `index`-th chart (an ECharts option)."""
    return json.loads(at.get("echarts_chart")[index].proto.spec)


def cell_texts(option: dict) -> list[tuple[int, int, str]]:
    """The coloured cells as (column, row, number shown)."""
    return [(*c["value"][:2], c["label"]["formatter"]) for c in option["series"][0]["data"]]


def click_cell(at: AppTest, series: int, index: int, key: str = "cohorts_None_0") -> None:
    click_chart(at, key, series, index)


def test_cohort_heat_map_of_the_tiny_company(tiny_warehouse):
    at = open_page(RETENTION, grain="month")

    option = chart_option(at)
    # One cohort, April 2025 (3 customers); in May only a returned order, so 0 %.
    assert option["yAxis"]["data"] == ["2025-04 (3)"]
    assert option["xAxis"]["data"] == ["0", "1"]
    assert cell_texts(option) == [(0, 0, "100"), (1, 0, "0")]
    assert option["title"]["text"] == "Active customers, % of the cohort"
    assert option["visualMap"]["show"] is True
    # The retention and churn trends follow.
    assert [s["name"] for s in chart_option(at, 1)["series"]][-1] == "Retention rate"
    assert [s["name"] for s in chart_option(at, 2)["series"]][-1] == "Churn rate"
    assert not at.error


def test_a_clicked_cell_lists_its_customers(tiny_warehouse):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(RETENTION)
    at.query_params["grain"] = "month"
    at.run()
    click_cell(at, 0, 0)  # April 2025, month 0

    assert not at.exception, at.exception
    assert at.main.subheader[0].value == "Cohort 2025-04, month 0"
    people = at.dataframe[0].value
    assert people["customer_id"].to_list() == ["C1", "C3", "C2"]
    assert people["revenue"].to_list() == [1200.0, 99.25, 80.5]


def test_a_clicked_cell_with_no_one_active_says_so(tiny_warehouse):
    at = open_page(RETENTION, grain="month")
    click_cell(at, 0, 1)  # April 2025, month 1: only a returned order

    assert not at.exception, at.exception
    assert at.main.subheader[0].value == "Cohort 2025-04, month 1"
    assert any("No customers to list for that month" in c.value for c in at.caption)
    assert not at.dataframe


def test_revenue_measure_and_quarter_grain_from_the_link(tiny_warehouse):
    at = open_page(RETENTION, measure="revenue", grain="quarter")

    assert at.segmented_control(key="measure").value == "revenue"
    option = chart_option(at)
    assert option["yAxis"]["data"] == ["2025-Q2 (3)"]
    assert cell_texts(option) == [(0, 0, "100")]
    assert option["title"]["text"] == "Revenue, % of the cohort's first period"
    subheaders = [s.value for s in at.main.subheader]
    assert subheaders == ["Retention and churn"]


def test_cohorts_compared_by_region_side_by_side(tiny_warehouse):
    at = open_page(RETENTION, grain="month", compare="region")

    # The tiny customers have no region: one group, "(not set)", drawn on its own.
    option = chart_option(at)
    assert option["yAxis"]["data"] == ["2025-04 (3)"]
    assert option["visualMap"]["show"] is False  # no colour scale beside each map
    assert "title" not in option and "name" not in option["yAxis"]
    assert "**\\(not set\\)**" in [m.value for m in at.main.markdown]


def cells(*rows: tuple) -> pl.DataFrame:
    """Rows of `analytics.cohorts.cohort_table`: (cohort start, size, period index, customers,
    revenue, value, hidden)."""
    return pl.DataFrame(
        [
            {
                "group": None,
                "cohort": f"{start:%Y-%m}",
                "cohort_start": start,
                "size": size,
                "period_index": k,
                "period": _month_label(start, k),
                "customers": customers,
                "revenue": revenue,
                "value": value,
                "hidden": hidden,
            }
            for start, size, k, customers, revenue, value, hidden in rows
        ],
        schema=COHORT_SCHEMA,
        orient="row",
    )


def _month_label(start: date, k: int) -> str:
    months = start.year * 12 + start.month - 1 + k
    return f"{months // 12}-{months % 12 + 1:02d}"


JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
# Listed out of order: the chart sorts the cohorts by start and the periods by index.
TABLE = cells(
    (FEB, 20, 1, 2, 50.0, 10.0, None),
    (JAN, 10, 0, 10, 900.0, 100.0, None),
    (FEB, 20, 0, 20, 800.0, 100.0, None),
    (JAN, 10, 2, 0, 0.0, None, "fewer than 5 customers"),
    (JAN, 10, 1, 4, 120.0, 40.0, None),
    (MAR, 8, 0, 8, 0.0, 100.0, None),
)


def test_cohorts_run_down_in_order_and_each_cell_drills_to_its_cohort_and_period():
    chart = cohort_heatmap(TABLE, "customers", "month")

    option = chart.option
    assert option["yAxis"]["data"] == ["2025-01 (10)", "2025-02 (20)", "2025-03 (8)"]
    assert option["yAxis"]["inverse"] is True  # the first cohort on top
    assert option["xAxis"]["data"] == ["0", "1", "2"]
    assert cell_texts(option) == [
        (0, 0, "100"),
        (1, 0, "40"),
        (0, 1, "100"),
        (1, 1, "10"),
        (0, 2, "100"),
    ]
    assert chart.drill[0] == [
        ["2025-01-01", "0"],
        ["2025-01-01", "1"],
        ["2025-02-01", "0"],
        ["2025-02-01", "1"],
        ["2025-03-01", "0"],
    ]
    # The hidden cell is grey, in the second series, and drills too; March has no period 1.
    (hidden,) = option["series"][1]["data"]
    assert hidden["value"][:2] == [2, 0] and hidden["itemStyle"]["color"] == HIDDEN_GREY
    assert chart.drill[1] == [["2025-01-01", "2"]]
    # Every cell has a name of its own: ECharts selects by name.
    names = [c["name"] for s in option["series"] for c in s["data"]]
    assert len(set(names)) == len(names) == 6
    assert option["series"][0]["selectedMode"] == option["series"][1]["selectedMode"] == "single"


def test_colours_span_zero_to_the_largest_later_value_and_dark_cells_get_white_text():
    chart = cohort_heatmap(TABLE, "customers", "month")

    visual = chart.option["visualMap"]
    assert (visual["min"], visual["max"]) == (0, 40.0)  # period 0 is 100 % by definition
    assert visual["text"] == ["40%", "0%"]
    colours = {
        tuple(c["value"][:2]): c["label"]["color"] for c in chart.option["series"][0]["data"]
    }
    assert colours[(0, 0)] == colours[(1, 0)] == "#ffffff"  # 100 and 40: the darkest
    assert colours[(1, 1)] != "#ffffff"  # 10 of 40: light, so dark text


def test_tooltips_give_the_counts_behind_a_cell():
    chart = cohort_heatmap(TABLE, "revenue", "month")

    tips = [c["tooltip"]["formatter"] for c in chart.option["series"][0]["data"]]
    assert tips[1] == (
        "<b>2025-01 · month 1 (2025-02)</b><br>Active: 4 of 10<br>Revenue: $120.00<br>Value: 40.0%"
    )
    hidden = chart.option["series"][1]["data"][0]["tooltip"]["formatter"]
    assert hidden == "<b>2025-01 · month 2</b><br>Hidden: fewer than 5 customers"


def test_a_cell_without_a_value_is_blank_not_zero():
    # Revenue retention of a cohort whose first period had no revenue: nothing to divide by.
    table = cells((MAR, 8, 0, 8, 0.0, None, None))

    chart = cohort_heatmap(table, "revenue", "month")

    assert chart.option["series"][0]["data"] == []
    (blank,) = chart.option["series"][1]["data"]
    assert blank["itemStyle"]["color"] == "#ffffff"
    assert "Value: —" in blank["tooltip"]["formatter"]
    assert chart.option["visualMap"]["max"] == 100.0  # no later period: the whole scale


def test_many_periods_side_by_side_drop_the_numbers_but_keep_the_colours():
    start = date(2023, 1, 1)
    table = cells(*[(start, 10, k, 5, 50.0, 50.0, None) for k in range(36)])

    wide = cohort_heatmap(table, "customers", "month")
    compact = cohort_heatmap(table, "customers", "month", compact=True)

    assert wide.option["series"][0]["label"]["show"] is True
    assert compact.option["series"][0]["label"]["show"] is False
    assert len(compact.option["series"][0]["data"]) == 36
    assert cohort_heatmap(table.head(12), "customers", "month", compact=True).option["series"][0][
        "label"
    ]["show"]
