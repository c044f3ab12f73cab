"""In a real browser: a viewer limited to one country cannot reach another's customer, and
several open pages keep working, old or new, while an analyst loads a new version."""

from __future__ import annotations

import re
import threading

from browser_helpers import read_metrics, screenshot, sign_in, wait_for_app
from playwright.sync_api import expect

from analytics.accounts import AccountStore
from analytics.ingest.pipeline import ingest

PASSWORD = "correct horse battery"
JUNE = b"order_id,customer_id,order_date,amount\nO5,C2,2025-06-01,500.00\nO6,C3,2025-06-02,20.25\n"


def test_a_limited_viewer_cannot_reach_another_country(
    tiny_warehouse, start_app, page, tmp_path, monkeypatch
):
    store = AccountStore(tmp_path / "accounts.toml")
    store.add("vera", "viewer", PASSWORD)
    store.set_limits("vera", {"country": ["US"]})
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")
    url = start_app(tiny_warehouse.root)
    page.goto(url)
    wait_for_app(page)
    sign_in(page, "vera", PASSWORD)

    assert (read_metrics(page)["Orders"], read_metrics(page)["Revenue"]) == ("2", "$179.75")
    page.mouse.move(0, 0)  # no tooltip of a card under the pointer, over the navigation
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Customer 360").click()
    expect(page.get_by_role("heading", name="Customer 360")).to_be_visible()
    for text in ("C1", "Ada"):  # Ada Lovelace, customer C1, is in GB
        search = page.get_by_label("Find a customer")
        search.fill(text)
        search.press("Enter")
        wait_for_app(page)
        expect(page.get_by_text("No customer matches.")).to_be_visible()
    expect(page.get_by_text("Ada Lovelace")).to_have_count(0)
    screenshot(page, "viewer-other-country-search")

    # A link to her, opened in a new session of the same browser: still vera, still nothing.
    page.goto(url + "/customer?customer=C1")
    wait_for_app(page)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_text("No customer has the id C1 in any dataset.")).to_be_visible()
    expect(page.get_by_text("Ada Lovelace")).to_have_count(0)


def test_open_pages_see_old_or_new_data_while_a_load_commits(tiny_warehouse, start_app, chromium):
    url = start_app(tiny_warehouse.root)
    contexts = [chromium.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(4)]
    pages = [context.new_page() for context in contexts]
    try:
        for page in pages:
            page.goto(url)
            wait_for_app(page)
            assert read_metrics(page)["Orders"] == "3"
        loader = threading.Thread(
            target=ingest,
            args=(JUNE,),
            kwargs={
                "dataset_name": "orders",
                "warehouse": tiny_warehouse,
                "file_name": "june.csv",
                "user": "analyst",
            },
        )
        loader.start()
        seen = set()
        while loader.is_alive() or len(seen) < 2:
            for page in pages:
                page.reload()
                wait_for_app(page)
                assert not page.get_by_test_id("stException").count()
                seen.add(read_metrics(page)["Orders"])
            if not loader.is_alive() and "5" in seen:
                break
        loader.join()
        assert seen <= {"3", "5"} and "5" in seen
        for page in pages:
            page.reload()
            wait_for_app(page)
            expect(page.get_by_test_id("stMetricValue").nth(1)).to_have_text(re.compile("^5$"))
    finally:
        for context in contexts:
            context.close()
