"""Overview page and app shell (AppTest): exact headline values, empty state, first start."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from apptest_helpers import APP, metrics, open_app
from streamlit.testing.v1 import AppTest

from analytics.sample import SAMPLE_FILES
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard import format as fmt
from dashboard.components import sample

TINY_HEADLINE = {
    "Customers": "3",
    "Orders": "3",
    "Revenue": "$1,380",
    "Survey responses": "4",
    "NPS": "25.0",
    "CSAT": "66.7%",
}


def test_overview_shows_the_tiny_company_formatted_for_people(tiny_warehouse):
    at = open_app()

    assert metrics(at) == TINY_HEADLINE
    helps = {m.label: m.help for m in at.metric}
    assert "$1,379.75" in helps["Revenue"]
    assert "Based on 4 responses with an NPS score" in helps["NPS"]
    assert "Based on 3 responses with a CSAT score" in helps["CSAT"]
    assert not at.error


def test_overview_freshness_line_names_every_dataset(tiny_warehouse):
    at = open_app()

    line = at.caption[0].value
    assert re.fullmatch(
        r"Last loads: customers[ ,].*orders[ ,].*surveys \d{1,2} \w{3} \d{4} \d\d:\d\d UTC\. "
        r"Not loaded yet: tickets, events\.",
        line,
    ), line


def test_empty_warehouse_shows_a_friendly_empty_state(warehouse_dir):
    at = open_app()

    assert not at.error and not at.metric
    assert "No data is loaded yet" in at.info[0].value
    assert at.title[0].value == "Overview"


def test_navigation_registers_overview_and_data(warehouse_dir):
    at = open_app("views/data.py")

    assert at.title[0].value == "Data"
    assert not at.error


def test_no_legacy_pages_folder_next_to_the_entry_point():
    # Regression: with dashboard/pages/ present, Streamlit starts in legacy multipage mode and a
    # deep link such as /data ran the page alone, skipping app.py (settings, layout, navigation).
    assert not (APP.parent / "pages").exists()


def test_invalid_setting_shows_its_message_not_a_traceback(warehouse_dir, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_SAMPLE_ON_EMPTY", "maybe")
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    assert not at.exception
    assert at.error[0].value == fmt.plain_text(
        "The setting TOUCHPOINT_SAMPLE_ON_EMPTY must be true or false. Got 'maybe' instead."
    )


@pytest.fixture
def tiny_sample_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_exports: dict[str, tuple[str, bytes]]
) -> Path:
    """The tiny company written under the sample's file names, used as the 'committed' sample."""
    folder = tmp_path / "sample"
    folder.mkdir()
    by_dataset = {dataset: name for name, dataset in SAMPLE_FILES.items()}
    for dataset_name, (_, content) in tiny_exports.items():
        (folder / by_dataset[dataset_name]).write_bytes(content)
    (folder / by_dataset["tickets"]).write_bytes(
        b"ticket_id,customer_id,opened_at\nT1,C1,2025-04-02 08:00:00\n"
    )
    pl.DataFrame(
        {"customer_id": ["C1"], "occurred_at": ["2025-04-01 12:00:00"], "touchpoint": ["visit"]}
    ).write_parquet(folder / by_dataset["events"])
    monkeypatch.setattr(data, "SAMPLE_DIR", folder)
    return folder


def test_first_start_loads_the_sample_and_says_so(warehouse_dir, tiny_sample_dir, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_SAMPLE_ON_EMPTY", "true")

    at = open_app()

    assert at.status[0].label == "Sample company loaded"
    notice = at.info[0].value
    assert notice == (
        "Touchpoint loaded the sample company (3 customers with their orders, survey responses, "
        "support tickets and touchpoint events) so you can explore; upload your own exports on "
        "the Data page."
    )
    assert metrics(at)["Customers"] == "3"

    at.run()  # the notice stays for the session; the sample is not loaded twice
    # (AppTest drops the entrypoint's elements on reruns; the browser test sees them.)
    assert at.session_state[sample.NOTICE_KEY] == notice
    loads = [r for r in Warehouse(warehouse_dir).history("customers") if r.action == "load"]
    assert len(loads) == 1
