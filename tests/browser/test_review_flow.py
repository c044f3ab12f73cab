"""The quarterly review in a real browser: presentation mode driven by the keyboard and the
buttons, then an HTML file made, downloaded (and audited), and opened with the network
cut off: it draws every chart and presents itself without fetching anything."""

from __future__ import annotations

import re

from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect

from analytics import audit, derived
from analytics.bootstrap import load_sample_files
from analytics.sample import write_sample_company
from analytics.warehouse import Warehouse


def slide(page, number: int) -> None:
    expect(page).to_have_url(re.compile(rf"slide={number}(&|$)"), timeout=20_000)
    wait_for_app(page)


def test_present_the_quarter_then_take_the_file_away(tmp_path, start_app, page, chromium):
    files = write_sample_company(tmp_path / "exports", customers=2_000, seed=3)
    warehouse = Warehouse(tmp_path / "warehouse")
    load_sample_files(warehouse, files, user="tester")
    derived.refresh(warehouse)
    url = start_app(warehouse.root)
    page.goto(url + "/review?quarter=2025-Q2")
    wait_for_app(page, 60_000)
    expect(page.get_by_role("heading", name="Quarterly review", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="The quarter in brief")).to_be_visible()
    screenshot(page, "review-1-page")

    page.get_by_role("button", name="Present").click()
    slide(page, 1)
    expect(page.get_by_role("heading", name="Quarterly review 2025-Q2")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    page.keyboard.press("ArrowRight")
    slide(page, 2)
    expect(page.get_by_role("heading", name="The quarter in brief")).to_be_visible()
    page.keyboard.press("PageDown")  # what a presentation clicker sends
    slide(page, 3)
    expect(page.get_by_role("heading", name="Scorecard")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    slide(page, 4)
    page.wait_for_timeout(500)
    screenshot(page, "review-2-slide")
    page.get_by_role("button", name="Previous").click()
    slide(page, 3)
    page.keyboard.press("Escape")
    expect(page).not_to_have_url(re.compile(r"present=1"), timeout=20_000)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Quarterly review", exact=True)).to_be_visible()

    page.get_by_text("Take it away: HTML, PDF or PowerPoint").click()
    page.get_by_text("HTML (interactive)", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Make the file").click()
    download_button = page.get_by_role("button", name="Download touchpoint-review-2025-Q2.html")
    expect(download_button).to_be_visible(timeout=60_000)
    with page.expect_download() as event:
        download_button.click()
    saved = tmp_path / "review.html"
    event.value.save_as(saved)
    assert "<title>Quarterly review 2025-Q2</title>" in saved.read_text(encoding="utf-8")
    wait_for_app(page)
    entry = audit.read_log(warehouse.root, newest=1).row(0, named=True)
    assert entry["event"] == "export"
    assert "file=touchpoint-review-2025-Q2.html" in entry["details"]

    offline = chromium.new_context(viewport={"width": 1280, "height": 800})
    fetched: list[str] = []

    def refuse(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    offline.route("**/*", refuse)
    opened = offline.new_page()
    opened.goto(saved.as_uri())
    opened.wait_for_function("window.reviewReady === true", timeout=60_000)
    charts = opened.locator(".chart .main-svg")
    assert charts.count() >= 2 * 10  # plotly draws two svg layers per chart
    opened.keyboard.press("p")
    expect(opened.locator("#cover")).to_be_visible()
    opened.keyboard.press("ArrowRight")
    expect(opened.locator("#summary")).to_be_visible()
    expect(opened.locator("#cover")).to_be_hidden()
    expect(opened.locator("#counter")).to_have_text(re.compile(r"^2 / \d+$"))
    opened.screenshot(path=str(saved.with_suffix(".png")))
    offline.close()
    assert fetched == []
