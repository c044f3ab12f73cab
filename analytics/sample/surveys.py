"""Survey responses of the sample company: NPS, CSAT, CES, rating attributes and comments."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from analytics.contract import attribute_name
from analytics.sample import vocabulary as vocab
from analytics.sample.arrays import BoolArray, FloatArray, IntArray, nullable_int, time_of_day
from analytics.sample.customers import Contacts
from analytics.sample.orders import Orders
from analytics.sample.profiles import GROUPS, INCIDENT_OTHER_AFFECTED, RATING_ATTRIBUTES
from analytics.sample.tickets import Tickets
from analytics.sample.timeline import Timeline, datetimes


def draw_surveys(
    rng: np.random.Generator,
    contacts: Contacts,
    orders: Orders,
    tickets: Tickets,
    ids: list[str],
    timeline: Timeline,
) -> pl.DataFrame:
    n = contacts.group.size
    # Post-purchase survey, sent once the order has been delivered.
    pick = (orders.status != 2) & (rng.random(orders.day.size) < 0.08)
    purchase_t = (
        np.floor(orders.day[pick])
        + orders.delivery_days[pick]
        + rng.integers(1, 4, int(pick.sum()))
        + time_of_day(rng, int(pick.sum()))
    )
    purchase_customer = orders.customer[pick]
    purchase_affected = orders.late[pick]

    # Support survey after a resolved ticket.
    solved = ~np.isnan(tickets.resolved) & (rng.random(tickets.customer.size) < 0.25)
    support_t = tickets.resolved[solved] + rng.uniform(0.05, 2.0, int(solved.sum()))
    support_customer = tickets.customer[solved]
    support_affected = tickets.late_delivery[solved]

    # Relationship pulse and anonymous website intercept: a steady number per quarter.
    last_late = np.full(n, -np.inf)
    np.maximum.at(last_late, orders.customer[orders.late], orders.day[orders.late])
    pulse_customer, pulse_t, web_t = [], [], []
    per_quarter = max(1, round(n * 0.02))
    web_per_quarter = max(1, round(n * 0.009))
    for lo, hi in timeline.quarters:
        eligible = np.flatnonzero(orders.first_day < hi - 14)
        chosen = rng.choice(eligible, size=min(per_quarter, eligible.size), replace=False)
        earliest = np.maximum(lo, orders.first_day[chosen] + 14)
        pulse_customer.append(chosen)
        pulse_day = np.floor(earliest + rng.random(chosen.size) * (hi - earliest))
        pulse_t.append(pulse_day + time_of_day(rng, chosen.size))
        web_day = np.floor(lo + rng.random(web_per_quarter) * (hi - lo))
        web_t.append(web_day + time_of_day(rng, web_per_quarter))
    pulse_c = np.concatenate(pulse_customer).astype(np.int64)
    pulse_times = np.concatenate(pulse_t)
    pulse_affected = (pulse_times - last_late[pulse_c] >= 0) & (
        pulse_times - last_late[pulse_c] <= 45
    )
    web_times = np.concatenate(web_t)
    in_incident = (web_times >= timeline.incident[0]) & (web_times < timeline.incident[1])
    web_affected = rng.random(web_times.size) < np.where(in_incident, INCIDENT_OTHER_AFFECTED, 0.01)

    kind = np.concatenate(  # index into vocab.SURVEY_TOUCHPOINTS
        [
            np.full(purchase_t.size, 0),
            np.full(support_t.size, 1),
            np.full(pulse_times.size, 2),
            np.full(web_times.size, 3),
        ]
    )
    t = np.concatenate([purchase_t, support_t, pulse_times, web_times])
    customer = np.concatenate(
        [purchase_customer, support_customer, pulse_c, np.full(web_times.size, -1)]
    )
    affected = np.concatenate([purchase_affected, support_affected, pulse_affected, web_affected])
    keep = t < timeline.days
    kind, t, customer, affected = kind[keep], t[keep], customer[keep], affected[keep]
    sort = np.lexsort((customer, t))
    kind, t, customer, affected = kind[sort], t[sort], customer[sort], affected[sort]
    r = t.size

    shift = np.array([g.nps_shift for g in GROUPS] + [0.0])[contacts.group]
    response_shift = np.where(customer >= 0, shift[np.maximum(customer, 0)], 0.0)
    scores = _scores(rng, response_shift, affected, kind)
    comments = _comments(rng, scores["nps"], scores["csat"], affected)
    id_array = np.array(ids)
    channel = np.where(kind == 3, "anonymous", np.where(rng.random(r) < 0.8, "email", "sms"))
    frame: dict[str, Any] = {
        "response_id": _response_ids(rng, r),
        "customer_id": pl.Series(
            [id_array[c] if c >= 0 else None for c in customer.tolist()], dtype=pl.String
        ),
        "responded_at": datetimes(timeline, t),
        "nps": nullable_int(scores["nps"]),
        "csat": nullable_int(scores["csat"]),
        "ces": nullable_int(scores["ces"]),
        "comment": pl.Series(comments, dtype=pl.String),
        "touchpoint": np.array(vocab.SURVEY_TOUCHPOINTS)[kind].tolist(),
        "channel": channel.tolist(),
    }
    for header in RATING_ATTRIBUTES:
        frame[attribute_name(header)] = nullable_int(scores[header])
    return pl.DataFrame(frame)


def _response_ids(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = np.frombuffer(
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
    )
    codes = alphabet[rng.integers(0, alphabet.size, (n, 15))]
    return ["R_" + row.tobytes().decode() for row in codes]


def _scores(
    rng: np.random.Generator, shift: FloatArray, affected: BoolArray, kind: IntArray
) -> dict[str, FloatArray]:
    """NPS, CSAT, CES and attribute ratings from one satisfaction latent per response.

    The attribute latents drive the likelihood to recommend with the `RATING_ATTRIBUTES`
    weights; a late delivery pulls the delivery-speed latent down by 2.5 standard deviations.
    """
    r = shift.size
    weights = np.array(list(RATING_ATTRIBUTES.values()))
    latent = rng.normal(0.0, 1.0, (r, weights.size)) + 0.5 * shift[:, None]
    latent[:, 0] -= 2.5 * affected
    recommend = 8.2 + latent @ weights + rng.normal(0.0, 0.75, r)
    nps = np.clip(np.round(recommend), 0, 10)
    csat = np.clip(np.round(4.1 + 0.6 * (recommend - 8.2) + rng.normal(0, 0.5, r)), 1, 5)
    ces = np.clip(np.round(2.6 - 0.55 * (recommend - 8.2) + rng.normal(0, 0.8, r)), 1, 7)
    ratings = np.clip(np.round(3.7 + 0.9 * latent), 1, 5)

    # Which questions each kind of survey asks (and how often they are answered).
    u = rng.random((r, 3))
    ask_nps = np.array([1.0, 0.4, 1.0, 0.55])[kind]
    ask_csat = np.array([0.85, 1.0, 0.3, 0.0])[kind]
    ask_ces = np.array([0.25, 0.75, 0.0, 0.8])[kind]
    has_nps = u[:, 0] < ask_nps
    has_csat = u[:, 1] < ask_csat
    has_ces = u[:, 2] < ask_ces
    has_nps |= ~(has_nps | has_csat | has_ces)
    rated = (kind == 0)[:, None] & (rng.random((r, weights.size)) < 0.92)
    result = {
        "nps": np.where(has_nps, nps, np.nan),
        "csat": np.where(has_csat, csat, np.nan),
        "ces": np.where(has_ces, ces, np.nan),
    }
    for i, header in enumerate(RATING_ATTRIBUTES):
        result[header] = np.where(rated[:, i], ratings[:, i], np.nan)
    return result


def _comments(
    rng: np.random.Generator, nps: FloatArray, csat: FloatArray, affected: BoolArray
) -> list[str | None]:
    """A comment for some responses, its theme following the score and the incident."""
    r = nps.size
    bucket = np.where(
        np.isnan(nps),
        np.where(np.nan_to_num(csat) <= 2, 0, np.where(csat == 3, 1, 2)),
        np.where(nps <= 6, 0, np.where(nps <= 8, 1, 2)),
    )
    has_comment = rng.random(r) < np.array([0.65, 0.35, 0.40])[bucket]

    themes = list(vocab.DETRACTOR_THEME_WEIGHTS)
    theme_weights = np.array(list(vocab.DETRACTOR_THEME_WEIGHTS.values()))
    detractor_theme = rng.choice(len(themes), size=r, p=theme_weights / theme_weights.sum())
    about_incident = affected & (rng.random(r) < 0.85)
    pools: dict[str, tuple[str, ...]] = {
        "late": vocab.LATE_DELIVERY_COMMENTS,
        "late_passive": vocab.LATE_DELIVERY_PASSIVE_COMMENTS,
        "passive": vocab.PASSIVE_COMMENTS,
        "promoter": vocab.PROMOTER_COMMENTS,
        **vocab.DETRACTOR_COMMENTS,
    }
    names = list(pools)
    # Outside the incident, detractors who complain about delivery use the late comments too.
    theme_pool = np.array([names.index("late" if t == "delivery" else t) for t in themes])
    pool = np.where(
        bucket == 0,
        np.where(about_incident, names.index("late"), theme_pool[detractor_theme]),
        np.where(
            bucket == 1,
            np.where(about_incident, names.index("late_passive"), names.index("passive")),
            names.index("promoter"),
        ),
    )
    sizes = np.array([len(p) for p in pools.values()])
    phrase = np.floor(rng.random(r) * sizes[pool]).astype(np.int64)
    suffix_pick = rng.random(r)
    out: list[str | None] = []
    for i in range(r):
        if not has_comment[i]:
            out.append(None)
            continue
        text = pools[names[pool[i]]][phrase[i]]
        suffixes = (
            vocab.DETRACTOR_SUFFIXES
            if bucket[i] == 0
            else vocab.PROMOTER_SUFFIXES
            if bucket[i] == 2
            else ("",)
        )
        suffix = suffixes[int(suffix_pick[i] * len(suffixes))]
        out.append(f"{text} {suffix}" if suffix else text)
    return out
