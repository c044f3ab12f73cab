"""The analyst's round trip in a real browser: Overview -> upload -> check -> confirm -> Overview.

Screenshots for people to look at land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import read_metrics, screenshot, wait_for_app
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# Two completed orders exported by a shop: semicolon delimiter, decimal commas, own headers.
NEW_ORDERS = (
    b"Order Number;Customer ID;Order Date;Total\nO5;C2;2025-06-01;500,00\nO6;C3;2025-06-02;20,25\n"
)
# The scorecard of the tiny company's latest quarter, 2025-Q2 (see tests/conftest.py).
BEFORE = {
    "Revenue": "$1,380",
    "Orders": "3",
    "Average order value": "$459.92",
    "Active customers": "3",
    "New customers": "3",
    "Retention rate": "—",
    "NPS": "25.0",
    "CSAT": "66.7%",
    "Tickets": "0",
}
AFTER = {**BEFORE, "Orders": "5", "Revenue": "$1,900", "Average order value": "$380.00"}


def go_to(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile(title)).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    wait_for_app(page)


def button(page: Page, label: str, scope=None):
    root = scope if scope is not None else page
    return root.get_by_role("button", name=re.compile(rf"^(\S+ )?{re.escape(label)}$"))


def test_upload_check_load_then_overview_shows_new_totals(tiny_warehouse, start_app, page):
    page.goto(start_app(tiny_warehouse.root))
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(9)
    assert read_metrics(page) == BEFORE
    screenshot(page, "overview-before")

    go_to(page, "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "shop_export.csv", "mimeType": "text/csv", "buffer": NEW_ORDERS}]
    )
    expect(button(page, "Check")).to_be_visible()
    wait_for_app(page)
    button(page, "Check").click()
    expect(page.get_by_text("Every row is valid for orders (2 rows).")).to_be_visible()
    wait_for_app(page)
    screenshot(page, "data-report")

    button(page, "Load…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Load 2 rows into orders (append)?")).to_be_visible()
    screenshot(page, "data-confirm-dialog")
    button(page, "Load", dialog).click()
    expect(
        page.get_by_text(re.compile(r"^Loaded 2 rows into orders \(version \d+\)"))
    ).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    wait_for_app(page)
    screenshot(page, "data-loaded")

    go_to(page, "Overview")
    expect(page.get_by_test_id("stMetric")).to_have_count(9)
    assert read_metrics(page) == AFTER
    screenshot(page, "overview-after")
    page.emulate_media(color_scheme="dark")  # config.toml defines both themes; the OS picks
    page.reload()
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(9)
    screenshot(page, "overview-after-dark")


# One good row, one amount that is not a number, one order id that is already loaded.
MIXED_ORDERS = (
    b"order_id,customer_id,order_date,amount\n"
    b"O7,C1,2025-07-01,10.00\n"
    b"O8,C2,2025-07-02,lots\n"
    b"O1,C3,2025-07-03,5.00\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def test_bad_files_explain_themselves_and_quarantine_loads_the_rest(
    tiny_warehouse, start_app, page
):
    before = tiny_warehouse.data_version()
    page.goto(start_app(tiny_warehouse.root) + "/data")
    wait_for_app(page)
    # Regression: with a `pages/` folder, a deep link ran the page without the entry point.
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name=re.compile("Overview"))).to_be_visible()
    expect(nav.get_by_text("Manage")).to_be_visible()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[
            {"name": "logo.csv", "mimeType": "text/csv", "buffer": PNG},
            {"name": "orders_july.csv", "mimeType": "text/csv", "buffer": MIXED_ORDERS},
        ]
    )
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(1)
    expect(button(page, "Check")).to_have_count(1)
    wait_for_app(page)
    button(page, "Check").click()
    expect(
        page.get_by_text("2 of 3 rows have problems for orders; 1 row is valid.")
    ).to_be_visible()
    page.get_by_role("radio", name="Load valid rows, quarantine the rest").check(force=True)
    expect(button(page, "Load…")).to_be_visible()
    wait_for_app(page)
    screenshot(page, "data-problems")
    assert not page.get_by_test_id("stException").count()
    assert tiny_warehouse.data_version() == before

    button(page, "Load…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("2 invalid rows will be quarantined.")
    button(page, "Load", dialog).click()
    expect(page.get_by_text(re.compile(r"^Loaded 1 rows? into orders"))).to_be_visible()
    wait_for_app(page)

    page.get_by_role("tab", name="Load history").click()
    page.get_by_test_id("stButtonGroup").get_by_role("radio", name="orders").click()
    expect(page.get_by_text("Roll orders back to")).to_be_visible()
    wait_for_app(page)
    screenshot(page, "data-history")
    page.get_by_role("tab", name="Quarantined rows").click()
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download CSV")).click()
    assert b"lots" in download.value.path().read_bytes()
