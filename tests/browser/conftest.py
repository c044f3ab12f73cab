"""Browser tests: the real app in a subprocess, driven by Debian's Chromium through Playwright.

Without /usr/bin/chromium the tests skip loudly, unless TOUCHPOINT_REQUIRE_BROWSER=1 (CI), where
a missing browser fails the run. Every wait is bounded; the server is killed in teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "dashboard" / "server.py"  # what `make run` serves
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not CHROMIUM.is_file():
        reason = (
            f"BROWSER TESTS NOT RUN: no Chromium at {CHROMIUM}. Install Debian's chromium "
            "(`make browser`, or `apt-get install chromium`); never `playwright install`."
        )
        if os.environ.get("TOUCHPOINT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " TOUCHPOINT_REQUIRE_BROWSER=1 requires them.")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The app server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"The app server was not healthy within {timeout_s} s:\n{log.read_text()}")


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `streamlit run dashboard/server.py` against a warehouse; returns the app's URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(warehouse: Path, *, sample_on_empty: bool = False) -> str:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "TOUCHPOINT_WAREHOUSE": str(warehouse),
            "TOUCHPOINT_SAMPLE_ON_EMPTY": "true" if sample_on_empty else "false",
            "TOUCHPOINT_USER": "browser-test",
            "TOUCHPOINT_ACCOUNTS": str(tmp_path / "accounts.toml"),
        }
        log = tmp_path / f"server-{port}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    str(SERVER),
                    "--server.port",
                    str(port),
                    "--server.address",
                    "127.0.0.1",
                    "--server.headless",
                    "true",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(process)
        _wait_healthy(url, process, log, SERVER_START_TIMEOUT_S)
        return url

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
