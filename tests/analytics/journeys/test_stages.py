"""The journey settings analysts change: the stage order and the touchpoint -> stage map, kept
in the warehouse, validated with clear messages, and the journeys rebuilt for them."""

from __future__ import annotations

import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import journeys
from analytics.errors import ConfigError
from analytics.ingest.pipeline import ingest
from analytics.journeys import steps, views
from analytics.journeys.stages import (
    DEFAULT_SETTINGS,
    SETTINGS_FILE,
    JourneySettings,
    load_settings,
    save_settings,
)
from analytics.journeys.steps import stage_rules, touchpoint_stages
from analytics.warehouse import Access, QueryGateway, Warehouse

EVENTS = (
    b"customer_id,occurred_at,touchpoint,stage\n"
    b"C1,2025-01-01 09:00:00,Social ad,\n"
    b"C1,2025-01-02 09:00:00,Blog post,\n"
    b"C1,2025-01-03 09:00:00,Checkout,purchase\n"
    b"C2,2025-01-01 10:00:00,Social ad,\n"
    b"C2,2025-01-04 10:00:00,Blog post,\n"
    b"C3,2025-01-02 11:00:00,Blog post,Awareness\n"
)


@pytest.fixture
def events_warehouse(warehouse: Warehouse) -> Warehouse:
    result = ingest(
        EVENTS, dataset_name="events", warehouse=warehouse, file_name="events.csv", user="t"
    )
    assert result.loaded, result.message
    return warehouse


def test_stages_outside_the_order_are_refused_naming_what_is_wrong():
    with pytest.raises(
        ConfigError,
        match=r"The touchpoint map names stages that are not in awareness, consideration, "
        r"purchase, onboarding, service, loyalty: 'pay' -> 'checkout'\. Map those",
    ):
        JourneySettings(touchpoint_stages={"pay": "checkout"})
    with pytest.raises(ConfigError, match="Orders belong to stage 'buy', which is not in a, b"):
        JourneySettings(stages=("a", "b"), touchpoint_stages={}, purchase_stage="buy")
    with pytest.raises(ConfigError, match="at least two distinct stages"):
        JourneySettings(stages=("only",), touchpoint_stages={}, purchase_stage="only",
                        ticket_stage="only")  # fmt: skip


def test_mapping_touchpoints_adds_changes_and_removes_case_insensitively():
    changed = DEFAULT_SETTINGS.mapped({" Blog Post ": "awareness", "Size guide": None})
    assert changed.stage_of("BLOG POST") == "awareness"
    assert changed.stage_of("size guide") is None
    assert changed.stage_of("Social ad") == "awareness"
    assert DEFAULT_SETTINGS.stage_of("size guide") == "consideration"  # unchanged
    assert changed.key() != DEFAULT_SETTINGS.key()
    with pytest.raises(ConfigError, match="no name"):
        DEFAULT_SETTINGS.mapped({"  ": "awareness"})


def test_the_export_stage_wins_then_the_map_then_none():
    pairs = pl.DataFrame(
        {
            "touchpoint": ["Blog post", "Blog post", "Checkout", "Mystery"],
            "exported": ["Awareness", None, None, "nonsense"],
        }
    )
    decided = stage_rules(pairs, DEFAULT_SETTINGS.mapped({"blog post": "consideration"}))
    assert decided.select("stage", "decided_by").rows() == [
        ("awareness", "export"),
        ("consideration", "map"),
        ("purchase", "map"),
        (None, "none"),
    ]
    first = DEFAULT_SETTINGS.mapped({"blog post": "consideration"})
    first = JourneySettings(**{**first.__dict__, "map_first": True})
    assert stage_rules(pairs, first).select("stage", "decided_by").rows() == [
        ("consideration", "map"),
        ("consideration", "map"),
        ("purchase", "map"),
        (None, "none"),
    ]
    exported_only = JourneySettings(touchpoint_stages={}, map_first=True)
    assert stage_rules(pairs, exported_only).select("stage", "decided_by").rows() == [
        ("awareness", "export"), (None, "none"), (None, "none"), (None, "none")
    ]  # fmt: skip


