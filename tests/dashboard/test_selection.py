"""Chart selections, as Streamlit returns them from the browser and in tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dashboard.charts.selection import clicked


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (None, None),
        ({"selection": {"points": []}}, None),
        ({"selection": {"points": [{"x": 1}]}}, None),
        ({"selection": {"points": [{"customdata": ["2025-Q2", "EMEA"]}]}}, ["2025-Q2", "EMEA"]),
        # Plotly 7 sends a numeric customdata row as a typed-array mapping.
        ({"selection": {"points": [{"customdata": {"0": 2025, "1": 3}}]}}, ["2025", "3"]),
        ({"selection": {"points": [{"customdata": {"1": "b", "0": "a"}}]}}, ["a", "b"]),
        ({"selection": {"points": [{"customdata": 7}]}}, ["7"]),
        (
            SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": ["2025-04", ""]}])),
            ["2025-04", ""],
        ),
    ],
)
def test_clicked_normalises_every_shape(event, expected):
    assert clicked(event) == expected
