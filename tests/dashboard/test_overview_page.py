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

# The tiny company's 2025-Q2 (its latest quarter), hand-computed in tests/conftest.py:
# AOV = 1,379.75 / 3; nobody was active in Q1, so the retention rate has no value.
TINY_SCORECARD = {
    "Revenue": "$1,380",
    "Orders": "3",
    "Average order value": "$459.92",
    "Active customers": "3",
    "New customers": "3",
    "Retention rate": "—",
    "NPS": "25.0",
    "CSAT": "66.7%",
    "Tickets": "0",
}


def test_overview_scorecard_shows_the_tiny_company_formatted_for_people(tiny_warehouse):
    at = open_app()

    assert metrics(at) == TINY_SCORECARD
    assert at.selectbox(key="period").value == "2025-Q2"
    captions = [c.value for c in at.caption]
    # NPS: p = 2/4, q = 1/4, se = 100 * sqrt((0.75 - 0.0625) / 4) = 41.458; 25 ± 1.96 * se,
    # clamped to 100 at the top.
    assert "95% CI -56.3 to 100.0 · n = 4 · small sample" in captions
    assert "95% CI 20.8% to 93.9% · n = 3 · small sample" in captions  # CSAT, Wilson 2 of 3
    assert captions.count("Total for the period") == 5
    helps = {m.label: m.help for m in at.metric}
    assert helps["NPS"].startswith("Net Promoter Score: 100 × (promoters scoring 9–10")
    assert not at.error


def test_overview_month_view_compares_with_the_month_before(tiny_warehouse):
    at = open_app()
    at.segmented_control(key="grain").set_value("month").run()
    at.selectbox(key="period").set_value("2025-05").run()

    values = metrics(at)
    # May 2025 holds only the returned order O4: no revenue, no active customers, and
    # April's three actives did not come back.
    assert values["Revenue"] == "$0.00"
    assert values["Active customers"] == "0"
    assert values["Retention rate"] == "0.0%"
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Revenue"] == "-100.0%"
    assert deltas["Orders"] == "-100.0%"


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
    assert metrics(at)["Active customers"] == "3"

    at.run()  # the notice stays for the session; the sample is not loaded twice
    # (AppTest drops the entrypoint's elements on reruns; the browser test sees them.)
    assert at.session_state[sample.NOTICE_KEY] == notice
    loads = [r for r in Warehouse(warehouse_dir).history("customers") if r.action == "load"]
    assert len(loads) == 1
