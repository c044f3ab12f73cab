"""Journeys in a real browser: click a funnel step, see who stopped there, open one of them
in Customer 360."""

from __future__ import annotations

import re

from browser_helpers import chart_marks, click_mark, screenshot, wait_for_app
from playwright.sync_api import expect
from test_drill_flow import grid_row

from analytics import journeys
from analytics.bootstrap import load_sample_files
from analytics.sample import write_sample_company
from analytics.warehouse import Warehouse
from dashboard.charts.base import PALETTE


def test_funnel_step_to_customers_to_customer_360(tmp_path, start_app, page):
    files = write_sample_company(tmp_path / "exports", customers=400, seed=3)
    warehouse = Warehouse(tmp_path / "warehouse")
    load_sample_files(warehouse, files, user="tester")
    journeys.refresh(warehouse)
    url = start_app(warehouse.root)
    page.goto(url + "/journeys?jby=none")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Journeys")).to_be_visible()
    screenshot(page, "journeys-1-funnel")

    bars = chart_marks(page, 0, PALETTE[0])  # the funnel: one group, one colour
    expect(bars).to_have_count(6)
    click_mark(page, bars, 1)  # consideration
    expect(
        page.get_by_role("heading", name="Reached consideration, never went further")
    ).to_be_visible()
    wait_for_app(page)
    screenshot(page, "journeys-2-dropped")

    grid_row(page, 1, 0)  # the first customer who stopped at consideration
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/customer\?.*customer=C\d+"))
    expect(page.get_by_text("Timeline").first).to_be_visible()
    assert not page.get_by_test_id("stException").count()
    screenshot(page, "journeys-3-customer-360")
