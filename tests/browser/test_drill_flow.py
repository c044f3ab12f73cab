"""Drill-down in a real browser: a link with filters, a clicked bar, Customer 360, and back."""

from __future__ import annotations

import re

from browser_helpers import chart_marks, click_mark, screenshot, wait_for_app
from playwright.sync_api import Page, expect

from dashboard.charts.base import LINE_COLOUR


def grid_row(page: Page, index: int, row: int) -> None:
    """Click a row's selection cell in the `index`-th data grid (a canvas: by position)."""
    grid = page.get_by_test_id("stDataFrame").nth(index)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + 35 + row * 35 + 17)


def test_link_bar_click_customer_360_and_back(tiny_warehouse, start_app, page):
    url = start_app(tiny_warehouse.root)
    # April 2025 only, broken down by country: GB (C1, 1,200.00) and US (C2 + C3, 179.75).
    page.goto(
        url + "/kpis?kpi=revenue&grain=month&from=2025-04-01&to=2025-04-30&at=2025-04&split=country"
    )
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Revenue in 2025-04")).to_be_visible()
    expect(page.get_by_test_id("stDateInput").first.locator("input")).to_have_value("2025-04-01")
    screenshot(page, "drill-1-period")

    bars = chart_marks(page, 1, LINE_COLOUR)
    expect(bars).to_have_count(2)
    click_mark(page, bars, 1)  # sorted by value: GB first, US second
    expect(page.get_by_role("heading", name="Revenue in 2025-04 · US")).to_be_visible()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"group=US"))
    screenshot(page, "drill-2-group")

    grid_row(page, 0, 0)  # C3, the larger of the two US customers
    expect(page.get_by_role("heading", name="Katherine Johnson")).to_be_visible()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/customer\?.*customer=C3"))
    screenshot(page, "drill-3-customer-360")

    page.get_by_role("button", name="US", exact=True).click()  # the breadcrumb
    expect(page.get_by_role("heading", name="Revenue in 2025-04 · US")).to_be_visible()
    wait_for_app(page)
    page.get_by_role("button", name="2025-04", exact=True).click()  # the breadcrumb
    expect(page.get_by_role("heading", name="Revenue in 2025-04", exact=True)).to_be_visible()
    wait_for_app(page)
    expect(page).not_to_have_url(re.compile(r"group="))
    assert not page.get_by_test_id("stException").count()
    screenshot(page, "drill-4-back")
