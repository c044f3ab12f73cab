"""Helpers shared by the AppTest modules (imported by name: tests/ has no packages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
OVERVIEW = "views/overview.py"
DATA = "views/data.py"


def open_app(page: str | None = None) -> AppTest:
    """Run the app as a browser opening it would, then switch to `page` when given."""
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def button(at: AppTest, label: str) -> Button:
    """The one button with this label (file panels key their buttons by the upload's id)."""
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, f"expected one {label!r} button, found {[b.label for b in at.button]}"
    return found[0]


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Open the tab `label` of the tabs keyed `key`, as a click on it does: only the open
    tab's content runs. (The tabs are bound to the link, which a test run would read first.)"""
    at.session_state[key] = label
    at.query_params[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(page: str | None = None, **params: str | list[str]) -> AppTest:
    """Open the app as a link with `params` would: on `page` (after the app's first run, as a
    click in the navigation does), or on the default page when None."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if page is not None:
        at.run()
        at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def chart_options(at: AppTest) -> list[dict[str, Any]]:
    """The ECharts options of the charts on show, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("echarts_chart")]


def selection(series: int, index: int, data_type: str = "main") -> dict[str, Any]:
    """What Streamlit returns for one clicked mark of an ECharts chart (`data_type` "edge"
    for a sankey's link)."""
    return {
        "selection": {
            "selected": [{"series_index": series, "data_indices": [index], "data_type": data_type}],
            "areas": [],
        }
    }


def click_chart(at: AppTest, key: str, series: int, index: int, data_type: str = "main") -> None:
    """Click a mark of the chart whose key is, or starts with, `key`, and rerun."""
    chosen = next(k for k in at.session_state if str(k) == key or str(k).startswith(key))
    at.session_state[chosen] = selection(series, index, data_type)
    at.run()
