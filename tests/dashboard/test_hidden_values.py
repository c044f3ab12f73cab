"""How pages show values hidden from viewers: marked with the reason, never as zero."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.cohorts import cohort_table
from analytics.disclosure import COMPLEMENTARY
from analytics.filters import Filters
from analytics.kpis import KPI_BY_KEY, trend
from analytics.warehouse import Access, QueryGateway
from dashboard import format as fmt
from dashboard.charts.cohorts import HIDDEN_GREY, cohort_heatmap
from dashboard.charts.kpis import breakdown_figure, trend_figure
from dashboard.charts.selection import picked


def test_hidden_note_counts_values_per_reason():
    reasons = [None, "fewer than 5 responses", COMPLEMENTARY, "fewer than 5 responses"]

    assert fmt.hidden_note(reasons) == (
        f"3 values are hidden from you: fewer than 5 responses (2); {COMPLEMENTARY} (1)."
    )
    assert fmt.hidden_note(["fewer than 5 tickets"]) == (
        "1 value is hidden from you: fewer than 5 tickets (1)."
    )
    assert fmt.hidden_note([None, None]) is None


def test_a_hidden_bar_is_labelled_hidden_with_its_reason_on_hover(tiny_warehouse):
    viewer = QueryGateway(tiny_warehouse).scoped(Access(min_group=4))
    table = trend(viewer, ["csat"], Filters(start=date(2025, 4, 1)), "month", by="country")
    april = table.filter(pl.col("period") == "2025-04")

    chart = breakdown_figure(april, KPI_BY_KEY["csat"], "Country")

    assert april.select("group", "value", "hidden").rows() == [
        ("(not set)", None, None),  # the anonymous response has no CSAT: empty, not hidden
        ("GB", None, "fewer than 4 responses"),
        ("US", None, "fewer than 4 responses"),
    ]
    bars = chart.option["series"][0]
    assert [bar["value"] for bar in bars["data"]] == [None, None, None]  # no bar, never zero
    marks = [
        (m["coord"][0], m["value"], m["tooltip"]["formatter"]) for m in bars["markPoint"]["data"]
    ]
    assert marks == [
        ("GB", "hidden", "Fewer than 4 responses"),
        ("US", "hidden", "Fewer than 4 responses"),
    ]
    assert bars["markPoint"]["label"]["show"] is True
    hovers = dict(
        zip(
            chart.option["xAxis"]["data"],
            [bar["tooltip"]["formatter"] for bar in bars["data"]],
            strict=True,
        )
    )
    assert "CSAT: hidden, fewer than 4 responses" in hovers["GB"]
    assert "CSAT: —" in hovers["(not set)"]
    assert chart.option["yAxis"]["axisLabel"] == {"show": False}  # no scale without a value
    assert chart.drill == {0: [["2025-04", "(not set)"], ["2025-04", "GB"], ["2025-04", "US"]]}


def _trend_rows(**columns: list) -> pl.DataFrame:
    """Rows of `analytics.kpis.trend` with the columns the trend chart reads."""
    return pl.DataFrame(
        columns,
        schema_overrides={"delta_significant": pl.Boolean, "hidden": pl.String},
    )


NPS_TREND = _trend_rows(
    period=["2025-04", "2025-05", "2025-05"],
    group=["email", "email", "sms"],
    value=[20.0, 30.0, -5.0],
    n=[9, 12, 6],
    ci_low=[-10.0, 10.0, -40.0],
    ci_high=[50.0, 45.0, 30.0],
    partial=[False, True, False],
    delta_significant=[None, True, None],
    hidden=[None, None, None],
)


def test_a_single_trend_draws_its_interval_as_a_band_and_its_points_drill():
    one = NPS_TREND.filter(pl.col("group") == "email")

    chart = trend_figure(one, KPI_BY_KEY["nps"], grouped=False)

    low, width, line = chart.option["series"]
    # The band is the low edge and, stacked on it, the interval's width: it spans low to high.
    assert low["data"] == [-10.0, 10.0]
    assert width["data"] == [60.0, 35.0]
    assert low["stack"] == width["stack"] == "interval"
    assert "areaStyle" in width and "areaStyle" not in low
    assert [p["value"] for p in line["data"]] == [20.0, 30.0]
    # A hollow marker for a period cut by the range, a larger one for a significant change.
    assert [p["symbol"] for p in line["data"]] == ["circle", "emptyCircle"]
    assert [p["symbolSize"] for p in line["data"]] == [7, 11]
    assert "Partial period" in line["data"][1]["tooltip"]["formatter"]
    assert chart.drill == {2: [["2025-04", ""], ["2025-05", ""]]}
    assert chart.option["yAxis"]["scale"] is True  # a score: the axis fits the values


def test_grouped_trends_leave_a_gap_where_a_group_has_no_period():
    chart = trend_figure(NPS_TREND, KPI_BY_KEY["nps"], grouped=True)

    email, sms = chart.option["series"]
    assert [email["name"], sms["name"]] == ["email", "sms"]
    assert sms["data"][0] is None and sms["data"][1]["value"] == -5.0
    assert chart.drill == {
        0: [["2025-04", "email"], ["2025-05", "email"]],
        1: [None, ["2025-05", "sms"]],
    }
    assert chart.option["legend"]["data"] == ["email", "sms"]


def test_a_total_has_no_band_and_its_axis_starts_at_zero():
    revenue = NPS_TREND.filter(pl.col("group") == "email").with_columns(
        value=pl.Series([1200.0, 179.75]), ci_low=None, ci_high=None
    )

    chart = trend_figure(revenue, KPI_BY_KEY["revenue"], grouped=False)

    (line,) = chart.option["series"]
    assert [p["value"] for p in line["data"]] == [1200.0, 179.75]
    assert chart.option["yAxis"]["scale"] is False  # slopes of a total are not exaggerated
    assert chart.option["yAxis"]["axisLabel"] == {"formatter": "${value}"}


def test_hidden_cohort_cells_are_grey_and_their_size_says_hidden(tiny_warehouse):
    viewer = QueryGateway(tiny_warehouse).scoped(Access(min_group=4))
    table = cohort_table(viewer, Filters(), "month")

    chart = cohort_heatmap(table, "customers", "month")

    values, grey = chart.option["series"]
    assert chart.option["yAxis"]["data"] == ["2025-04 (size hidden)"]
    assert values["data"] == []  # nothing coloured, so nothing read as a share
    assert [cell["value"][:2] for cell in grey["data"]] == [[0, 0], [1, 0]]
    assert [cell["itemStyle"]["color"] for cell in grey["data"]] == [HIDDEN_GREY, HIDDEN_GREY]
    assert grey["label"]["show"] is False
    assert "Hidden: fewer than 4 customers" in grey["data"][0]["tooltip"]["formatter"]
    assert chart.option["visualMap"]["seriesIndex"] == 0  # the grey is not on the colour scale
    # A hidden cell still drills, to say why it lists no one.
    assert chart.drill == {0: [], 1: [["2025-04-01", "0"], ["2025-04-01", "1"]]}


def test_a_click_on_a_heat_map_cell_reads_its_cohort_and_period(tiny_warehouse):
    viewer = QueryGateway(tiny_warehouse).scoped(Access(min_group=4))
    chart = cohort_heatmap(cohort_table(viewer, Filters(), "month"), "customers", "month")

    def click(*groups: tuple[int, list[int]]) -> dict:
        selected = [{"series_index": s, "data_indices": i, "data_type": "main"} for s, i in groups]
        return {"selection": {"selected": selected, "areas": []}}

    assert picked(click((1, [1])), chart) == ["2025-04-01", "1"]
    # A stale index (the data changed since the click) is skipped, not an error.
    assert picked(click((0, [0]), (1, [0])), chart) == ["2025-04-01", "0"]
    assert picked(click(), chart) is None


def test_a_long_trend_is_drawn_on_a_canvas_a_short_one_as_svg():
    def table(days: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "period": [f"d{i}" for i in range(days)],
                "group": [None] * days,
                "value": [1.0] * days,
                "partial": [False] * days,
                "delta_significant": [False] * days,
                "hidden": [None] * days,
            },
            schema_overrides={"group": pl.String, "hidden": pl.String},
        )

    revenue = KPI_BY_KEY["revenue"]  # no interval: one line

    assert trend_figure(table(1000), revenue, grouped=False).canvas is False
    assert trend_figure(table(1001), revenue, grouped=False).canvas is True


def test_every_bar_keeps_its_label_and_many_labels_slant():
    def bars(n: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "period": ["2025-12"] * n,
                "group": [f"Segment {i}" for i in range(n)],
                "value": [float(100 - i) for i in range(n)],
                "ci_low": [None] * n,
                "ci_high": [None] * n,
                "n": [10] * n,
                "hidden": [None] * n,
            },
            schema_overrides={"ci_low": pl.Float64, "ci_high": pl.Float64, "hidden": pl.String},
        )

    few = breakdown_figure(bars(6), KPI_BY_KEY["revenue"], "Region").option
    many = breakdown_figure(bars(12), KPI_BY_KEY["revenue"], "RFM segment").option

    assert few["xAxis"]["axisLabel"] == {"interval": 0, "rotate": 0}
    assert (few["xAxis"]["nameGap"], few["grid"]["bottom"]) == (28, 36)
    assert many["xAxis"]["axisLabel"] == {"interval": 0, "rotate": 30}
    assert (many["xAxis"]["nameGap"], many["grid"]["bottom"]) == (96, 112)
    assert many["xAxis"]["data"] == [f"Segment {i}" for i in range(12)]
