"""Segment charts (ECharts options): hidden values, drill payloads, order and escaping."""

from __future__ import annotations

import polars as pl
from apptest_helpers import selection

from dashboard.charts import segments as charts
from dashboard.charts.base import MUTED, PALETTE, SELECTED_COLOUR
from dashboard.charts.selection import picked

HIDDEN = {(5, 5), (1, 3)}


def _grid() -> pl.DataFrame:
    return pl.DataFrame(
        [
            (r, f, None, "fewer than 5") if (r, f) in HIDDEN else (r, f, 10 * r + f, None)
            for r in range(5, 0, -1)
            for f in range(1, 6)
        ],
        schema={"r": pl.Int8, "f": pl.Int8, "customers": pl.Int64, "hidden": pl.String},
        orient="row",
    )


def _edge(index: int) -> dict:
    return selection(0, index, "edge")


def test_the_rfm_grid_greys_hidden_cells_and_drills_shown_ones():
    chart = charts.rfm_grid_heatmap(_grid())
    shown, hidden = chart.option["series"]

    # 5 on top: a category axis runs upwards.
    assert chart.option["yAxis"]["data"] == ["1", "2", "3", "4", "5"]
    assert chart.option["xAxis"]["data"] == ["1", "2", "3", "4", "5"]
    cells = {(c["value"][1] + 1, c["value"][0] + 1): c for c in shown["data"]}
    assert len(cells) == 23 and not HIDDEN & set(cells)
    assert cells[(4, 2)]["value"][2] == 42 and cells[(4, 2)]["label"]["formatter"] == "42"
    assert cells[(4, 2)]["tooltip"]["formatter"] == "<b>R 4 · F 2</b><br>42 customers"
    # A hidden cell is grey and says so; the colour scale reads the shown cells only.
    assert [c["value"][:2] for c in hidden["data"]] == [[2, 0], [4, 4]]
    assert hidden["label"]["formatter"] == "hidden"
    assert "Hidden: fewer than 5" in hidden["data"][0]["tooltip"]["formatter"]
    assert chart.option["visualMap"]["seriesIndex"] == 0
    assert (chart.option["visualMap"]["min"], chart.option["visualMap"]["max"]) == (11, 54)
    # A shown cell's payload is [R, F]; hidden cells have none.
    first = shown["data"].index(cells[(1, 1)])
    assert chart.payload(0, first) == ["1", "1"]
    assert chart.payload(0, shown["data"].index(cells[(5, 4)])) == ["5", "4"]
    assert 1 not in chart.drill


def test_an_rfm_grid_with_nothing_hidden_has_one_series():
    grid = _grid().with_columns(customers=pl.col("customers").fill_null(0), hidden=None)
    chart = charts.rfm_grid_heatmap(grid)
    assert len(chart.option["series"]) == 1
    assert len(chart.drill[0]) == 25


def test_the_sankey_leaves_hidden_flows_out_and_drills_to_a_flow():
    table = pl.DataFrame(
        {
            "from_segment": ["Champions", "Champions", "Champions", "Loyal", "<Lost>"],
            "to_segment": ["Champions", "Loyal", "<Lost>", "Loyal", "<Lost>"],
            "customers": [120, None, 0, 80, 30],
        }
    )
    colours = charts.segment_colours(["Champions", "Loyal"])

    chart = charts.migration_sankey(table, colours, "2025-Q1", "2025-Q2")

    sankey = chart.option["series"][0]
    assert sankey["type"] == "sankey" and sankey["selectedMode"] == "single"
    assert [n["name"] for n in sankey["data"]] == [
        "Champions (2025-Q1)",
        "Loyal (2025-Q1)",
        "<Lost> (2025-Q1)",
        "Champions (2025-Q2)",
        "Loyal (2025-Q2)",
        "<Lost> (2025-Q2)",
    ]
    # The hidden flow (None) and the empty one (0) are not drawn.
    assert [(k["source"], k["target"], k["value"]) for k in sankey["links"]] == [
        (0, 3, 120),
        (1, 4, 80),
        (2, 5, 30),
    ]
    assert [n["itemStyle"]["color"] for n in sankey["data"]] == [
        PALETTE[0],
        PALETTE[1],
        charts.OTHER_COLOUR,
    ] * 2
    assert sankey["data"][0]["tooltip"]["formatter"] == (
        "<b>Champions (2025-Q1)</b><br>120 customers"
    )
    assert sankey["links"][2]["tooltip"]["formatter"] == (
        "<b>&lt;Lost&gt; → &lt;Lost&gt;</b><br>30 customers"
    )
    assert picked(_edge(1), chart) == ["Loyal", "Loyal"]
    assert picked(_edge(2), chart) == ["<Lost>", "<Lost>"]
    # A node is no flow.
    node = {"series_index": 0, "data_indices": [0], "data_type": "node"}
    assert picked({"selection": {"selected": [node], "areas": []}}, chart) is None
    assert chart.height == 420


