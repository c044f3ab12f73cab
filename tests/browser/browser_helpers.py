"""Page helpers shared by the browser tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
APP_READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_for_app(page: Page, timeout_ms: int = 30_000) -> None:
    """Wait until the script has finished its run and no skeleton placeholder is left."""
    page.wait_for_selector(APP_READY, timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def sign_in(page: Page, name: str, password: str) -> None:
    """Fill the sign-in form of the page shown and wait for the Overview."""
    page.get_by_label("User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_for_app(page)


def read_metrics(page: Page) -> dict[str, str]:
    cards = page.get_by_test_id("stMetric")
    return {
        cards.nth(i).get_by_test_id("stMetricLabel").inner_text().strip(): cards.nth(i)
        .get_by_test_id("stMetricValue")
        .inner_text()
        .strip()
        for i in range(cards.count())
    }


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page: Streamlit scrolls inside its main area, so grow the viewport first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size or {"width": 1440, "height": 1000}
    content = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], content)})
    try:
        page.wait_for_timeout(300)  # let the grid and charts re-measure at the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(viewport)
    return path


def chart_marks(page: Page, index: int, fill: str) -> Locator:
    """The marks (bars, symbols, cells) filled with `fill` in the page's `index`-th chart.
    The pages draw ECharts as SVG: one path per mark, in the order of the chart's data."""
    chart = page.get_by_test_id("stEChartsChart").nth(index)
    return chart.locator(f"svg path[fill='{fill}']")


def click_mark(page: Page, marks: Locator, nth: int) -> None:
    """Click the `nth` of the marks at its centre (ECharts reads clicks by position)."""
    mark = marks.nth(nth)
    mark.scroll_into_view_if_needed()
    box = mark.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
