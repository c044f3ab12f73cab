"""Journey charts (ECharts options): order, hidden values, drill payloads, escaping."""

from __future__ import annotations

import polars as pl

from analytics.journeys import ALL
from dashboard.charts import journeys as charts
from dashboard.charts.base import PALETTE


def funnel_rows(group: str, customers: list[int | None]) -> list[dict]:
    stages = ["awareness", "consideration", "purchase"]
    entrants = customers[0] or 1
    return [
        {
            "group": group,
            "step": step,
            "stage": stage,
            "customers": count,
            "conversion_from_start": None if count is None else count / entrants,
            "median_days_from_previous": None if step == 1 or count is None else 2.0 * step,
            "p90_days_from_previous": None if step == 1 or count is None else 5.0 * step,
            "hidden": "fewer than 5 customers" if count is None else None,
        }
        for step, (stage, count) in enumerate(zip(stages, customers, strict=True), start=1)
    ]


SHOP = "<b>Shop</b>"  # a group name to escape
FUNNEL = pl.DataFrame(funnel_rows("Web", [200, 150, 60]) + funnel_rows(SHOP, [80, None, 20]))


def test_the_funnel_keeps_the_stage_order_and_one_series_per_group():
    chart = charts.funnel_chart(FUNNEL)

    option = chart.option
    assert option["xAxis"]["data"] == ["Awareness", "Consideration", "Purchase"]
    assert [s["name"] for s in option["series"]] == ["Web", "<b>Shop</b>"]
    assert [s["itemStyle"]["color"] for s in option["series"]] == list(PALETTE[:2])
    assert [bar["value"] for bar in option["series"][0]["data"]] == [200, 150, 60]
    assert [bar["label"]["formatter"] for bar in option["series"][0]["data"]] == [
        "100%", "75%", "30%",
    ]  # fmt: skip
    assert option["legend"]["show"] is True
    assert all(s["label"]["show"] and s["selectedMode"] == "single" for s in option["series"])


def test_a_hidden_funnel_value_has_no_bar_and_no_payload():
    chart = charts.funnel_chart(FUNNEL)

    shop = chart.option["series"][1]["data"]
    assert shop[1] is None  # not a zero bar
    assert shop[2]["value"] == 20
    assert chart.drill[1] == [["<b>Shop</b>", "awareness"], None, ["<b>Shop</b>", "purchase"]]
    assert chart.payload(0, 2) == ["Web", "purchase"]


def test_funnel_tooltips_escape_the_group_and_say_the_share():
    tip = charts.funnel_chart(FUNNEL).option["series"][1]["data"][2]["tooltip"]["formatter"]

    assert tip == (
        "<b>Purchase · &lt;b&gt;Shop&lt;/b&gt;</b><br>20 customers reached purchase<br>"
        "25% of entrants"
    )


def test_one_group_has_no_legend_and_many_groups_no_bar_labels():
    alone = charts.funnel_chart(pl.DataFrame(funnel_rows(ALL, [1200, 900, 300])))
    many = charts.funnel_chart(
        pl.DataFrame([row for g in "ABCD" for row in funnel_rows(g, [10, 8, 5])])
    )

    assert alone.option["legend"]["show"] is False
    tip = alone.option["series"][0]["data"][1]["tooltip"]["formatter"]
    assert tip.startswith("<b>Consideration</b><br>900 customers")  # no "all" group named
    assert [s["label"]["show"] for s in many.option["series"]] == [False] * 4
    assert many.option["series"][3]["data"][2]["label"]["formatter"] == "50%"  # in the data


def test_the_selected_funnel_bar_alone_is_outlined():
    chart = charts.funnel_chart(FUNNEL, selected=["<b>Shop</b>", "purchase"])

    outlined = [
        (series, index)
        for series, s in enumerate(chart.option["series"])
        for index, bar in enumerate(s["data"])
        if bar is not None and "itemStyle" in bar
    ]
    assert outlined == [(1, 2)]
    assert chart.option["series"][1]["data"][2]["itemStyle"] == charts.OUTLINE


def test_timing_leaves_out_the_first_stage_and_pairs_a_tick_with_each_bar():
    chart = charts.timing_chart(FUNNEL)

    option = chart.option
    assert chart.height == 320
    assert option["xAxis"]["data"] == ["Consideration", "Purchase"]
    assert [(s["type"], s["name"]) for s in option["series"]] == [
        ("bar", "Web"), ("pictorialBar", "Web"),
        ("bar", "<b>Shop</b>"), ("pictorialBar", "<b>Shop</b>"),
    ]  # fmt: skip
    median, p90 = option["series"][2]["data"], option["series"][3]["data"]
    assert median[0] is None and p90[0] is None  # hidden: no bar, no tick
    assert (median[1]["value"], p90[1]["value"]) == (6.0, 15.0)
    assert p90[1]["tooltip"]["formatter"].endswith("<br>90% within 15.0 days")
    assert option["series"][1]["itemStyle"] == option["series"][0]["itemStyle"]
    assert "data" not in option["legend"]  # the groups, each toggling its bars and ticks


