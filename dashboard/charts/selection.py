"""Reading chart selections: the one place that knows how Streamlit returns Plotly clicks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def clicked(event: Any) -> list[str] | None:
    """The `customdata` of the first selected point that has one, as strings, or None.

    Streamlit returns an attribute-style object from the browser and a plain dict in tests;
    Plotly 7 sends a numeric `customdata` row as a `{'0': v, '1': w}` mapping rather than a
    list. Both shapes are normalised here.
    """
    if not event:
        return None
    selection = event["selection"] if isinstance(event, Mapping) else event.selection
    points = selection["points"] if isinstance(selection, Mapping) else selection.points
    # The first point that carries customdata (a trace drawn beneath, such as the grey of
    # hidden cohort cells, carries none).
    data = next(
        (p.get("customdata") for p in points or [] if p.get("customdata") is not None), None
    )
    if data is None:
        return None
    if isinstance(data, Mapping):
        data = [data[k] for k in sorted(data, key=int)]
    elif not isinstance(data, list | tuple):
        data = [data]
    return [str(v) for v in data]
