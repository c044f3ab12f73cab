"""Benchmark: how long a filter change takes to show updated cards in the browser, at scale.

    .venv/bin/python bench/browser_filters.py               # 1M customers, 10M orders, ...
    .venv/bin/python bench/browser_filters.py --customers 100000 --orders 1000000 \\
        --surveys 200000 --tickets 50000                   # quicker

Builds (or reuses) the scale company of bench/scale.py, serves the dashboard on it with
`streamlit run` on a free local port, opens the Overview in Debian's Chromium (Playwright,
headless) and, for each region in turn, picks it in the sidebar's Region filter and times
from the pick to the moment the Revenue card shows a new value and the app has finished its
run. Every region is a filter setting not seen before in that session, so nothing comes from
Streamlit's cache (the scorecard reads the monthly rollups, built first as after a load). As
a baseline measured in the same run, it also times picking a region a second time (cached:
the rerun and the browser's rendering only). Prints medians, the ratio, and every
measurement, and writes bench/out/browser_filters.json. Target (issue): updated cards in
under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from scale import OUT, ScaleSpec, build_warehouse, compile_sources

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=ScaleSpec.customers)
    parser.add_argument("--orders", type=int, default=ScaleSpec.orders)
    parser.add_argument("--surveys", type=int, default=ScaleSpec.surveys)
    parser.add_argument("--tickets", type=int, default=ScaleSpec.tickets)
    parser.add_argument("--seed", type=int, default=ScaleSpec.seed)
    args = parser.parse_args()
    spec = ScaleSpec(args.customers, args.orders, args.surveys, args.tickets, args.seed)
    root = OUT / spec.folder_name
    build_warehouse(root, spec)
    compile_sources()  # as `make run` does before it serves
    built = _refresh_rollups(root)  # as after every load; the timed picks read them
    if built:
        print(f"rollups built: {built}")
    port = _free_port()
    server = _serve(root, port)
    try:
        cold, warm, regions = _measure(f"http://127.0.0.1:{port}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    print(f"scale: {spec.customers:,} customers, {spec.orders:,} orders, {spec.surveys:,} surveys")
    for region, seconds in zip(regions, cold, strict=True):
        print(f"  pick {region:<10} uncached {seconds:6.2f} s")
    for region, seconds in zip(regions, warm, strict=True):
        print(f"  pick {region:<10} cached   {seconds:6.2f} s")
    cold_median, warm_median = statistics.median(cold), statistics.median(warm)
    print(f"filter change -> updated cards, uncached: median {cold_median:.2f} s")
    print(f"filter change -> updated cards, cached (baseline): median {warm_median:.2f} s")
    print(f"ratio uncached/cached: {cold_median / warm_median:.1f}x; target: under 1 s")
    report = {
        "spec": spec.__dict__,
        "uncached": {"median": round(cold_median, 3), "runs": [round(s, 3) for s in cold]},
        "cached": {"median": round(warm_median, 3), "runs": [round(s, 3) for s in warm]},
        "ratio": round(cold_median / warm_median, 2),
        "met": cold_median < 1.0,
    }
    (OUT / "browser_filters.json").write_text(json.dumps(report, indent=2))
    return 0


def _serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOUCHPOINT_WAREHOUSE": str(root), "TOUCHPOINT_SAMPLE_ON_EMPTY": "false"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "dashboard" / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    log = open(OUT / "browser_filters_server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as answer:
                if answer.read() == b"ok":
                    return server
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the dashboard did not start; see bench/out/browser_filters_server.log")


def _measure(url: str) -> tuple[list[float], list[float], list[str]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_selector(READY)
        page.get_by_test_id("stMetricValue").first.wait_for()
        regions = _options(page)
        cold = [_pick(page, region) for region in regions]
        warm = [_pick(page, region) for region in regions]
        browser.close()
    return cold, warm, regions


def _options(page) -> list[str]:  # type: ignore[no-untyped-def]
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Region")
    box.click()
    options = [o.inner_text().strip() for o in page.get_by_role("option").all()]
    options = [o for o in options if o != "Select all"]
    page.keyboard.press("Escape")
    return options


def _pick(page, region: str) -> float:  # type: ignore[no-untyped-def]
    """Replace the Region selection by `region`; seconds until the Revenue card changed."""
    revenue = page.get_by_test_id("stMetricValue").first
    before = revenue.inner_text()
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Region")
    clear = box.get_by_role("button", name="Clear all")
    if clear.count():
        clear.click()
        page.wait_for_selector(READY)
        page.wait_for_function(
            "(old) => document.querySelector('[data-testid=stMetricValue]')?.innerText !== old",
            arg=before,
        )
        before = revenue.inner_text()
    box.click()
    option = page.get_by_role("option", name=region, exact=True)
    start = time.perf_counter()
    option.click()
    page.wait_for_function(
        "(old) => document.querySelector('[data-testid=stMetricValue]')?.innerText !== old",
        arg=before,
    )
    page.wait_for_selector(READY)
    seconds = time.perf_counter() - start
    page.keyboard.press("Escape")
    return seconds


def _refresh_rollups(root: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from analytics import rollups
    from analytics.warehouse import Warehouse

    return rollups.refresh(Warehouse(root))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    raise SystemExit(main())
