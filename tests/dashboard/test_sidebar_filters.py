"""Sidebar filters (AppTest): read from the link, applied to every page, bad links explained."""

from __future__ import annotations

from apptest_helpers import metrics, open_page


def test_a_country_in_the_link_narrows_the_scorecard(tiny_warehouse):
    at = open_page(None, country="US")

    assert at.multiselect(key="country").value == ["US"]
    values = metrics(at)
    # US customers C2 and C3: orders O2 80.50 and O3 99.25; NPS answers 9 and 6 -> 0.0.
    assert (values["Revenue"], values["Orders"], values["NPS"]) == ("$179.75", "2", "0.0")


def test_invalid_link_values_fall_back_with_a_notice_never_an_error(tiny_warehouse):
    at = open_page(None, country=["US", "Atlantis"], **{"from": "2025-13-45"})

    notices = [w.value for w in at.sidebar.warning]
    assert notices == [
        "The start date '2025\\-13\\-45' in the link is not a date \\(YYYY\\-MM\\-DD\\); it was "
        "ignored\\.",
        "Country 'Atlantis' from the link is not in the data; it was ignored\\.",
    ]
    assert at.multiselect(key="country").value == ["US"]
    assert not at.error
    assert metrics(at)["Orders"] == "2"


def test_filters_apply_on_every_page(tiny_warehouse):
    at = open_page(None, country="GB")
    at.session_state["kpi_numbers"] = True  # the numbers behind the chart, opened
    at.switch_page("views/kpis.py").run()

    assert at.multiselect(key="country").value == ["GB"]
    table = at.dataframe[-1].value
    assert table["value"].sum() == 1200.0  # C1's O1 is the only completed GB order
