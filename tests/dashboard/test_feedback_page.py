"""Feedback page (AppTest): themes with growth, sentiment, key drivers, verbatims, the
dictionary editor, and the building and broken-settings states."""

from __future__ import annotations

import json

from apptest_helpers import open_page, open_tab

from analytics import derived, feedback
from analytics.feedback.settings import SETTINGS_NAME
from analytics.ingest.pipeline import ingest

FEEDBACK = "views/feedback.py"


def test_while_the_comments_are_analysed_the_page_says_so(tiny_warehouse, monkeypatch):
    monkeypatch.setattr(feedback, "current", lambda *args, **kwargs: None)

    at = open_page(FEEDBACK)

    assert at.title[0].value == "Feedback"
    assert "Analysing the comments of the current data" in at.info[0].value


def test_the_sample_company_in_the_incident_quarter(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    feedback.refresh(sample_warehouse)

    at = open_page(FEEDBACK, fgroup="detractor", fquarter="2025-Q2")

    growing = next(m.value for m in at.markdown if m.value.startswith("**Growing fastest"))
    assert "delivery · late · arrived, 59.9% of detractors' comments against 22.7%" in growing
    themes = at.dataframe[0].value
    assert themes["Theme"].iloc[0] == "delivery · late · arrived"
    assert [tab.label for tab in at.tabs] == [
        "Themes", "Sentiment", "Key drivers", "Verbatims", "Dictionary"
    ]  # fmt: skip
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    trend = specs[1]["data"]  # the themes quarter by quarter, detractors' comments
    delivery = next(t for t in trend if t["name"] == "delivery · late · arrived")
    q2 = delivery["x"].index("2025-Q2")
    assert round(delivery["y"][q2], 3) == 0.599 and delivery["marker"]["symbol"][q2] == "circle"

    open_tab(at, "ftab", "Key drivers")

    drivers = next(d.value for d in at.dataframe if "Importance" in d.value.columns)
    assert drivers["Driver"].tolist()[:3] == [
        "Delivery speed rating", "Product quality rating", "Value for money rating"
    ]  # fmt: skip
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    titles = [spec["layout"].get("xaxis", {}).get("title", {}).get("text") for spec in specs]
    assert "Importance (share of what the drivers explain)" in titles


def test_a_verbatim_search_lists_matching_comments(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    feedback.refresh(sample_warehouse)

    at = open_page(FEEDBACK, ftab="Verbatims", fsearch="courier", ftone="negative")

    comments = next(d.value for d in at.dataframe if "Comment" in d.value.columns)
    assert len(comments) > 0
    assert comments["Comment"].str.contains("(?i)courier").all()
    assert (comments["Sentiment"] <= -0.05).all()


def test_an_analyst_sets_the_number_of_themes(warehouse):
    from analytics import audit
    from analytics.ingest.pipeline import ingest

    comments = b"response_id,customer_id,responded_at,nps,comment\n" + b"".join(
        f"R{i},C{i % 5},2025-0{1 + i % 6}-10 10:00:00,{i % 11},{text}\n".encode()
        for i, text in enumerate(["The parcel was late", "Support was rude", "Great value"] * 4)
    )
    loaded = ingest(comments, dataset_name="surveys", warehouse=warehouse,
                    file_name="s.csv", user="t")  # fmt: skip
    assert loaded.loaded, loaded.message
    feedback.refresh(warehouse)
    at = open_page(FEEDBACK, ftab="Dictionary")
    # Too few differently worded comments for themes: the page says so.
    assert any("differently worded comments" in i.value for i in at.info)
    box = next(s for s in at.selectbox if s.label == "Themes to find in the comments")
    box.set_value("4")
    next(b for b in at.button if b.label == "Save and analyse again").click()
    at.run()

    assert not at.exception, at.exception
    assert feedback.load_settings(warehouse.root).k == 4
    entry = audit.read_log(warehouse.root, newest=1).row(0, named=True)
    assert entry["event"] == "settings_change" and "themes=4" in entry["details"]


def test_a_broken_settings_file_is_named_not_a_traceback(tiny_warehouse):
    path = tiny_warehouse.root / "_settings" / f"{SETTINGS_NAME}.json"
    path.parent.mkdir()
    path.write_text('{"k": "many"}')

    at = open_page(FEEDBACK)

    assert "'k' must be a number of themes or null" in at.error[0].value


def test_after_an_append_the_page_shows_the_earlier_analysis_and_says_so(
    tiny_warehouse, monkeypatch
):
    # The background build started by the app is held back: the new data's is "being made".
    monkeypatch.setattr(derived, "refresh_rest", lambda *args, **kwargs: {})
    feedback.refresh(tiny_warehouse)
    more = b"response_id,customer_id,responded_at,nps,csat\nR9,C2,2025-05-09 10:00:00,7,3\n"
    assert ingest(more, dataset_name="surveys", warehouse=tiny_warehouse, user="tester").loaded

    at = open_page(FEEDBACK)

    assert "These are the comment themes of the data before the latest load" in at.info[0].value
    assert not at.exception
