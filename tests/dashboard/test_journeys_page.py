"""Journeys page (AppTest): the funnel and its drill-down, the journey map, pain points, paths,
and the building state."""

from __future__ import annotations

import json

from apptest_helpers import click_chart, open_page, open_tab
from streamlit.testing.v1 import AppTest

from analytics import derived, journeys
from analytics.ingest.pipeline import ingest

JOURNEYS = "views/journeys.py"


def chart(at: AppTest, index: int = 0) -> dict:
    """The page's `index`-th chart: its ECharts option."""
    return json.loads(at.get("echarts_chart")[index].proto.spec)


def click_bar(at: AppTest, group: str, stage: str) -> None:
    """Click the funnel's bar of `group` at `stage` (a capitalised axis label)."""
    funnel = chart(at)
    series = next(i for i, s in enumerate(funnel["series"]) if s["name"] == group)
    click_chart(at, "journey_funnel_", series, funnel["xAxis"]["data"].index(stage))
    assert not at.exception, at.exception


def dropped_heading(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader if s.value.startswith("Reached")]


def test_while_the_journeys_are_built_the_page_says_so(tiny_warehouse, monkeypatch):
    monkeypatch.setattr(journeys, "current", lambda *args, **kwargs: None)

    at = open_page(JOURNEYS)

    assert at.title[0].value == "Journeys"
    assert "Building the journeys of the current data" in at.info[0].value


def test_a_company_without_events_says_there_are_no_journeys(tiny_warehouse):
    journeys.refresh(tiny_warehouse)

    at = open_page(JOURNEYS)

    infos = [i.value for i in at.info]
    assert "No journeys in the chosen filters and date range." in infos
    assert not at.exception


