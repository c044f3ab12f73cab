"""The system Chromium, driven by Playwright, as the review's offline renderer: it prints
the review's HTML to PDF and photographs its charts for the deck. Debian's `chromium`
package (or TOUCHPOINT_CHROMIUM); nothing is ever downloaded.

Each call starts its own headless browser in a thread of its own (Playwright's sync API
refuses a thread that runs an event loop, as a server's may).
"""

from __future__ import annotations

import html
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from analytics.errors import ConfigError

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH = 1030  # CSS pixels: an A4 landscape page less its margins (273 mm at 96 dpi)
PAGE_HEIGHT = 780
SCALE = 2  # chart images at twice the CSS resolution
READY_TIMEOUT_MS = 60_000
T = TypeVar("T")


def executable() -> Path:
    """The Chromium to use: TOUCHPOINT_CHROMIUM, else the first on PATH."""
    named = os.environ.get("TOUCHPOINT_CHROMIUM")
    if named:
        if not Path(named).is_file():
            raise ConfigError(f"TOUCHPOINT_CHROMIUM names {named}, which is not a file.")
        return Path(named)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ConfigError(
        "PDF and PowerPoint files need Chromium to draw the charts, and none is installed. "
        "Install Debian's chromium package (apt-get install chromium) or set "
        "TOUCHPOINT_CHROMIUM to a Chromium or Chrome executable. The HTML file needs nothing."
    )


def pdf(document: str, *, footer: str) -> bytes:
    """`document` printed to an A4 landscape PDF with `footer` and page numbers."""
    template = (
        '<div style="font-size:8px;width:100%;padding:0 12mm;color:#52606d;'
        'font-family:sans-serif;display:flex;justify-content:space-between">'
        f"<span>{html.escape(footer)}</span>"
        '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span>'
        "</div>"
    )

    def work(page: Page) -> bytes:
        return bytes(
            page.pdf(
                format="A4",
                landscape=True,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=template,
                margin={"top": "12mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                outline=True,
                tagged=True,
            )
        )

    return _in_browser(document, work, media="print")


def chart_images(document: str, keys: list[str]) -> dict[str, bytes]:
    """PNG images of the document's charts (`chart-<key>` elements), at `SCALE`."""

    def work(page: Page) -> dict[str, bytes]:
        return {key: page.locator(f"#chart-{key}").screenshot(type="png") for key in keys}

    return _in_browser(document, work, media="screen")


def _in_browser(document: str, work: Callable[..., T], *, media: str) -> T:
    path = executable()

    def run() -> T:
        from playwright.sync_api import Error, sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(path),
                    headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
                )
                try:
                    page = browser.new_page(
                        viewport={"width": WIDTH, "height": PAGE_HEIGHT},
                        device_scale_factor=SCALE,
                    )
                    page.emulate_media(media=media)  # laid out for print from the start
                    page.route("**/*", _offline)
                    page.set_content(document, wait_until="load")
                    page.wait_for_function("window.reviewReady === true", timeout=READY_TIMEOUT_MS)
                    return work(page)
                finally:
                    browser.close()
        except Error as exc:
            raise ConfigError(f"Chromium ({path}) could not draw the review: {exc}") from exc

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _offline(route: Route) -> None:
    """The review needs nothing from the network: any request is refused."""
    if route.request.url.startswith(("data:", "about:")):
        route.continue_()
    else:
        route.abort()
