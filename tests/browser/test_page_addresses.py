"""In a real browser, on the server `make run` starts (`dashboard/server.py`): a page opened
by its address in a new tab asks the server's health once, at the root, and works; an
address that is no page's still gets the app."""

from __future__ import annotations

from browser_helpers import read_metrics, wait_for_app
from playwright.sync_api import expect


def test_a_page_opened_by_its_address_finds_the_server_at_once(tiny_warehouse, start_app, page):
    url = start_app(tiny_warehouse.root)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    page.goto(f"{url}/kpis?kpi=orders")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="KPIs")).to_be_visible()
    expect(page.get_by_role("combobox", name="KPI")).to_have_value("Orders")  # the link's KPI
    # Streamlit's scripts would otherwise ask `/kpis/_stcore/health` first, wait and retry.
    assert [a for a in asked if "_stcore/health" in a] == [f"{url}/_stcore/health"]
    assert [a for a in asked if "_stcore/host-config" in a] == [f"{url}/_stcore/host-config"]

    # The sidebar's links still lead to every page, with the data shown.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_for_app(page)
    assert read_metrics(page)["Orders"] == "3"


def test_an_address_that_is_no_page_still_gets_the_app(tiny_warehouse, start_app, page):
    url = start_app(tiny_warehouse.root)
    page.goto(f"{url}/no-such-page")
    wait_for_app(page)
    # Streamlit's own answer to an unknown page: the default page, with a notice.
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
