"""Quarterly review page (AppTest): the story in reading order, presentation mode's slides
and navigation, a file made on request, a viewer's review within their access, and the
wait while the derived tables are built."""

from __future__ import annotations

import pytest
from apptest_helpers import APP, open_page
from streamlit.testing.v1 import AppTest

from analytics import derived, review
from analytics.accounts import AccountStore
from analytics.filters import Filters
from analytics.warehouse import QueryGateway
from dashboard import data

REVIEW = "views/review.py"
PASSWORD = "correct horse battery"


@pytest.fixture
def sample(warehouse_dir, sample_warehouse, monkeypatch):
    derived.refresh(sample_warehouse)
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    return sample_warehouse


@pytest.mark.slow
def test_the_incident_quarter_in_reading_order(sample):
    at = open_page(REVIEW, quarter="2025-Q2")

    assert at.title[0].value == "Quarterly review"
    headers = [h.value for h in at.header]
    assert headers[:3] == ["The quarter in brief", "Scorecard", "NPS"]
    assert headers[-1] == "About this review"
    messages = [m.value.replace("\\", "") for m in at.markdown]  # shown literally
    assert messages[0] == "6 headline KPIs changed significantly from 2025-Q1."
    assert messages[1].startswith("1. NPS fell 16.5 points to 11.9 (95 % CI 7.6 to 16.2)")
    scorecard = at.dataframe[0].value
    assert scorecard["KPI"].tolist()[:2] == ["NPS", "CSAT"]
    assert scorecard["vs quarter before"].tolist()[:2] == ["▼ −16.5", "▼ −14.8 pts"]
    assert len(at.get("echarts_chart")) == 11
    assert not at.get("plotly_chart")  # the page does not load Plotly in the browser
    assert [b.label for b in at.button] == ["Present", "Make the file"]


@pytest.mark.slow
def test_presentation_mode_moves_between_slides_and_leaves(sample):
    at = open_page(REVIEW, quarter="2025-Q2")
    at.button[0].click().run()  # Present
    assert at.query_params["present"] == "1" and at.query_params["slide"] == "1"
    assert at.title[0].value == "Quarterly review 2025-Q2"
    assert [b.label for b in at.button] == ["Previous", "Next", "Leave"]
    assert at.button[0].disabled

    for _ in range(3):
        next(b for b in at.button if b.label == "Next").click().run()
    assert at.query_params["slide"] == "4"
    assert [h.value for h in at.header] == ["NPS"]
    assert len(at.get("echarts_chart")) == 1
    next(b for b in at.button if b.label == "Previous").click().run()
    assert [h.value for h in at.header] == ["Scorecard"]

    next(b for b in at.button if b.label == "Leave").click().run()
    assert "present" not in at.query_params
    assert at.title[0].value == "Quarterly review"


@pytest.mark.slow
def test_a_file_is_made_only_when_asked_then_offered(sample):
    at = open_page(REVIEW, quarter="2025-Q2")
    assert not at.get("download_button")
    at.segmented_control(key="review_format").set_value("html").run()
    next(b for b in at.button if b.label == "Make the file").click().run()

    assert not at.exception, at.exception
    (download,) = at.get("download_button")
    assert download.proto.label == "Download touchpoint-review-2025-Q2.html"


@pytest.mark.slow
def test_a_viewers_review_is_computed_within_their_access(sample, tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_ACCOUNTS", str(tmp_path / "accounts.toml"))
    store = AccountStore(tmp_path / "accounts.toml")
    store.add("vic", "viewer", PASSWORD)
    store.set_limits("vic", {"region": ["EMEA"]})
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.text_input(key="signin_name").input("vic")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()
    at.switch_page(REVIEW)
    at.query_params["quarter"] = "2025-Q2"
    at.run()
    assert not at.exception, at.exception

    emea = review.quarterly_review(
        QueryGateway(sample), "2025-Q2", Filters(region=("EMEA",))
    ).scorecard
    orders = int(emea.filter(emea["kpi"] == "orders")["value"][0])
    shown = at.dataframe[0].value
    assert shown.loc[shown["KPI"] == "Orders", "Value"].item() == f"{orders:,}"


def test_while_the_derived_tables_are_built_the_page_waits(tiny_warehouse, monkeypatch):
    monkeypatch.setattr(data, "derived_pending", lambda wh: True)

    at = open_page(REVIEW)

    assert at.title[0].value == "Quarterly review"
    assert "Preparing the segments, journeys and themes" in at.info[0].value


@pytest.mark.slow
def test_after_an_append_the_review_of_the_data_before_it_is_shown_and_says_so(
    sample, tmp_path, monkeypatch
):
    import shutil
    import threading

    from analytics.ingest.pipeline import ingest
    from analytics.warehouse import Warehouse

    shutil.copytree(sample.root, tmp_path / "copy")
    copy = Warehouse(tmp_path / "copy")
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(copy.root))
    before = open_page(REVIEW, quarter="2025-Q2")
    orders_before = copy.version("orders")
    someone = QueryGateway(copy).query("SELECT min(customer_id) FROM customers").item()
    order = f"order_id,customer_id,order_date,amount,status\nNEW1,{someone},2025-12-31,20,\n"
    assert ingest(order.encode(), dataset_name="orders", warehouse=copy, user="t").loaded
    # The background build of the new data is still running while the page is open.
    release = threading.Event()
    monkeypatch.setattr(derived, "refresh_rest", lambda *args, **kwargs: release.wait(120))
    try:
        at = open_page(REVIEW, quarter="2025-Q2")

        assert "This is the review of the data before the latest load" in at.info[0].value
        assert f"orders v{orders_before}," in at.caption[0].value
        assert at.dataframe[0].value.equals(before.dataframe[0].value)
        assert not at.exception
    finally:
        release.set()
