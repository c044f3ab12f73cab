"""Hostile values in every place a user types or links: nothing breaks, nothing leaks."""

from __future__ import annotations

import pytest
from apptest_helpers import APP, metrics, open_page
from streamlit.testing.v1 import AppTest

HOSTILE = [
    "EMEA' OR 1=1 --",
    "'); DROP TABLE orders; --",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil")',
    "%",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_in_a_link_are_dropped_with_a_notice(tiny_warehouse, value):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["country"] = value
    at.query_params["from"] = value
    at.run()

    assert not at.exception and not at.error
    assert len(at.sidebar.warning) == 2  # the date and the country, each explained
    assert metrics(at)["Orders"] == "3"  # the unfiltered numbers, nothing more or less


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_drill_parameters_change_nothing(tiny_warehouse, value):
    at = open_page("views/kpis.py", kpi=value, grain=value, by=value, at=value, group=value)

    assert not at.exception
    assert at.selectbox(key="kpi").value == "revenue"  # fell back to the default
    assert not [s for s in at.main.subheader if s.value.startswith("Revenue in")]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_searches_find_nothing_and_break_nothing(tiny_warehouse, value):
    drill = open_page("views/kpis.py", kpi="revenue", grain="quarter", at="2025-Q2")
    drill.text_input(key="who").input(value).run()
    assert not drill.exception
    assert len(drill.dataframe[0].value) == 0

    people = open_page("views/customer.py")
    people.text_input[0].input(value).run()
    assert not people.exception


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_customer_id_in_a_link_is_not_found(tiny_warehouse, value):
    at = open_page("views/customer.py", customer=value)

    assert not at.exception
    assert at.warning
