"""Benchmark: opening every page of the sample company in the browser, and the cold start.

    .venv/bin/python bench/browser_pages.py              # 3 rounds
    .venv/bin/python bench/browser_pages.py --repeat 1   # quicker

Loads the committed sample company (data/sample) into a warehouse under bench/out/ (gitignored)
as the app's first start does, with every derived table built (as after a load), then, per
round:

- cold start: starts `streamlit run dashboard/server.py` on a free local port and times from the
  process start to the Overview settled (cards and sparklines drawn) in Debian's Chromium
  (Playwright, headless): the imports, the first run, the first queries and the browser's drawing;
- first open, per page (Overview, KPIs, Retention, Segments, Journeys, Feedback, Quarterly
  review, Customer 360, Data): a new browser tab (a new Streamlit session; the browser's cache
  holds the app's scripts, as for a returning user) goes to the page's URL; timed to a settled
  page: the app's run finished, no spinner or skeleton left, and the
  page's first chart (or, for pages without one, its first table or metric) drawn. The
  server is fresh each round, so every page's computations are uncached the first time;
- baseline: the same page opened again in another new tab, when Streamlit's caches hold its
  data: the rerun and the browser's drawing only;
- switch, per page: how a manager mostly moves, inside one tab. A second fresh server (the
  browser's cache warm from the first), one tab settled on the Overview, then for each other
  page in turn: a click on its link in the sidebar navigation (st.navigation swaps the page
  without reloading the document), timed to the new page settled (the same criterion, once the
  URL has changed and the page's own title is shown, so the old page's content cannot count),
  and back to the Overview. That first switch is the first time the page's computations run on
  that server (only the Overview's and the sidebar filters' are cached, by the start); the page
  is then switched to again, cached. The Overview's row is the switch back to it from the KPIs
  page, both times cached (the start computed it). The pages draw with ECharts (Streamlit's
  own); a page whose switch loaded Plotly's script would be marked * (none does since the
  charts moved to ECharts).

Prints medians (min-max) of every page, the ratio of first open to the cached baseline, the
switches, and the targets (issue: any page <= 1.5 s to settled, judged on the new tab's first
open; cold start <= 3 s), says whether the in-tab switches meet the page target too, and writes
bench/out/browser_pages.json.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CHROMIUM = Path("/usr/bin/chromium")
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
BUSY = "[data-testid='stSpinner'], [data-testid='stSkeleton']"
# What counts as drawn: a chart (ECharts, as SVG or on a canvas), a table, a metric, or (the
# Data page) the file uploader.
DRAWN = (
    "[data-testid='stEChartsChart'] svg path, [data-testid='stEChartsChart'] canvas, "
    "[data-testid='stMetric'] svg, [data-testid='stDataFrame'], "
    "[data-testid='stMetricValue'], [data-testid='stFileUploaderDropzone']"
)
# Page names and their URL paths (the Overview is the app's default page, at its root).
PAGES = {"overview": "", "kpis": "kpis", "retention": "retention", "segments": "segments",
         "journeys": "journeys", "feedback": "feedback", "review": "review",
         "customer": "customer", "data": "data"}  # fmt: skip
# Each page's title (st.title): the new page's own content, to tell it from the old one's.
TITLES = {"overview": "Overview", "kpis": "KPIs", "retention": "Retention",
          "segments": "Segments", "journeys": "Journeys", "feedback": "Feedback",
          "review": "Quarterly review", "customer": "Customer 360", "data": "Data"}  # fmt: skip
# The new page's URL and its own title shown: its run has started, so once the app is not
# running any more (`settled`), the old page's elements are gone. (Watching the run state go
# running -> notRunning instead misses fast cached runs: React may never draw "running".)
SWITCHED = """([path, title]) => location.pathname === path
    && [...document.querySelectorAll("h1")].some((h) => h.innerText.trim() === title)"""
PLOTLY_LOADED = """() => performance.getEntriesByType("resource").some(
    (e) => e.name.includes("/PlotlyChart."))"""
TARGET_PAGE = 1.5
TARGET_COLD = 3.0


def prepare(root: Path) -> None:
    """The sample company with every derived table built, once (reused afterwards)."""
    sys.path.insert(0, str(ROOT))
    from analytics import derived
    from analytics.bootstrap import ensure_sample_loaded
    from analytics.warehouse import Warehouse

    warehouse = Warehouse(root)
    ensure_sample_loaded(warehouse, ROOT / "data" / "sample", user="bench", progress=None)
    derived.refresh(warehouse)
    from scale import compile_sources  # the bytecode `make run` writes before it serves

    compile_sources()


def serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOUCHPOINT_WAREHOUSE": str(root), "TOUCHPOINT_SAMPLE_ON_EMPTY": "false"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.headless", "true"]  # fmt: skip
    log = open(OUT / "browser_pages_server.log", "ab")  # noqa: SIM115 (lives as long as the server)
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def settled(page: Any) -> None:
    """Wait until the run has finished, nothing is loading, and something is drawn."""
    page.wait_for_selector(READY)
    page.wait_for_function(
        """([ready, busy, drawn]) => document.querySelector(ready)
            && !document.querySelector(busy)
            && [...document.querySelectorAll(drawn)].some(
                (e) => e.getBoundingClientRect().width > 0)""",
        arg=[READY, BUSY, DRAWN],
    )


def open_page(context: Any, url: str) -> float:
    """Seconds from a new tab's navigation to `url` to the settled page. The tab shares the
    browser's cache with the others (the app's scripts and styles are cached, as for any
    returning user), but is a new Streamlit session."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    started = time.perf_counter()
    page.goto(url)
    try:
        settled(page)
    except Exception:
        page.screenshot(path=str(OUT / "browser_pages_timeout.png"))
        raise SystemExit(f"{url} did not settle: see bench/out/browser_pages_timeout.png") from None
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def switch_to(page: Any, url: str, name: str) -> tuple[float, bool]:
    """Seconds from a click on the page's sidebar link to the new page settled, in the tab
    `page` (settled on another page), and whether the tab loaded Plotly's script meanwhile."""
    path = PAGES[name]
    link = page.locator(f"[data-testid='stSidebarNav'] a[href='{url}/{path}']")
    had_plotly = page.evaluate(PLOTLY_LOADED)
    started = time.perf_counter()
    link.click()
    try:
        page.wait_for_function(SWITCHED, arg=[f"/{path}", TITLES[name]])
        settled(page)
    except Exception:
        page.screenshot(path=str(OUT / "browser_pages_timeout.png"))
        raise SystemExit(
            f"the switch to {name} did not settle: see bench/out/browser_pages_timeout.png"
        ) from None
    seconds = time.perf_counter() - started
    return seconds, not had_plotly and page.evaluate(PLOTLY_LOADED)


