"""The tickets before each survey answer (key drivers): counted by hand, stored per response
by the feedback build, and the key drivers read from what the build stored equal to the ones
fitted on the rows, for everyone and for limited users."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import feedback
from analytics.errors import ConfigError
from analytics.feedback import tickets, views
from analytics.filters import Filters
from analytics.ingest.pipeline import ingest
from analytics.warehouse import Access, QueryGateway, Warehouse

SURVEYS = (
    b"response_id,customer_id,responded_at,nps,comment\n"
    b"R1,C1,2025-03-10 12:00:00,3,The parcel was late\n"
    b"R2,C2,2025-03-10 12:00:00,9,Great service\n"
    b"R3,,2025-03-10 12:00:00,5,It was fine\n"
    b"R4,C1,2025-01-05 12:00:00,6,Slow answers\n"
)
TICKETS = (
    b"ticket_id,customer_id,opened_at,first_response_at\n"
    b"T1,C1,2025-02-01 09:00:00,2025-02-01 11:00:00\n"  # R1's, answered in 2 h
    b"T2,C1,2025-03-01 09:00:00,\n"  # R1's, never answered
    b"T3,C1,2024-11-01 09:00:00,2024-11-03 09:00:00\n"  # R4's (65 days before), 48 h
    b"T4,C2,2025-03-11 09:00:00,2025-03-11 10:00:00\n"  # after R2: not before it
)
# By hand: R1 has T1 and T2 in the 90 days before it (T3 is 129 days before), one waited;
# R4 has T3 only (T1 and T2 came after it), which waited 48 h; anonymous R3 has none.
EXPECTED = {"R1": (2, 1), "R2": (0, 0), "R3": (None, None), "R4": (1, 1)}


def _load(warehouse: Warehouse, dataset: str, content: bytes) -> None:
    result = ingest(content, dataset_name=dataset, warehouse=warehouse, file_name="x.csv", user="t")
    assert result.loaded, result.message


def test_ticket_facts_by_hand_stored_and_counted_alike(warehouse):
    _load(warehouse, "surveys", SURVEYS)
    _load(warehouse, "tickets", TICKETS)
    feedback.refresh(warehouse)
    stored = feedback.current(warehouse)
    gateway = QueryGateway(warehouse)

    facts = pl.read_parquet(stored.path(tickets.PART)).sort("response_id")
    assert {r[0]: r[1:] for r in facts.rows()} == EXPECTED
    assert_frame_equal(facts, tickets.ticket_facts(gateway).sort("response_id"))
    read = views.driver_frame(gateway, facts=stored.path(tickets.PART))
    assert_frame_equal(read, views.driver_frame(gateway))
    assert read["response_id"].to_list() == ["R1", "R2", "R3", "R4"]


@pytest.mark.parametrize(
    ("limits", "narrows"),
    [
        ((), False),
        ((("country", ("Germany",)),), False),
        ((("region", ("EMEA",)),), False),
        ((("customer_id", ("C1",)),), False),
        ((("product_category", ("Books",)),), False),
        ((("channel", ("email",)),), True),
        ((("status", ("Open",)),), True),
        ((("region", ("EMEA",)), ("priority", ("High",))), True),
    ],
)
def test_stored_facts_serve_users_whose_access_keeps_every_ticket_of_a_customer(limits, narrows):
    assert tickets.narrows_tickets(Access(limits=limits)) is narrows


def test_no_rating_columns_is_said_before_any_row_is_read(warehouse, monkeypatch):
    _load(warehouse, "surveys", SURVEYS)
    gateway = QueryGateway(warehouse)
    monkeypatch.setattr(views, "driver_frame", _not_called)
    with pytest.raises(ConfigError, match="The surveys have no rating columns"):
        views.driver_table(gateway)  # no feedback build yet: asked of the columns
    monkeypatch.undo()
    feedback.refresh(warehouse)  # which fits every score's drivers on the rows
    monkeypatch.setattr(views, "driver_frame", _not_called)
    with pytest.raises(ConfigError, match="The surveys have no rating columns"):
        views.driver_table(gateway)  # the build's answer for everyone
    assert feedback.current(warehouse).meta["drivers"]["targets"]["nps"] == {
        "why": views.NO_RATINGS
    }


# ----- the sample company: ratings, tickets, planted drivers -----------------------------


@pytest.fixture(scope="module")
def sample(sample_warehouse):
    feedback.refresh(sample_warehouse)
    return QueryGateway(sample_warehouse), feedback.current(sample_warehouse)


def _fitted(gateway, filters, target, *, facts=None):
    """The drivers fitted now on the rows (no stored model)."""
    frame = views.driver_frame(gateway, filters, facts=facts)
    return views.driver_model(frame, target, gateway.access.min_group)


def _same(found, expected):
    assert_frame_equal(found.table, expected.table)
    assert (found.r2, found.n) == (expected.r2, expected.n)


@pytest.mark.slow
@pytest.mark.parametrize("target", views.TARGETS)
def test_everyones_stored_drivers_are_the_ones_fitted_on_every_response(sample, target):
    gateway, stored = sample
    days = stored.meta["drivers"]["days"]
    sidebar = Filters(start=date.fromisoformat(days[0]), end=date.fromisoformat(days[1]))
    expected = _fitted(gateway, Filters(), target)
    assert expected.n >= 800
    for filters in (Filters(), sidebar):
        _same(views.driver_table(gateway, filters, target=target), expected)
    viewer = gateway.scoped(Access(mask_pii=True, min_group=5))
    _same(views.driver_table(viewer, sidebar, target=target), expected)
    with pytest.raises(ConfigError, match=f"Fewer than {expected.n + 1} responses: hidden"):
        views.driver_table(gateway.scoped(Access(min_group=expected.n + 1)), target=target)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("access", "filters"),
    [
        (Access(), Filters(start=date(2024, 1, 1), end=date(2024, 12, 31))),
        (Access(limits=(("country", ("Germany",)),), min_group=5), Filters()),
        (Access(), Filters(plan=("Premium",))),
        (Access(limits=(("channel", ("email",)),)), Filters()),
    ],
)
def test_other_users_get_drivers_fitted_on_their_responses(sample, access, filters):
    gateway, stored = sample
    user = gateway.scoped(access)
    everyone = views.driver_table(gateway, target="nps")
    found = views.driver_table(user, filters, target="nps")
    counted = _fitted(user, filters, "nps")  # the tickets counted as this user sees them
    _same(found, counted)
    if not tickets.narrows_tickets(access):
        _same(found, _fitted(user, filters, "nps", facts=stored.path(tickets.PART)))
    assert found.n < everyone.n


def _not_called(*args, **kwargs):
    raise AssertionError("the rows were read")
