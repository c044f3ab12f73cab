"""Chart selections, as Streamlit returns them from the browser and in tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dashboard.charts.base import Chart
from dashboard.charts.selection import picked

CHART = Chart(
    {"series": [{"type": "line"}, {"type": "bar"}]},
    drill={0: [None, ["2025-Q2", ""]], 1: [["2025-Q3", "EMEA"]], (1, "edge"): [["A", "B"]]},
)


def _selected(*groups: dict) -> dict:
    return {"selection": {"selected": list(groups), "areas": []}}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (None, None),
        (_selected(), None),
        # A mark without a payload is passed over for the next selected one that has one.
        (_selected({"series_index": 0, "data_indices": [0, 1]}), ["2025-Q2", ""]),
        (_selected({"series_index": 1, "data_indices": [0], "data_type": "main"}),
         ["2025-Q3", "EMEA"]),
        (_selected({"series_index": 1, "data_indices": [0], "data_type": "edge"}), ["A", "B"]),
        # Indices the chart does not have (a selection kept across new data) name nothing.
        (_selected({"series_index": 0, "data_indices": [5]}), None),
        (_selected({"series_index": 3, "data_indices": [0]}), None),
        (
            SimpleNamespace(selection=SimpleNamespace(selected=[
                {"series_index": 1, "data_indices": [0], "data_type": "main"}])),
            ["2025-Q3", "EMEA"],
        ),
    ],
)  # fmt: skip
def test_picked_reads_the_payload_of_the_selected_mark(event, expected):
    assert picked(event, CHART) == expected