def switch_round(context: Any, url: str, results: dict[str, Any]) -> None:
    """One tab on the Overview; every other page switched to (first visit on this server, then
    cached), back to the Overview after each."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    settled(page)
    for name in PAGES:
        if name == "overview":
            continue
        for figure in ("switch", "switch_cached"):
            seconds, loaded = switch_to(page, url, name)
            results[figure][name].append(seconds)
            if loaded:
                results["switch_loaded_plotly"].add(name)
            back, _ = switch_to(page, url, "overview")
            if name == "kpis":
                results[figure]["overview"].append(back)
    page.close()


def cold_start(context: Any, root: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """A fresh server; seconds from its start to the Overview's first chart drawn."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = serve(root, port)
    page = context.new_page()
    page.set_default_timeout(120_000)
    deadline = time.monotonic() + 120
    while True:
        try:
            page.goto(url)
            break
        except Exception:  # the server is not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    settled(page)  # the Overview's cards and their sparklines drawn
    seconds = time.perf_counter() - started
    page.close()
    return server, url, seconds


def measure(root: Path, repeat: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    figures = ("first", "cached", "switch", "switch_cached")
    results: dict[str, Any] = {"cold_start": [], "switch_loaded_plotly": set()}
    results.update({figure: {p: [] for p in PAGES} for figure in figures})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        for _ in range(repeat):
            # A new browser profile each round: the cold start downloads the app's scripts.
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            server, url, seconds = cold_start(context, root)
            results["cold_start"].append(seconds)
            try:
                for name, path in PAGES.items():
                    results["first"][name].append(open_page(context, f"{url}/{path}"))
                    results["cached"][name].append(open_page(context, f"{url}/{path}"))
            finally:
                _stop(server)
            # A second fresh server, so that every page's first switch is uncached too.
            server, url, _ = cold_start(context, root)
            try:
                switch_round(context, url, results)
            finally:
                context.close()
                _stop(server)
        browser.close()
    return results


def _stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def _summary(runs: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(runs), 3),
        "min": round(min(runs), 3),
        "max": round(max(runs), 3),
        "runs": [round(r, 3) for r in runs],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each on a fresh server")
    parser.add_argument("--out", type=Path, default=OUT / "browser_pages.json")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1. Got {args.repeat} instead.")
    root = OUT / "browser_sample"
    OUT.mkdir(parents=True, exist_ok=True)
    prepare(root)
    results = measure(root, args.repeat)
    cold = _summary(results["cold_start"])
    loaded_plotly = sorted(results["switch_loaded_plotly"])
    report: dict[str, Any] = {"repeat": args.repeat, "cold_start": cold, "pages": {},
                              "switch_loaded_plotly": loaded_plotly}  # fmt: skip
    print(f"sample company, {args.repeat} rounds on a fresh server each (median (min-max))")
    print(
        f"{'page':<12} {'first open':>22} {'cached':>8} {'first/cached':>13} "
        f"{'switch':>22} {'cached':>8}  target: new tab, switch"
    )
    switches_met = {"switch": 0, "switch_cached": 0}
    for name in PAGES:
        first, cached = _summary(results["first"][name]), _summary(results["cached"][name])
        switch = _summary(results["switch"][name])
        switch_cached = _summary(results["switch_cached"][name])
        ratio = first["median"] / cached["median"]
        met = first["median"] <= TARGET_PAGE
        switch_met = switch["median"] <= TARGET_PAGE
        switches_met["switch"] += switch_met
        switches_met["switch_cached"] += switch_cached["median"] <= TARGET_PAGE
        report["pages"][name] = {"first": first, "cached": cached, "ratio": round(ratio, 2),
                                 "met": met, "switch": switch, "switch_cached": switch_cached,
                                 "switch_met": switch_met}  # fmt: skip
        marker = "*" if name in loaded_plotly else " "
        print(
            f"{name:<12} {first['median']:>7.2f} s ({first['min']:.2f}-{first['max']:.2f}) "
            f"{cached['median']:>6.2f} s {ratio:>12.1f}x "
            f"{switch['median']:>6.2f} s{marker}({switch['min']:.2f}-{switch['max']:.2f}) "
            f"{switch_cached['median']:>6.2f} s  {'met' if met else 'MISSED'}, "
            f"{'met' if switch_met else 'MISSED'}"
        )
    if loaded_plotly:
        print(f"* the tab loaded Plotly's script during this switch: {', '.join(loaded_plotly)}")
    print(
        f"in-tab switches within {TARGET_PAGE} s: {switches_met['switch']} of {len(PAGES)} "
        f"pages on the first visit, {switches_met['switch_cached']} of {len(PAGES)} cached"
    )
    met = cold["median"] <= TARGET_COLD
    print(
        f"cold start to the first chart: {cold['median']:.2f} s ({cold['min']:.2f}-"
        f"{cold['max']:.2f}); target <= {TARGET_COLD} s: {'met' if met else 'MISSED'}"
    )
    report["cold_start"]["met"] = met
    args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
