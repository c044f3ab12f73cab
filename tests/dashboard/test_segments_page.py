"""Segments page (AppTest): the table, a segment's customers, the tabs, and the building state."""

from __future__ import annotations

import json

from apptest_helpers import click_chart, metrics, open_page, open_tab

from analytics import derived, segments
from analytics.ingest.pipeline import ingest
from dashboard.charts.base import PALETTE

SEGMENTS = "views/segments.py"


def test_while_the_segmentation_is_built_the_page_says_so(tiny_warehouse, monkeypatch):
    monkeypatch.setattr(segments, "current", lambda *args, **kwargs: None)

    at = open_page(SEGMENTS)

    assert at.title[0].value == "Segments"
    assert "Segmenting the current data" in at.info[0].value
    assert not at.dataframe


def test_the_tiny_company_by_rfm(tiny_warehouse):
    segments.refresh(tiny_warehouse)

    at = open_page(SEGMENTS, method="rfm")

    table = at.dataframe[0].value
    assert table["segment"].to_list() == ["Promising", "Hibernating", "Lost"]
    assert table["customers"].to_list() == [1, 1, 1]
    assert [t.label for t in at.tabs] == [
        "Profiles",
        "Migration",
        "RFM grid",
        "Who to call",
        "Model check",
    ]
    # Three customers are too few for the models: the page says why instead of failing.
    infos = [i.value for i in at.info]
    assert any("No clusters: n_customers=3 should be >= 4" in v for v in infos)
    open_tab(at, "stab", "RFM grid")
    grid = json.loads(at.get("echarts_chart")[-1].proto.spec)
    assert grid["yAxis"]["data"] == ["1", "2", "3", "4", "5"]  # 5, the most recent, on top
    cells = {tuple(c["value"][:2]): c for c in grid["series"][0]["data"]}
    assert len(cells) == 25 and len(grid["series"]) == 1  # nothing hidden in local mode
    r3 = [cells[(f, 2)] for f in range(5)]
    assert [c["label"]["formatter"] for c in r3] == ["0", "0", "0", "0", "0"]  # R 3: nobody
    assert [c["value"][2] for c in r3] == [0, 0, 0, 0, 0]


def test_a_cell_of_the_rfm_grid_lists_its_buyers_and_opens_one(tiny_warehouse):
    segments.refresh(tiny_warehouse)
    at = open_page(SEGMENTS, method="rfm")
    open_tab(at, "stab", "RFM grid")
    grid = json.loads(at.get("echarts_chart")[-1].proto.spec)
    shown = grid["series"][0]["data"]  # [F - 1, R - 1, buyers]; nothing hidden here
    # ECharts selects by name: each cell has its own, or a click selects its whole column.
    assert [c["name"] for c in shown[:6]] == [f"R 1 · F {f}" for f in range(1, 6)] + ["R 2 · F 1"]
    assert len({c["name"] for c in shown}) == 25
    full = [i for i, c in enumerate(shown) if c["value"][2] > 0]
    assert [shown[i]["value"] for i in full] == [[0, 0, 1], [0, 1, 1], [0, 3, 1]]

    click_chart(at, "rfm_grid_", 0, full[2])  # R 4, F 1: one buyer

    assert not at.exception
    assert at.subheader[0].value == "Recency 4 · frequency 1"
    people = at.dataframe[-1].value
    assert people["customer_id"].to_list() == ["C3"]
    assert people["rfm_segment"].to_list() == ["Promising"]
    key = next(k for k in at.session_state if str(k).startswith("people_rfm-4-1"))
    at.session_state[key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert at.title[0].value == "Katherine Johnson"  # Customer 360


def test_a_chosen_segment_lists_its_customers_and_narrows_every_page(tiny_warehouse):
    segments.refresh(tiny_warehouse)
    at = open_page(SEGMENTS, method="rfm")

    at.multiselect(key="segment").set_value(["Lost"]).run()  # what selecting its row does

    assert at.dataframe[0].value["segment"].to_list() == ["Promising", "Hibernating", "Lost"]
    assert at.subheader[0].value == "Lost"
    people = at.dataframe[1].value
    assert people["customer_id"].to_list() == ["C1"]
    assert people["name"].to_list() == ["Ada Lovelace"]
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download Excel"]
    at.switch_page("views/overview.py").run()
    assert metrics(at)["Revenue"] == "$1,200"  # C1 alone


def test_the_sample_company_by_clusters(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))  # accounts: none
    segments.refresh(sample_warehouse)

    at = open_page(SEGMENTS, method="cluster")

    table = at.dataframe[0].value
    assert set(table["segment"]) == {
        "New",
        "Lapsed",
        "Discount-driven low-spend",
        "High-value loyal",
        "Big spenders",
        "Occasional",
        segments.UNCLUSTERED,
    }
    assert table["customers"].sum() == 20_000
    heatmap, silhouette, projection = [json.loads(c.proto.spec) for c in at.get("echarts_chart")]
    assert len(heatmap["yAxis"]["data"]) == 6 and len(heatmap["series"][0]["data"]) == 6 * 6
    assert silhouette["xAxis"]["data"] == [str(k) for k in range(2, 11)]
    # One series of points per cluster, in the profile's order and each cluster's own colour.
    clusters = [label.rsplit(" (", 1)[0] for label in heatmap["yAxis"]["data"]]
    assert set(clusters) == set(table["segment"]) - {segments.UNCLUSTERED}
    assert [s["name"] for s in projection["series"]] == clusters
    assert [s["itemStyle"]["color"] for s in projection["series"]] == list(PALETTE[:6])
    (caption,) = [m.value for m in at.markdown if "Customers by behaviour" in m.value]
    assert caption.endswith("first two principal components (5,000 drawn at random)")


