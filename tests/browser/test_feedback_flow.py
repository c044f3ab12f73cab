"""Feedback in a real browser: search the verbatims, open a comment's customer in Customer
360."""

from __future__ import annotations

import re

from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect

from analytics import feedback
from analytics.bootstrap import load_sample_files
from analytics.sample import write_sample_company
from analytics.warehouse import Warehouse


def visible_grid_row(page, row: int) -> None:
    """Click a row's selection cell in the one data grid on show (other tabs' grids are in
    the page but hidden)."""
    grids = page.get_by_test_id("stDataFrame")
    shown = [grids.nth(i) for i in range(grids.count()) if grids.nth(i).is_visible()]
    assert len(shown) == 1, f"{len(shown)} grids on show"
    shown[0].scroll_into_view_if_needed()
    box = shown[0].bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + 35 + row * 35 + 17)


def test_search_verbatims_and_open_the_customer(tmp_path, start_app, page):
    files = write_sample_company(tmp_path / "exports", customers=600, seed=3)
    warehouse = Warehouse(tmp_path / "warehouse")
    load_sample_files(warehouse, files, user="tester")
    feedback.refresh(warehouse)
    url = start_app(warehouse.root)
    page.goto(url + "/feedback")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Feedback")).to_be_visible()
    screenshot(page, "feedback-1-themes")

    page.get_by_role("tab", name="Verbatims").click()
    box = page.get_by_label("Search the comments")
    box.fill("support")
    box.press("Enter")
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"\d+ comments?, newest first"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"fsearch=support"))
    screenshot(page, "feedback-2-verbatims")

    visible_grid_row(page, 0)  # the newest comment mentioning support (not anonymous)
    expect(page).to_have_url(re.compile(r"/customer\?.*customer=C\d+"), timeout=20_000)
    wait_for_app(page)
    expect(page.get_by_text("Timeline").first).to_be_visible()
    assert not page.get_by_test_id("stException").count()
    screenshot(page, "feedback-3-customer-360")
