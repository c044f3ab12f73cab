"""Help-desk tickets of the sample company, raised by orders (late, returned) and accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.sample import vocabulary as vocab
from analytics.sample.arrays import BoolArray, FloatArray, IntArray, choose_rows, nullable_int
from analytics.sample.customers import Contacts
from analytics.sample.orders import Orders
from analytics.sample.profiles import LATE_DELIVERY_TICKET_RATE
from analytics.sample.timeline import Timeline, datetimes


@dataclass(frozen=True)
class Tickets:
    customer: IntArray
    opened: FloatArray
    first_response: FloatArray  # nan when after the window
    resolved: FloatArray
    channel: IntArray
    category: IntArray
    priority: IntArray
    csat: FloatArray  # nan when not rated
    late_delivery: BoolArray


def draw_tickets(
    rng: np.random.Generator, contacts: Contacts, orders: Orders, timeline: Timeline
) -> Tickets:
    m = orders.day.size
    base_day = np.floor(orders.day)
    delivery_idx = vocab.TICKET_CATEGORIES.index("Delivery")
    returns_idx = vocab.TICKET_CATEGORIES.index("Returns")

    late_ticket = orders.late & (rng.random(m) < LATE_DELIVERY_TICKET_RATE)
    return_ticket = (orders.status == 1) & (rng.random(m) < 0.45)
    other_ticket = rng.random(m) < 0.035
    other_category = rng.choice(
        len(vocab.TICKET_CATEGORIES), size=m, p=np.asarray(vocab.TICKET_CATEGORY_WEIGHTS)
    )
    late_open = base_day + rng.integers(5, 11, m)
    return_open = base_day + orders.delivery_days + rng.integers(1, 20, m)
    other_open = base_day + rng.integers(1, 21, m)

    n = contacts.group.size
    account = rng.random(n) < 0.03
    account_open = contacts.signup + np.floor(rng.random(n) * (timeline.days - contacts.signup))

    customer = np.concatenate(
        [
            orders.customer[late_ticket],
            orders.customer[return_ticket],
            orders.customer[other_ticket],
            np.flatnonzero(account),
        ]
    )
    opened_day = np.concatenate(
        [
            late_open[late_ticket],
            return_open[return_ticket],
            other_open[other_ticket],
            account_open[account],
        ]
    )
    category = np.concatenate(
        [
            np.full(int(late_ticket.sum()), delivery_idx),
            np.full(int(return_ticket.sum()), returns_idx),
            other_category[other_ticket],
            np.full(int(account.sum()), vocab.TICKET_CATEGORIES.index("Account")),
        ]
    )
    late_delivery = np.concatenate(
        [
            np.ones(int(late_ticket.sum()), bool),
            np.zeros(customer.size - int(late_ticket.sum()), bool),
        ]
    )
    opened = opened_day + rng.uniform(8 / 24, 20 / 24, customer.size)
    keep = opened < timeline.days
    customer, opened, category, late_delivery = (
        customer[keep],
        opened[keep],
        category[keep],
        late_delivery[keep],
    )
    sort = np.lexsort((customer, opened))
    customer, opened, category, late_delivery = (
        customer[sort],
        opened[sort],
        category[sort],
        late_delivery[sort],
    )
    k = customer.size

    channel = rng.choice(
        len(vocab.TICKET_CHANNELS), size=k, p=np.asarray(vocab.TICKET_CHANNEL_WEIGHTS)
    )
    live = np.isin(
        channel, [vocab.TICKET_CHANNELS.index("Chat"), vocab.TICKET_CHANNELS.index("Phone")]
    )
    reply_hours = rng.lognormal(np.where(live, np.log(0.1), np.log(3.0)), 0.9)
    solve_hours = rng.lognormal(np.log(18.0), 1.0, k)
    first_response = opened + reply_hours / 24
    resolved = first_response + solve_hours / 24
    priority = choose_rows(
        rng,
        np.where(
            late_delivery[:, None],
            np.array([[0.0, 0.40, 0.45, 0.15]]),
            np.array([[0.25, 0.55, 0.17, 0.03]]),
        ),
    )
    rated = rng.random(k) < 0.35
    mood = 4.3 - 1.6 * late_delivery - 0.35 * np.log(solve_hours / 18.0) + rng.normal(0, 0.7, k)
    csat = np.where(rated & (resolved < timeline.days), np.clip(np.round(mood), 1, 5), np.nan)
    return Tickets(
        customer=customer,
        opened=opened,
        first_response=np.where(first_response < timeline.days, first_response, np.nan),
        resolved=np.where(resolved < timeline.days, resolved, np.nan),
        channel=channel,
        category=category,
        priority=priority,
        csat=csat,
        late_delivery=late_delivery,
    )


def tickets_frame(tickets: Tickets, ids: list[str], timeline: Timeline) -> pl.DataFrame:
    k = tickets.customer.size
    closed = tickets.resolved + 4 < timeline.days
    status = np.where(
        np.isnan(tickets.first_response),
        "Open",
        np.where(np.isnan(tickets.resolved), "Pending", np.where(closed, "Closed", "Solved")),
    )
    return pl.DataFrame(
        {
            "ticket_id": [str(40_001 + i) for i in range(k)],
            "customer_id": np.array(ids)[tickets.customer].tolist(),
            "opened_at": datetimes(timeline, tickets.opened),
            "first_response_at": datetimes(timeline, tickets.first_response),
            "resolved_at": datetimes(timeline, tickets.resolved),
            "channel": np.array(vocab.TICKET_CHANNELS)[tickets.channel].tolist(),
            "category": np.array(vocab.TICKET_CATEGORIES)[tickets.category].tolist(),
            "priority": np.array(vocab.PRIORITIES)[tickets.priority].tolist(),
            "status": status.tolist(),
            "csat": nullable_int(tickets.csat),
        }
    )
