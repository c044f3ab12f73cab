"""Touchpoint events of the sample company along the journey stages."""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics.sample import vocabulary as vocab
from analytics.sample.arrays import FloatArray, IntArray, time_of_day
from analytics.sample.customers import Contacts
from analytics.sample.orders import Orders
from analytics.sample.profiles import ACQUISITION, CONSIDERATION_REACH, group_index
from analytics.sample.tickets import Tickets
from analytics.sample.timeline import Timeline, datetimes


def draw_events(
    rng: np.random.Generator,
    contacts: Contacts,
    orders: Orders,
    tickets: Tickets,
    ids: list[str],
    timeline: Timeline,
) -> pl.DataFrame:
    n = contacts.group.size
    touchpoints = list(vocab.TOUCHPOINT_STAGE)
    channels = ["Social", "Search", "Referral", "Email", "Web", "App", "Store", "Chat", "Phone"]
    tp = touchpoints.index
    ch = channels.index
    parts: list[tuple[IntArray, FloatArray, IntArray, IntArray]] = []

    def add(customer: IntArray, t: FloatArray, touchpoint: IntArray, channel: IntArray) -> None:
        parts.append((customer, t, touchpoint, channel))

    signup = contacts.signup.astype(np.float64)
    # Awareness: the acquisition channel's touchpoint, days before sign-up.
    count = 1 + rng.poisson(0.8, n)
    who = np.repeat(np.arange(n), count)
    t = signup[who] - rng.integers(2, 31, who.size) + time_of_day(rng, who.size)
    awareness_tp = np.array([tp(a.touchpoint) for a in ACQUISITION])
    awareness_ch = np.array([ch(a.event_channel) for a in ACQUISITION])
    add(who, t, awareness_tp[contacts.channel[who]], awareness_ch[contacts.channel[who]])

    # Consideration: every buyer, and enough non-buyers that each channel reaches the stage
    # with the same rate; the planted drop-off is therefore between consideration and purchase.
    converted = contacts.group >= 0
    conversion = np.array([a.conversion for a in ACQUISITION])[contacts.channel]
    extra = np.clip((CONSIDERATION_REACH - conversion) / (1 - conversion), 0, 1)
    considers = converted | (rng.random(n) < extra)
    count = np.where(considers, 1 + rng.poisson(1.5, n), 0)
    who = np.repeat(np.arange(n), count)
    lo = signup[who] - 1
    hi = np.where(
        converted[who], orders.first_day[np.where(converted[who], who, 0)] - 0.01, lo + 11
    )
    t = lo + rng.random(who.size) * (hi - lo)
    pick = rng.integers(0, len(vocab.CONSIDERATION_TOUCHPOINTS), who.size)
    consideration_tp = np.array([tp(x) for x in vocab.CONSIDERATION_TOUCHPOINTS])
    add(who, t, consideration_tp[pick], np.where(rng.random(who.size) < 0.65, ch("Web"), ch("App")))

    # Purchase: one checkout per order, in the order's sales channel.
    sales_ch = np.array([ch("Web"), ch("App"), ch("Store")])
    m = orders.day.size
    add(orders.customer, orders.day, np.full(m, tp("Checkout")), sales_ch[orders.channel])

    # Onboarding after the first order.
    buyers = np.flatnonzero(converted)
    first = orders.first_day[buyers]
    welcome = rng.random(buyers.size) < 0.92
    add(
        buyers[welcome],
        first[welcome] + rng.uniform(0.01, 1.0, int(welcome.sum())),
        np.full(int(welcome.sum()), tp("Welcome email")),
        np.full(int(welcome.sum()), ch("Email")),
    )
    setup = rng.random(buyers.size) < 0.65
    add(
        buyers[setup],
        first[setup] + rng.uniform(0.1, 7.0, int(setup.sum())),
        np.full(int(setup.sum()), tp("Account setup")),
        np.where(rng.random(int(setup.sum())) < 0.6, ch("Web"), ch("App")),
    )

    # Service: order tracking (nearly always when late), returns, support contacts.
    track = (orders.status != 2) & (rng.random(m) < np.where(orders.late, 0.9, 0.35))
    k = int(track.sum())
    add(
        orders.customer[track],
        orders.day[track] + rng.uniform(0.5, 1.0, k) * orders.delivery_days[track],
        np.full(k, tp("Order tracking")),
        np.where(rng.random(k) < 0.5, ch("Web"), ch("App")),
    )
    returned = orders.status == 1
    k = int(returned.sum())
    add(
        orders.customer[returned],
        orders.day[returned] + orders.delivery_days[returned] + rng.uniform(1, 10, k),
        np.full(k, tp("Return request")),
        np.full(k, ch("Web")),
    )
    via = np.array([ch("Email"), ch("Web"), ch("Chat"), ch("Phone")])
    add(
        tickets.customer,
        tickets.opened,
        np.full(tickets.customer.size, tp("Support contact")),
        via[tickets.channel],
    )

    # Loyalty: reviews of repeat orders, the loyalty programme at the third order, referrals.
    review = (orders.status == 0) & (orders.rank > 0) & (rng.random(m) < 0.08)
    k = int(review.sum())
    add(
        orders.customer[review],
        orders.day[review] + orders.delivery_days[review] + rng.uniform(3, 14, k),
        np.full(k, tp("Product review")),
        np.full(k, ch("Web")),
    )
    join = (orders.rank == 2) & (rng.random(m) < 0.7)
    k = int(join.sum())
    add(
        orders.customer[join],
        orders.day[join] + rng.uniform(0.0, 5.0, k),
        np.full(k, tp("Loyalty signup")),
        np.where(rng.random(k) < 0.5, ch("Web"), ch("App")),
    )
    refer_p = np.where(
        contacts.group[buyers] == group_index("champions"),
        0.3,
        np.where(contacts.group[buyers] == group_index("loyal"), 0.1, 0.0),
    )
    refer = rng.random(buyers.size) < refer_p
    k = int(refer.sum())
    add(
        buyers[refer],
        first[refer] + rng.uniform(30, 400, k),
        np.full(k, tp("Referral sent")),
        np.full(k, ch("Email")),
    )

    customer = np.concatenate([p[0] for p in parts])
    times = np.concatenate([p[1] for p in parts])
    touchpoint = np.concatenate([p[2] for p in parts])
    channel = np.concatenate([p[3] for p in parts])
    keep = times < timeline.days
    customer, times, touchpoint, channel = (
        customer[keep],
        times[keep],
        touchpoint[keep],
        channel[keep],
    )
    sort = np.lexsort((touchpoint, times, customer))
    stages = np.array([vocab.TOUCHPOINT_STAGE[x] for x in touchpoints])
    return pl.DataFrame(
        {
            "customer_id": np.array(ids)[customer[sort]].tolist(),
            "occurred_at": datetimes(timeline, times[sort]),
            "touchpoint": np.array(touchpoints)[touchpoint[sort]].tolist(),
            "stage": stages[touchpoint[sort]].tolist(),
            "channel": np.array(channels)[channel[sort]].tolist(),
        }
    )
