"""Segments page (AppTest): the table, a segment's customers, the tabs, and the building state."""

from __future__ import annotations

import json

from apptest_helpers import metrics, open_page, open_tab

from analytics import derived, segments
from analytics.ingest.pipeline import ingest

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
    grid = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"][0]
    assert grid["text"][2] == ["0", "0", "0", "0", "0"]  # R 3: nobody


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
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heatmap, silhouette = charts[0]["data"][0], charts[1]["data"][0]
    assert len(heatmap["y"]) == 6 and silhouette["x"] == list(range(2, 11))


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