def test_the_sample_company_by_acquisition_channel(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    journeys.refresh(sample_warehouse)

    at = open_page(JOURNEYS, jby="acquisition_channel")

    funnel = chart(at)
    assert len(funnel["series"]) == 6  # one series per acquisition channel
    assert funnel["xAxis"]["data"] == [
        "Awareness", "Consideration", "Purchase", "Onboarding", "Service", "Loyalty",
    ]  # fmt: skip
    social = next(s for s in funnel["series"] if s["name"] == "Paid Social")
    assert [bar["value"] for bar in social["data"][:3]] == [3549, 3270, 1357]
    assert social["data"][2]["label"]["formatter"] == "38%"  # of entrants reach purchase
    assert "38% of entrants" in social["data"][2]["tooltip"]["formatter"]
    assert social["label"]["show"] is False  # six groups: no labels on the bars
    timing = chart(at, 1)
    assert timing["xAxis"]["data"][0] == "Consideration"  # days from the previous stage
    assert [s["type"] for s in timing["series"][:2]] == ["bar", "pictorialBar"]
    assert [tab.label for tab in at.tabs] == [
        "Funnel", "Journey map", "Pain points", "Paths", "Stages"
    ]  # fmt: skip

    open_tab(at, "jtab", "Pain points")

    pains = at.dataframe[0].value
    top = pains[pains["group"] == "Paid Social"].iloc[0]
    assert top["rank"] == 1 and top["stage"] == "Consideration"


def test_a_clicked_funnel_bar_lists_who_stopped_there(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    journeys.refresh(sample_warehouse)
    at = open_page(JOURNEYS, jby="acquisition_channel")

    click_bar(at, "Paid Social", "Consideration")

    assert dropped_heading(at) == ["Reached consideration, never went further · Paid Social"]
    people = next(d.value for d in at.dataframe if "customer_id" in d.value.columns)
    assert len(people) == 3270 - 1357
    assert list(people.columns[:4]) == ["customer_id", "name", "country", "plan"]
    # The chart is drawn afresh with the bar outlined (and only that bar): ECharts keeps one
    # selected bar per group, so a kept selection would answer the next click with this one.
    assert not any(k == "journey_funnel_0" for k in at.session_state)
    outlined = [
        (s["name"], i)
        for s in chart(at)["series"]
        for i, bar in enumerate(s["data"])
        if bar and "borderWidth" in bar.get("itemStyle", {})
    ]
    assert outlined == [("Paid Social", 1)]

    click_bar(at, "Organic Search", "Onboarding")  # another group's bar

    assert dropped_heading(at) == ["Reached onboarding, never went further · Organic Search"]

    click_bar(at, "Organic Search", "Onboarding")  # the open bar again: closes the list

    assert dropped_heading(at) == []
    assert not any("customer_id" in d.value.columns for d in at.dataframe)


def test_a_clicked_bar_is_forgotten_when_the_comparison_changes(
    warehouse_dir, sample_warehouse, monkeypatch
):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    journeys.refresh(sample_warehouse)
    at = open_page(JOURNEYS, jby="acquisition_channel")
    click_bar(at, "Paid Social", "Consideration")
    assert dropped_heading(at)

    at.selectbox(key="jby").set_value("none").run()

    assert not at.exception, at.exception
    assert dropped_heading(at) == []
    assert len(chart(at)["series"]) == 1


def test_the_journey_map_and_paths_follow_the_link(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    journeys.refresh(sample_warehouse)

    at = open_page(
        JOURNEYS, jtab="Journey map", jsteps="3", janchor="first_purchase", jcolour="detractors"
    )

    curve = chart(at)
    assert [s["name"] for s in curve["series"]] == [
        "Mean NPS answer (0–10)", "Mean CSAT (1–5)", "Mean comment sentiment (−1 to 1)",
    ]  # fmt: skip
    nps = curve["series"][0]["data"]
    assert nps[:2] == [None, None]  # no answers before the purchase: a gap, not a zero
    assert [p["label"]["formatter"] for p in nps[2:]] == ["8.1", "8.1", "7.9", "8.2"]
    grid = at.dataframe[0].value
    assert list(grid.columns) == [
        "", "Awareness", "Consideration", "Purchase", "Onboarding", "Service", "Loyalty",
    ]  # fmt: skip
    assert tuple(grid.iloc[0]) == (
        "Customers", "20,000", "18,599", "15,629", "15,151", "10,911", "4,853",
    )  # fmt: skip
    open_tab(at, "jtab", "Paths")
    sankey = chart(at)["series"][0]
    assert sankey["type"] == "sankey"
    assert {node["depth"] for node in sankey["data"]} == {0, 1, 2}  # three steps
    assert all("detractor share" in link["tooltip"]["formatter"] for link in sankey["links"])
    paths = at.dataframe[0].value
    assert paths["path"].iloc[0].startswith("Checkout → Welcome email")
    assert all(p.count("→") <= 2 for p in paths["path"])
    assert at.selectbox(key="jcolour").value == "detractors"


EVENTS = (
    b"customer_id,occurred_at,touchpoint,stage\n"
    b"C1,2025-04-01 09:00:00,Social ad,\n"
    b"C1,2025-04-02 09:00:00,Blog post,\n"
    b"C2,2025-04-01 10:00:00,Social ad,\n"
    b"C3,2025-04-02 11:00:00,Blog post,Awareness\n"
)


def test_the_stages_tab_lists_touchpoints_and_an_analyst_renames_a_stage(tiny_warehouse):
    from analytics import audit
    from analytics.ingest.pipeline import ingest
    from analytics.journeys.stages import load_settings

    loaded = ingest(EVENTS, dataset_name="events", warehouse=tiny_warehouse,
                    file_name="events.csv", user="t")  # fmt: skip
    assert loaded.loaded, loaded.message
    journeys.refresh(tiny_warehouse)
    at = open_page(JOURNEYS, jtab="Stages")

    table = next(d.value for d in at.dataframe if "Decided by" in d.value.columns)
    assert table[["Touchpoint", "Stage used", "Decided by"]].values.tolist() == [
        ["Social ad", "Awareness", "The touchpoint map"],
        ["Blog post", "—", "Nothing: in paths, at no stage"],
        ["Blog post", "Awareness", "The export's stage column"],
    ]
    order = next(t for t in at.text_input if t.label.startswith("Stages in order"))
    order.set_value("discover, consideration, purchase, onboarding, service, loyalty")
    next(b for b in at.button if b.label == "Save and rebuild the journeys").click()
    at.run()

    assert not at.exception, at.exception
    assert load_settings(tiny_warehouse.root).stages[0] == "discover"
    assert load_settings(tiny_warehouse.root).stage_of("social ad") == "discover"
    entry = audit.read_log(tiny_warehouse.root, newest=1).row(0, named=True)
    assert entry["event"] == "settings_change" and "order=discover," in entry["details"]


def test_a_broken_settings_file_is_named_not_a_traceback(tiny_warehouse):
    from analytics.journeys.stages import SETTINGS_FILE

    (tiny_warehouse.root / SETTINGS_FILE).parent.mkdir()
    (tiny_warehouse.root / SETTINGS_FILE).write_text('{"stages": "awareness"}')

    at = open_page(JOURNEYS)

    assert "'stages' must be a list of stage names" in at.error[0].value
    assert "Fix or remove the file" in at.error[0].value


def test_after_an_append_the_page_shows_the_earlier_journeys_and_says_so(
    tiny_warehouse, monkeypatch
):
    # The background build started by the app is held back: the new data's is "being made".
    monkeypatch.setattr(derived, "refresh_rest", lambda *args, **kwargs: {})
    journeys.refresh(tiny_warehouse)
    more = b"order_id,customer_id,order_date,amount,status\nO8,C2,2025-05-09,900,\n"
    assert ingest(more, dataset_name="orders", warehouse=tiny_warehouse, user="tester").loaded

    at = open_page(JOURNEYS)

    assert "These are the journeys of the data before the latest load" in at.info[0].value
    assert "No journeys in the chosen filters and date range." in [i.value for i in at.info]
    assert not at.exception
