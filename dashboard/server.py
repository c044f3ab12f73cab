"""The web server: Streamlit's own (`st.App` around `app.py`), which serves each page's address
Streamlit's index.html with one line added that tells its scripts where the server is.

Run with `streamlit run dashboard/server.py` (or `make run`); `streamlit run dashboard/app.py`
works as well, only slower to open a page in a new tab. Without that line Streamlit's scripts
guess the server from the page's address: a new tab on `/review` first asks
`/review/_stcore/health`, gets a 404, waits about 0.14 s and asks `/_stcore/health`. Every page
but the Overview (at `/`) opened that much later (`bench/browser_pages.py`).

The line sets `window.__streamlit.BACKEND_BASE_URL`, the setting Streamlit's frontend reads
when it is embedded, to the server's root (under `server.baseUrlPath`). Addresses that are not
a page's (a mistyped one, say) are left to Streamlit, which serves its index.html unchanged.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from streamlit import config

from dashboard import navigation

INDEX = Path(st.__file__).parent / "static" / "index.html"
HEAD = "<head>"


def base_path() -> str:
    """`server.baseUrlPath` as a path prefix: "" or "/prefix"."""
    path = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{path}" if path else ""


@cache
def index_html(base: str) -> str:
    """Streamlit's index.html, its scripts told that the server is at `base` (a `base_path`)
    on the page's own origin."""
    html = INDEX.read_text(encoding="utf-8")
    if HEAD not in html:  # a Streamlit whose page this module no longer understands
        return html
    where = json.dumps(f"{base}/")
    script = (
        f"<script>window.__streamlit = {{ BACKEND_BASE_URL: location.origin + {where} }};</script>"
    )
    return html.replace(HEAD, HEAD + script, 1)


def answer() -> HTMLResponse:
    """A page address's answer. Not cached, as Streamlit serves its index.html: a new
    version's scripts load at once."""
    return HTMLResponse(index_html(base_path()), headers={"Cache-Control": "no-cache"})


async def page(request: Request) -> HTMLResponse:
    return answer()


def routes(base: str) -> list[Route]:
    """One route per page address (see `navigation.addresses`) under `base`."""
    return [Route(f"{base}/{address}", page, methods=["GET"]) for address in navigation.addresses()]


app = st.App("app.py", routes=routes(base_path()))
