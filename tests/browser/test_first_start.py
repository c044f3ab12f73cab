"""First start in a real browser: an empty warehouse gets the sample company, and says so."""

from __future__ import annotations

import re

import pytest
from browser_helpers import read_metrics, screenshot, wait_for_app
from playwright.sync_api import expect

from analytics.sample import SAMPLE_FILES
from dashboard.data import SAMPLE_DIR

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAMPLE_LOAD_TIMEOUT_MS = 300_000


def test_empty_warehouse_loads_the_sample_company_with_a_notice(warehouse_dir, start_app, page):
    missing = [name for name in SAMPLE_FILES if not (SAMPLE_DIR / name).is_file()]
    if missing:
        pytest.skip(
            f"data/sample/ lacks {', '.join(missing)}: run `make sample` to write the sample "
            "company's exports, then rerun this test."
        )
    page.goto(start_app(warehouse_dir, sample_on_empty=True))

    expect(page.get_by_text("Loading the sample company so you can explore…")).to_be_visible()
    screenshot(page, "first-start-loading")
    notice = page.get_by_text(
        re.compile(r"^Touchpoint loaded the sample company \(20,000 customers with their ")
    )
    expect(notice).to_be_visible(timeout=SAMPLE_LOAD_TIMEOUT_MS)
    expect(notice).to_contain_text("upload your own exports on the Data page.")
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(9)
    # The sample's latest quarter, 2025-Q4 (data/sample/README.md).
    assert read_metrics(page)["Active customers"] == "5,180"
    assert not page.get_by_test_id("stException").count()
    screenshot(page, "first-start-overview")
