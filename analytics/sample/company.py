"""The sample company as canonical frames: who the customers are and what they do.

Everything is drawn from `numpy.random.default_rng`, one independent stream per dataset, so the
same seed gives the same company. Behaviour is declared in tables (`profiles.py`); the planted
truths are documented with their numbers in `data/sample/README.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics.sample.customers import customer_ids, customers_frame, draw_contacts, groups_frame
from analytics.sample.events import draw_events
from analytics.sample.orders import draw_orders, orders_frame
from analytics.sample.surveys import draw_surveys
from analytics.sample.tickets import draw_tickets, tickets_frame
from analytics.sample.timeline import build_timeline


@dataclass(frozen=True)
class SampleCompany:
    """The sample company in canonical columns (DESIGN.md §2) plus its planted ground truth.

    `groups` has one row per customer: customer_id, group (a `GROUPS` name or "prospect") and
    acquisition_channel. `incident_start`/`incident_end` bound the quarter of the planted NPS drop.
    """

    customers: pl.DataFrame
    orders: pl.DataFrame
    surveys: pl.DataFrame
    tickets: pl.DataFrame
    events: pl.DataFrame
    groups: pl.DataFrame
    start: date
    end: date
    incident_start: date
    incident_end: date


def generate_company(customers: int, seed: int, years: int, end: date) -> SampleCompany:
    """Generate the company; arguments are assumed valid (the public API validates them)."""
    timeline = build_timeline(end, years)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    contacts = draw_contacts(streams[0], customers, timeline)
    ids = customer_ids(customers)
    crm = customers_frame(streams[0], contacts, ids, timeline)
    orders = draw_orders(streams[1], contacts, timeline)
    tickets = draw_tickets(streams[2], contacts, orders, timeline)
    surveys = draw_surveys(streams[3], contacts, orders, tickets, ids, timeline)
    events = draw_events(streams[4], contacts, orders, tickets, ids, timeline)
    incident_start = timeline.start + timedelta(days=timeline.incident[0])
    return SampleCompany(
        customers=crm,
        orders=orders_frame(orders, ids, timeline),
        surveys=surveys,
        tickets=tickets_frame(tickets, ids, timeline),
        events=events,
        groups=groups_frame(contacts, ids),
        start=timeline.start,
        end=end,
        incident_start=incident_start,
        incident_end=timeline.start + timedelta(days=timeline.incident[1] - 1),
    )


def generate_groups(customers: int, seed: int, years: int, end: date) -> pl.DataFrame:
    """Planted group per customer, drawing only the customer stream (cheap)."""
    timeline = build_timeline(end, years)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[0])
    return groups_frame(draw_contacts(rng, customers, timeline), customer_ids(customers))