def test_timing_of_one_group_names_the_median_and_the_percentile():
    option = charts.timing_chart(pl.DataFrame(funnel_rows(ALL, [10, 8, 5]))).option

    assert [s["name"] for s in option["series"]] == ["Median", "90th percentile"]
    assert option["legend"]["data"] == [
        "Median", {"name": "90th percentile", "icon": charts.TICK_ICON},
    ]  # fmt: skip
    assert option["series"][0]["data"][0]["tooltip"]["formatter"] == (
        "<b>Consideration</b><br>Median 4.0 days from the previous stage"
    )


MAP = pl.DataFrame(
    {
        "stage": ["awareness", "purchase", "loyalty"],
        "avg_nps": [None, 8.15, 7.0],
        "avg_csat": [None, 4.0, 3.5],
        "avg_sentiment": [None, 0.362, -0.1],
    }
)


def test_the_satisfaction_curve_leaves_gaps_and_labels_nps_and_sentiment():
    chart = charts.satisfaction_curve(MAP)

    nps, csat, sentiment = chart.option["series"]
    assert chart.option["xAxis"]["data"] == ["Awareness", "Purchase", "Loyalty"]
    assert nps["data"][0] is None and nps["connectNulls"] is False
    assert [p["label"]["formatter"] for p in nps["data"][1:]] == ["8.2", "7.0"]
    assert "label" not in csat["data"][1] and csat["yAxisIndex"] == 1
    assert csat["data"][2]["tooltip"]["formatter"] == "<b>Loyalty</b><br>Mean CSAT: 3.50"
    assert [p["label"]["formatter"] for p in sentiment["data"][1:]] == ["+0.36", "-0.10"]
    assert sentiment["yAxisIndex"] == 2
    assert chart.option["yAxis"][2]["show"] is False
    assert (chart.option["yAxis"][0]["min"], chart.option["yAxis"][0]["max"]) == (0, 10.5)


def test_the_satisfaction_curve_without_comments_has_no_sentiment_line():
    series = charts.satisfaction_curve(MAP.with_columns(avg_sentiment=None)).option["series"]

    assert [s["name"] for s in series] == ["Mean NPS answer (0–10)", "Mean CSAT (1–5)"]


LINKS = pl.DataFrame(
    {
        "step": [1, 1, 2, 2, 1],
        "source": ["Ad", "Ad", "Cart", "Blog", "Ad"],
        "target": ["Cart", "Blog", "Ad", "Ad", "Rare"],
        "customers": [60, 40, 50, 30, 1],
        "conversion_overall": [0.6, 0.4, 0.5, 0.3, 0.001],
        "converted": [0.9, 0.5, None, 0.7, 1.0],
    }
)


def test_the_sankey_has_a_node_per_touchpoint_and_step_and_drops_thin_links():
    chart = charts.paths_sankey(LINKS, "converted")

    sankey = chart.option["series"][0]
    nodes = [(node["id"], node["name"], node["depth"]) for node in sankey["data"]]
    assert nodes == [
        ("1:Ad", "Ad", 0), ("2:Cart", "Cart", 1), ("2:Blog", "Blog", 1), ("3:Ad", "Ad", 2),
    ]  # fmt: skip
    assert [(link["source"], link["target"], link["value"]) for link in sankey["links"]] == [
        (0, 1, 60), (0, 2, 40), (1, 3, 50), (2, 3, 30),
    ]  # fmt: skip
    assert sankey["label"]["formatter"] == "{b}"  # the name, not the id
    assert chart.height == 420


def test_sankey_links_shade_from_the_lowest_to_the_highest_and_say_the_measure():
    links = charts.paths_sankey(LINKS, "converted").option["series"][0]["links"]

    colours = [link["lineStyle"]["color"] for link in links]
    assert colours[2] == "rgba(198, 219, 239, 0.75)"  # missing counts as 0: the lightest
    assert colours[0] == "rgba(8, 48, 107, 0.75)"  # 90%: the highest shown
    assert links[0]["tooltip"]["formatter"] == "<b>Ad → Cart</b><br>60 customers, purchase rate 90%"


def test_a_sankey_node_counts_the_larger_of_its_ins_and_outs():
    nodes = charts.paths_sankey(LINKS, "converted").option["series"][0]["data"]

    tips = [node["tooltip"]["formatter"] for node in nodes]
    assert tips[0] == "<b>Ad (step 1)</b><br>100 customers"
    assert tips[3] == "<b>Ad (step 3)</b><br>80 customers"


def test_a_sankey_grows_with_the_steps():
    longer = LINKS.with_columns(step=pl.col("step") * 4)  # links at steps 4 and 8

    assert charts.paths_sankey(longer, "converted").height == 60 * 8 + 300
