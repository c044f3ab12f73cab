"""Journeys page (AppTest): the funnel and its drill-down, the journey map, pain points, paths,
and the building state."""

from __future__ import annotations

import json

from apptest_helpers import open_page, open_tab

from analytics import derived, journeys
from analytics.ingest.pipeline import ingest

JOURNEYS = "views/journeys.py"


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

    funnel = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert len(funnel) == 6  # one trace per acquisition channel
    social = next(t for t in funnel if t["name"] == "Paid Social")
    assert social["y"][:3] == [3549, 3270, 1357]
    assert social["text"][2] == "38%"  # of entrants reach purchase
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

    at.session_state["journey_funnel_0"] = {
        "selection": {"points": [{"customdata": ["Paid Social", "consideration"]}]}
    }
    at.run()

    assert not at.exception, at.exception
    assert "Reached consideration, never went further · Paid Social" in [
        s.value for s in at.subheader
    ]
    people = next(d.value for d in at.dataframe if "customer_id" in d.value.columns)
    assert len(people) == 3270 - 1357
    assert list(people.columns[:4]) == ["customer_id", "name", "country", "plan"]


def test_the_journey_map_and_paths_follow_the_link(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    journeys.refresh(sample_warehouse)

    at = open_page(
        JOURNEYS, jtab="Journey map", jsteps="3", janchor="first_purchase", jcolour="detractors"
    )

    grid = at.dataframe[0].value
    assert list(grid.columns) == [
        "", "Awareness", "Consideration", "Purchase", "Onboarding", "Service", "Loyalty",
    ]  # fmt: skip
    assert tuple(grid.iloc[0]) == (
        "Customers", "20,000", "18,599", "15,629", "15,151", "10,911", "4,853",
    )  # fmt: skip
    open_tab(at, "jtab", "Paths")
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
