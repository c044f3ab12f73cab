"""Segments in a real browser: select a segment, open one of its customers in Customer 360."""

from __future__ import annotations

import re

from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect
from test_drill_flow import grid_row

from analytics import segments


def test_select_a_segment_then_a_customer_shows_their_segment(tiny_warehouse, start_app, page):
    segments.refresh(tiny_warehouse)
    url = start_app(tiny_warehouse.root)
    page.goto(url + "/segments?method=rfm")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Segments")).to_be_visible()
    screenshot(page, "segments-1-table")

    grid_row(page, 0, 2)  # Lost: C1; the whole app is narrowed to it
    expect(page).to_have_url(re.compile(r"segment=Lost"))
    wait_for_app(page)
    expect(page.get_by_text("1 customer, highest lifetime value first.")).to_be_visible()
    expect(page.get_by_text("Every page now shows this segment only")).to_be_visible()
    screenshot(page, "segments-2-members")

    grid_row(page, 1, 0)
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/customer\?.*customer=C1"))
    cards = page.get_by_test_id("stMetric")
    expect(cards.filter(has_text="RFM segment")).to_contain_text("Lost")
    assert not page.get_by_test_id("stException").count()
    screenshot(page, "segments-3-customer-360")
