"""The web server (`dashboard/server.py`): every page's address serves Streamlit's index.html
with the one line that tells its scripts where the server is."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dashboard import navigation, server

SCRIPT = '<script>window.__streamlit = { BACKEND_BASE_URL: location.origin + "/" };</script>'
ADDRESSES = [
    "/", "/overview", "/kpis", "/retention", "/segments", "/journeys", "/feedback", "/review",
    "/customer", "/data", "/admin", "/signin",
]  # fmt: skip


def test_the_index_is_streamlits_with_the_servers_address_added_at_the_top():
    original = server.INDEX.read_text(encoding="utf-8")
    served = server.index_html("")
    assert served.count(SCRIPT) == 1
    assert served.index(SCRIPT) == original.index("<head>") + len("<head>")
    assert served.replace(SCRIPT, "") == original
    # Under a base URL path (server.baseUrlPath), the server is there.
    assert 'BACKEND_BASE_URL: location.origin + "/touchpoint/" };' in server.index_html(
        "/touchpoint"
    )


def test_every_pages_address_has_a_route_and_only_those():
    assert [route.path for route in server.routes("")] == ADDRESSES
    assert [route.path for route in server.routes("/tp")] == [f"/tp{a}" for a in ADDRESSES]
    # Each page's script exists (app.py registers them by these paths).
    dashboard = Path(server.__file__).parent
    for page in navigation.EXPLORE + navigation.MANAGE:
        assert (dashboard / page.script).is_file(), page.script


def test_a_page_address_answers_the_index_uncached():
    assert {route.endpoint for route in server.routes("")} == {server.page}
    response = server.answer()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert bytes(response.body).decode() == server.index_html("")


def test_the_server_is_an_st_app_streamlit_run_finds():
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(Path(server.__file__))
    assert (found.is_asgi_app, found.app_name) == (True, "app")


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_the_server_runs_on_uvicorns_fast_parser_and_event_loop():
    # Streamlit's runner leaves uvicorn's `http` and `loop` at "auto": installed (pyproject),
    # httptools and uvloop are picked; without them a first visit loads 0.24 s slower.
    import uvicorn
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    config = uvicorn.Config(lambda scope, receive, send: None)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    assert config.get_loop_factory() is uvloop.new_event_loop
