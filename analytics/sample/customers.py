"""Contacts of the sample company: planted group, acquisition, sign-up, and the CRM frame."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.sample import vocabulary as vocab
from analytics.sample.arrays import FloatArray, IntArray, choose_rows, nullable_int, sample_days
from analytics.sample.profiles import (
    ACQUISITION,
    GROUPS,
    LAPSED_CHURN_AGE_DAYS,
    LAPSED_MIN_ACTIVE_DAYS,
    PROSPECT,
    PROSPECT_PLAN_WEIGHTS,
    SIGNUP_GROWTH,
    group_index,
)
from analytics.sample.timeline import Timeline, dates


@dataclass(frozen=True)
class Contacts:
    channel: IntArray
    group: IntArray  # index into GROUPS, -1 for prospects
    signup: IntArray  # day index
    stop: FloatArray  # day the buyer stops buying (the window end when no forced churn)


def customer_ids(n: int) -> list[str]:
    width = max(5, len(str(n)))
    return [f"C{i:0{width}d}" for i in range(1, n + 1)]


def draw_contacts(rng: np.random.Generator, n: int, timeline: Timeline) -> Contacts:
    shares = np.array([a.share for a in ACQUISITION])
    conversion = np.array([a.conversion for a in ACQUISITION])
    channel = rng.choice(len(ACQUISITION), size=n, p=shares / shares.sum())
    converted = rng.random(n) < conversion[channel]
    group_shares = np.array([g.share for g in GROUPS])
    group = rng.choice(len(GROUPS), size=n, p=group_shares / group_shares.sum())
    group = np.where(converted, group, -1)

    last = timeline.days - 1
    min_age = np.array([g.min_age_days for g in GROUPS] + [0])[group]
    max_age = np.array([g.max_age_days or last for g in GROUPS] + [last])[group]
    lo = np.clip(last - max_age, 0, last)
    hi = np.clip(last - min_age, lo, last)
    growth = 1.0 + SIGNUP_GROWTH * np.arange(timeline.days) / timeline.days
    signup = sample_days(rng, growth * timeline.season, lo, hi)

    stop = np.full(n, float(timeline.days))
    lapsed = group == group_index("lapsed")
    age = last - signup[lapsed]
    latest = np.minimum(LAPSED_CHURN_AGE_DAYS[1], age - LAPSED_MIN_ACTIVE_DAYS)
    churn_age = rng.uniform(LAPSED_CHURN_AGE_DAYS[0], latest)
    stop[lapsed] = last - churn_age

    # CRM ids grow with creation date.
    order = np.argsort(signup, kind="stable")
    return Contacts(channel[order], group[order], signup[order], stop[order])


def groups_frame(contacts: Contacts, ids: list[str]) -> pl.DataFrame:
    names = np.array([g.name for g in GROUPS] + [PROSPECT])
    channels = np.array([a.name for a in ACQUISITION])
    return pl.DataFrame(
        {
            "customer_id": ids,
            "group": names[contacts.group].tolist(),
            "acquisition_channel": channels[contacts.channel].tolist(),
        }
    )


def _ascii(text: str) -> str:
    """E-mail-safe form of a name: "Inès de Vries" -> "inesdevries"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", "")


def customers_frame(
    rng: np.random.Generator, contacts: Contacts, ids: list[str], timeline: Timeline
) -> pl.DataFrame:
    n = len(ids)
    weights = np.array([c.weight for c in vocab.COUNTRIES])
    country = rng.choice(len(vocab.COUNTRIES), size=n, p=weights / weights.sum())
    city_pick = rng.random(n)
    first_pick = rng.random(n)
    last_pick = rng.random(n)
    cities, regions, firsts, lasts, emails, codes = [], [], [], [], [], []
    domain = rng.integers(0, len(vocab.EMAIL_DOMAINS), n)
    taken: dict[str, int] = {}  # e-mail addresses are unique: maria.garcia, maria.garcia2, ...
    for i in range(n):
        c = vocab.COUNTRIES[country[i]]
        first_names = vocab.FIRST_NAMES[c.region]
        last_names = vocab.LAST_NAMES[c.region]
        first = first_names[int(first_pick[i] * len(first_names))]
        last = last_names[int(last_pick[i] * len(last_names))]
        local = f"{_ascii(first)}.{_ascii(last)}"
        taken[local] = taken.get(local, 0) + 1
        suffix = str(taken[local]) if taken[local] > 1 else ""
        cities.append(c.cities[int(city_pick[i] * len(c.cities))])
        regions.append(c.region)
        firsts.append(first)
        lasts.append(last)
        emails.append(f"{local}{suffix}@{vocab.EMAIL_DOMAINS[domain[i]]}")
        codes.append(c.calling_code)

    has_phone = rng.random(n) < 0.8
    area = rng.integers(200, 1000, n)
    line = rng.integers(1_000_000, 10_000_000, n)
    phones = [f"+{codes[i]} {area[i]} {line[i]}" if has_phone[i] else None for i in range(n)]

    plan_weights = np.array([g.plan_weights for g in GROUPS] + [PROSPECT_PLAN_WEIGHTS])
    plan = choose_rows(rng, plan_weights[contacts.group])
    gender = rng.choice(len(vocab.GENDERS), size=n, p=np.asarray(vocab.GENDER_WEIGHTS))
    birth = np.clip(np.round(rng.normal(1984, 13, n)), 1940, 2007)
    has_birth = rng.random(n) < 0.88
    channels = np.array([a.name for a in ACQUISITION])
    return pl.DataFrame(
        {
            "customer_id": ids,
            "signup_date": dates(timeline, contacts.signup.astype(np.float64)),
            "name": [f"{f} {la}" for f, la in zip(firsts, lasts, strict=True)],
            "email": emails,
            "phone": pl.Series(phones, dtype=pl.String),
            "country": [vocab.COUNTRIES[i].name for i in country],
            "region": regions,
            "city": cities,
            "plan": np.array(vocab.PLANS)[plan].tolist(),
            "acquisition_channel": channels[contacts.channel].tolist(),
            "birth_year": nullable_int(np.where(has_birth, birth, np.nan)),
            "gender": pl.Series(np.array(vocab.GENDERS)[gender].tolist()).replace("", None),
        }
    )
