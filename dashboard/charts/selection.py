"""Reading chart selections: the one place that knows how Streamlit returns chart clicks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.charts.base import Chart


def picked(event: Any, chart: Chart) -> list[str] | None:
    """The payload of the first selected mark of an ECharts chart that has one, or None.

    Streamlit returns the selection as series-local data indices (an attribute-style object
    from the browser, a plain dict in tests); the payloads stay on the server, in `chart`.
    """
    if not event:
        return None
    selection = event["selection"] if isinstance(event, Mapping) else event.selection
    groups = selection["selected"] if isinstance(selection, Mapping) else selection.selected
    for group in groups or []:
        data_type = group.get("data_type") or "main"
        for index in group.get("data_indices") or []:
            payload = chart.payload(int(group["series_index"]), int(index), data_type)
            if payload is not None:
                return payload
    return None