def test_a_flow_of_the_migration_lists_its_customers(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    segments.refresh(sample_warehouse)
    at = open_page(SEGMENTS, method="rfm")
    open_tab(at, "stab", "Migration")
    option = json.loads(at.get("echarts_chart")[0].proto.spec)
    sankey = option["series"][0]
    nodes = [n["name"] for n in sankey["data"]]
    assert nodes[0] == "Champions (2025-Q3)" and nodes[-1].endswith("(2025-Q4)")
    link = sankey["links"][1]
    source = nodes[link["source"]].removesuffix(" (2025-Q3)")
    target = nodes[link["target"]].removesuffix(" (2025-Q4)")
    assert source != target

    click_chart(at, "migration_", 0, 1, "edge")

    assert not at.exception
    heading = at.subheader[0].value
    assert heading == f"{link['value']:,} {source} customers became {target}"
    people = at.dataframe[1].value
    assert len(people) == link["value"]


def test_after_an_append_the_page_shows_the_earlier_segments_and_says_so(
    tiny_warehouse, monkeypatch
):
    # The background build started by the app is held back: the new data's is "being made".
    monkeypatch.setattr(derived, "refresh_rest", lambda *args, **kwargs: {})
    segments.refresh(tiny_warehouse)
    before = open_page(SEGMENTS, method="rfm").dataframe[0].value
    assert before["segment"].to_list() == ["Promising", "Hibernating", "Lost"]
    # Two more orders of C2: scored again, the segments change.
    more = (
        b"order_id,customer_id,order_date,amount,status\n"
        b"O8,C2,2025-05-09,900,\nO9,C2,2025-05-10,900,\n"
    )
    assert ingest(more, dataset_name="orders", warehouse=tiny_warehouse, user="tester").loaded

    at = open_page(SEGMENTS, method="rfm")

    assert "These are the segments of the data before the latest load" in at.info[0].value
    assert at.dataframe[0].value.equals(before)
    assert not at.exception

    segments.refresh(tiny_warehouse)  # the background build is done
    at = open_page(SEGMENTS, method="rfm")

    assert not any("before the latest load" in i.value for i in at.info)
    assert at.dataframe[0].value["segment"].to_list() == ["Loyal", "Hibernating", "Lost"]


def test_the_profiles_say_why_k_is_what_it_is():
    from dashboard.components.segments import _k_choice

    scores = {"4": 0.361, "5": 0.366, "6": 0.2}
    assert _k_choice({"k": 5, "silhouette": scores}) == "k = 5 has the best silhouette"
    kept = {"k": 4, "silhouette": scores, "k_tolerance": 0.01, "started_from_previous": True}
    assert _k_choice(kept) == (
        "k = 4 as at the last load: its silhouette is within 0.01 of the best (k = 5); "
        "the clusters start from the last load's, so they stay put"
    )


def test_the_model_check_says_when_a_fit_went_to_the_models_limit_or_did_not_converge():
    from dashboard.components.segments import fit_notes

    def meta(r, alpha, q, gamma, converged=(True, True), a=1.0, b=2.0):
        return {
            "purchases": {
                "params": {"r": r, "alpha": alpha, "a": a, "b": b},
                "converged": converged[0],
            },
            "spend": {"params": {"p": 3.0, "q": q, "gamma": gamma}, "converged": converged[1]},
        }

    assert fit_notes(meta(0.84, 21.2, 1.6, 25.1)) == []
    assert fit_notes(meta(4.2e6, 2.1e7, 5_000.0, 1.0e5, (True, False))) == [
        "Customers buy at nearly the same rate: r and alpha went to the model's limit, "
        "where only their ratio counts (0.2 purchases a week).",
        "Customers spend nearly the same per purchase: q and gamma went to the model's "
        "limit, where only their ratio counts.",
        "The spend model's fit did not converge: read its numbers with care.",
    ]
    assert fit_notes(meta(1_000.0, 21.2, 1_000.0, 25.1, (False, True))) == [
        "The purchase model's fit did not converge: read its numbers with care."
    ]
    assert fit_notes(meta(0.84, 21.2, 1.6, 25.1, a=7_988.2, b=256_614.3)) == [
        "Customers stop buying with nearly the same chance after each purchase: a and b "
        "went to the model's limit, where only their ratio counts (0.0302)."
    ]
    assert fit_notes(meta(0.84, 21.2, 1.6, 25.1, a=1_500.0, b=0.002)) == []
