"""Orders of the sample company: BG/NBD purchases, Gamma-Gamma spend, the late-delivery incident."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.sample import vocabulary as vocab
from analytics.sample.arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    choose_rows,
    segment_cumsum,
    time_of_day,
)
from analytics.sample.customers import Contacts
from analytics.sample.profiles import (
    BASELINE_LATE_SHARE,
    GROUPS,
    INCIDENT_LATE_SHARE,
    SPEND_SHAPE_ACROSS_CUSTOMERS,
    SPEND_SHAPE_PER_ORDER,
    group_index,
)
from analytics.sample.timeline import Timeline, dates


@dataclass(frozen=True)
class Orders:
    customer: IntArray
    day: FloatArray
    rank: IntArray  # 0 for a customer's first order
    amount: FloatArray
    discount: FloatArray
    quantity: IntArray
    category: IntArray
    product: IntArray
    channel: IntArray
    status: IntArray  # 0 completed, 1 returned, 2 cancelled
    late: BoolArray
    delivery_days: IntArray
    first_day: FloatArray  # per customer, inf for prospects


def draw_orders(rng: np.random.Generator, contacts: Contacts, timeline: Timeline) -> Orders:
    n = contacts.group.size
    buyers = np.flatnonzero(contacts.group >= 0)
    g = contacts.group[buyers]
    rate_mean = np.array([p.orders_per_year for p in GROUPS])[g] / 365.25
    shape = np.array([p.rate_shape for p in GROUPS])[g]
    rate = rng.gamma(shape, rate_mean / shape)
    lag = np.where(rng.random(buyers.size) < 0.6, 0.0, np.floor(rng.exponential(4.0, buyers.size)))
    first = np.minimum(contacts.signup[buyers] + lag, timeline.days - 1) + time_of_day(
        rng, buyers.size
    )
    stop = np.maximum(contacts.stop[buyers], first)

    # BG/NBD: after each purchase the buyer drops out with probability p; while active, the
    # purchases are a Poisson process in "seasonal time" (calendar time warped by seasonality).
    dropout = np.array([p.dropout for p in GROUPS])[g]
    repeats = rng.geometric(dropout) - 1
    grid = np.arange(timeline.days + 1, dtype=np.float64)
    op_first = np.interp(first, grid, timeline.cumulative)
    op_stop = np.interp(stop, grid, timeline.cumulative)
    expected = rate * (op_stop - op_first)
    cap = np.ceil(expected + 6 * np.sqrt(expected) + 5).astype(np.int64)
    repeats = np.minimum(repeats, cap)
    gaps = rng.exponential(1.0, int(repeats.sum())) / np.repeat(rate, repeats)
    op_times = np.repeat(op_first, repeats) + segment_cumsum(gaps, repeats)
    keep = op_times < np.repeat(op_stop, repeats)
    repeat_owner = np.repeat(np.arange(buyers.size), repeats)[keep]
    repeat_day = np.interp(op_times[keep], timeline.cumulative, grid)

    owner = np.concatenate([np.arange(buyers.size), repeat_owner])
    day = np.concatenate([first, repeat_day])
    sort = np.lexsort((day, owner))
    owner, day = owner[sort], day[sort]
    counts = np.bincount(owner, minlength=buyers.size)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    customer = buyers[owner]
    og = g[owner]
    m = owner.size

    spend = np.array([p.mean_spend for p in GROUPS])[g]
    customer_mean = rng.gamma(SPEND_SHAPE_ACROSS_CUSTOMERS, spend / SPEND_SHAPE_ACROSS_CUSTOMERS)
    amount = rng.gamma(SPEND_SHAPE_PER_ORDER, customer_mean[owner] / SPEND_SHAPE_PER_ORDER)
    amount = np.round(np.maximum(amount, 3.0), 2)
    discount_p = np.array([p.discount_probability for p in GROUPS])[og]
    ranges = np.array([p.discount_range for p in GROUPS])[og]
    discounted = rng.random(m) < discount_p
    share = rng.uniform(ranges[:, 0], ranges[:, 1])
    discount = np.round(np.where(discounted, amount * share, 0.0), 2).astype(np.float64)
    quantity = 1 + rng.poisson(np.where(og == group_index("bargain_hunters"), 1.0, 0.4))

    category_weights = np.array([p.category_weights for p in GROUPS])[og]
    category = choose_rows(rng, category_weights)
    sizes = np.array([len(vocab.PRODUCTS[c]) for c in vocab.CATEGORIES])
    product = np.floor(rng.random(m) * sizes[category]).astype(np.int64)
    channel = rng.choice(
        len(vocab.SALES_CHANNELS), size=m, p=np.asarray(vocab.SALES_CHANNEL_WEIGHTS)
    )

    returns = np.array([p.return_rate for p in GROUPS])[og]
    r = rng.random(m)
    status = np.where(r < returns, 1, np.where(r < returns + 0.03, 2, 0))

    # The planted carrier incident: orders placed from a week before the incident quarter to
    # three weeks before its end arrive late far more often, so that their surveys and
    # tickets land inside the quarter.
    lo, hi = timeline.incident[0] - 8, timeline.incident[1] - 20
    in_incident = (day >= lo) & (day < hi)
    late_p = np.where(in_incident, INCIDENT_LATE_SHARE, BASELINE_LATE_SHARE)
    late = (rng.random(m) < late_p) & (status != 2)
    delivery_days = np.where(late, rng.integers(9, 17, m), rng.integers(2, 6, m))

    first_day = np.full(n, np.inf)
    first_day[buyers] = first
    return Orders(
        customer=customer,
        day=day,
        rank=rank,
        amount=amount,
        discount=discount,
        quantity=quantity.astype(np.int64),
        category=category,
        product=product,
        channel=channel,
        status=status,
        late=late,
        delivery_days=delivery_days.astype(np.int64),
        first_day=first_day,
    )


def orders_frame(orders: Orders, ids: list[str], timeline: Timeline) -> pl.DataFrame:
    sort = np.lexsort((orders.customer, orders.day))
    products = [p for c in vocab.CATEGORIES for p in vocab.PRODUCTS[c]]
    offsets = np.cumsum([0] + [len(vocab.PRODUCTS[c]) for c in vocab.CATEGORIES])
    id_array = np.array(ids)
    statuses = np.array(["completed", "returned", "cancelled"])
    return pl.DataFrame(
        {
            "order_id": [str(100_001 + i) for i in range(sort.size)],
            "customer_id": id_array[orders.customer[sort]].tolist(),
            "order_date": dates(timeline, orders.day[sort]),
            "amount": orders.amount[sort],
            "quantity": orders.quantity[sort],
            "product": np.array(products)[offsets[orders.category] + orders.product][sort].tolist(),
            "product_category": np.array(vocab.CATEGORIES)[orders.category[sort]].tolist(),
            "channel": np.array(vocab.SALES_CHANNELS)[orders.channel[sort]].tolist(),
            "status": statuses[orders.status[sort]].tolist(),
            "discount": orders.discount[sort],
        }
    )