def test_the_profile_puts_the_first_cluster_on_top_and_a_hidden_size_is_left_out():
    profile = dict.fromkeys(charts.FEATURE_LABELS, 0.0) | {"log_recency": -1.234}
    clusters = [
        {"name": "Lapsed", "customers": 2872, "profile": profile},
        {"name": "New", "customers": None, "profile": profile},
    ]

    chart = charts.profile_heatmap(clusters)

    assert chart.option["yAxis"]["data"] == ["Lapsed (2,872)", "New"]
    assert chart.option["yAxis"]["inverse"] is True
    assert chart.option["xAxis"]["data"][0] == "Recency"
    first = chart.option["series"][0]["data"][0]
    assert first["value"] == [0, 0, -1.234] and first["label"]["formatter"] == "-1.2"
    assert first["tooltip"]["formatter"] == (
        "<b>Lapsed (2,872)</b><br>Recency: -1.23 sd from all customers"
    )
    assert chart.option["series"][0]["data"][1]["label"]["formatter"] == "+0.0"
    assert (chart.option["visualMap"]["min"], chart.option["visualMap"]["max"]) == (-2.5, 2.5)
    assert chart.height == 280


def test_the_silhouette_marks_the_chosen_k():
    chart = charts.silhouette_chart({"10": 0.2, "2": 0.31, "3": 0.412}, chosen=3)
    assert chart.option["xAxis"]["data"] == ["2", "3", "10"]
    bars = chart.option["series"][0]["data"]
    assert [b["itemStyle"]["color"] for b in bars] == [MUTED, SELECTED_COLOUR, MUTED]
    assert bars[1]["tooltip"]["formatter"] == "<b>k = 3: silhouette 0.412</b>"


def test_the_projection_has_one_series_per_segment_with_points_in_colour_order():
    points = pl.DataFrame({"x": [0.1, 0.2, 0.3], "y": [1.0, 2.0, 3.0], "segment": ["B", "A", "B"]})
    colours = {"A": "#111111", "Empty": "#222222", "B": "#333333"}

    chart = charts.projection_scatter(points, colours)

    series = chart.option["series"]
    assert [(s["name"], s["itemStyle"]["color"], s["datasetIndex"]) for s in series] == [
        ("A", "#111111", 0),
        ("B", "#333333", 1),
    ]
    sources = [d["source"] for d in chart.option["dataset"]]
    assert sources[1].to_dict(as_series=False) == {"x": [0.1, 0.3], "y": [1.0, 3.0]}


def test_the_holdout_leaves_a_missing_mean_without_a_bar():
    rows = [
        {"bucket": 0, "actual": 0.5, "predicted": 0.712},
        {"bucket": 7, "actual": None, "predicted": 2.6},
    ]

    chart = charts.holdout_chart(rows)

    assert chart.option["xAxis"]["data"] == ["0", "7+"]
    actual, predicted = chart.option["series"]
    assert (actual["name"], actual["itemStyle"]["color"]) == ("Actual", PALETTE[0])
    assert actual["data"][1] is None
    assert predicted["data"][0]["value"] == 0.712
    assert predicted["data"][0]["tooltip"]["formatter"] == (
        "<b>0 repeat purchases before the holdout</b><br>Predicted: 0.71"
    )