def test_settings_are_the_defaults_until_saved_and_then_read_back(tmp_path):
    assert load_settings(tmp_path) is DEFAULT_SETTINGS
    chosen = JourneySettings(
        stages=("discover", "buy", "help"),
        touchpoint_stages={"blog post": "discover"},
        purchase_stage="buy",
        ticket_stage="help",
    )
    save_settings(tmp_path, chosen)
    assert load_settings(tmp_path) == chosen
    saved = json.loads((tmp_path / SETTINGS_FILE).read_text())
    assert saved == {
        "stages": ["discover", "buy", "help"],
        "purchase_stage": "buy",
        "ticket_stage": "help",
        "map_first": False,
        "touchpoint_stages": {"blog post": "discover"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "cannot be read"),
        ('["a"]', "expected an object"),
        ('{"stages": "awareness"}', "'stages' must be a list"),
        ('{"touchpoint_stages": {"x": 3}}', "'touchpoint_stages' must map"),
        ('{"touchpoint_stages": {"x": "later"}}', "'x' -> 'later'"),
    ],
)
def test_a_broken_settings_file_is_named_with_what_is_wrong(tmp_path, text, message):
    (tmp_path / SETTINGS_FILE).parent.mkdir()
    (tmp_path / SETTINGS_FILE).write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(tmp_path)
    assert str(tmp_path / SETTINGS_FILE) in str(caught.value)


def test_touchpoints_are_listed_with_their_volume_and_where_their_stage_comes_from(
    events_warehouse,
):
    table = touchpoint_stages(QueryGateway(events_warehouse), events_warehouse, DEFAULT_SETTINGS)
    assert table.rows() == [
        ("Blog post", None, 2, 2, None, "none"),
        ("Social ad", None, 2, 2, "awareness", "map"),
        ("Blog post", "Awareness", 1, 1, "awareness", "export"),
        ("Checkout", "purchase", 1, 1, "purchase", "export"),
    ]


def test_a_changed_map_is_a_new_build_and_the_funnel_follows_it(events_warehouse):
    gateway = QueryGateway(events_warehouse)
    journeys.refresh(events_warehouse)
    before = journeys.current(events_warehouse)
    assert before is not None and before.settings == DEFAULT_SETTINGS
    funnel = views.funnel_table(gateway, before)
    assert funnel.select("stage", "customers").rows()[:3] == [
        ("awareness", 3), ("consideration", 0), ("purchase", 0)
    ]  # fmt: skip

    save_settings(events_warehouse.root, DEFAULT_SETTINGS.mapped({"Blog post": "consideration"}))
    assert journeys.current(events_warehouse) is None
    assert journeys.pending(events_warehouse)
    journeys.refresh(events_warehouse)
    after = journeys.current(events_warehouse)
    assert after is not None and after.settings.stage_of("blog post") == "consideration"
    funnel = views.funnel_table(gateway, after)
    # C1: ad, blog, checkout; C2: ad, blog; C3: blog exported as awareness (the export wins).
    assert funnel.select("stage", "customers").rows()[:3] == [
        ("awareness", 3), ("consideration", 2), ("purchase", 1)
    ]  # fmt: skip


def test_a_new_stage_order_renames_in_place_or_unmaps_what_it_removes():
    renamed = DEFAULT_SETTINGS.with_stages(("discover", "consider", "buy", "start", "help", "stay"))
    assert renamed.stage_of("social ad") == "discover"
    assert (renamed.purchase_stage, renamed.ticket_stage) == ("buy", "help")
    assert renamed.stage_of("renewal") == "stay"

    shorter = DEFAULT_SETTINGS.with_stages(("awareness", "purchase", "service"))
    assert shorter.stage_of("social ad") == "awareness"
    assert shorter.stage_of("product page") is None  # consideration is gone
    assert shorter.stage_of("checkout") == "purchase"
    with pytest.raises(ConfigError, match="Orders belong to stage 'purchase', which is not in"):
        DEFAULT_SETTINGS.with_stages(("awareness", "service"))


def test_the_touchpoints_are_counted_once_per_build_for_those_who_see_every_event(
    company, monkeypatch
):
    gateway = QueryGateway(company)
    settings = load_settings(company.root)
    counted = steps.touchpoint_counts(gateway)
    with monkeypatch.context() as patched:
        patched.setattr(steps, "touchpoint_counts", _refuse)
        table = touchpoint_stages(gateway, company, settings)  # the build's counts

    assert_frame_equal(
        table,
        stage_rules(counted, settings).sort(
            ["events", "touchpoint", "exported"], descending=[True, False, False]
        ),
    )
    assert (
        table["events"].sum()
        == gateway.query("SELECT count(*) AS n FROM events WHERE touchpoint IS NOT NULL")["n"][0]
    )


def test_a_row_limited_user_counts_the_touchpoints_they_see(company):
    limited = QueryGateway(company).scoped(Access(limits=(("region", ("EMEA",)),)))
    settings = load_settings(company.root)

    table = touchpoint_stages(limited, company, settings)

    seen = limited.query("SELECT count(*) AS n FROM events WHERE touchpoint IS NOT NULL")["n"][0]
    everyone = touchpoint_stages(QueryGateway(company), company, settings)
    assert table["events"].sum() == seen < everyone["events"].sum()


def _refuse(*args: object) -> None:
    raise AssertionError("counted the events again: the build holds their counts")
