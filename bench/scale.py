"""Scale company: a seeded, vectorised generator of a big company in canonical form.

    .venv/bin/python bench/scale.py                       # 1M customers, 10M orders, 2M surveys
    .venv/bin/python bench/scale.py --customers 100000 --orders 1000000 --surveys 200000
    .venv/bin/python bench/scale.py --out /tmp/wh --force # build elsewhere, rebuilding

Writes customers, orders, surveys and tickets, with the exact column names and types of
`analytics.contract.DATASETS`, straight into a warehouse (one `Warehouse.commit` per dataset,
no CSV ingest), by default under `bench/out/kpis_<customers>_<seed>/` (gitignored). A marker
file, written last, records the parameters; a folder whose marker matches is reused as it is,
anything else is rebuilt from scratch. The same parameters always give the same data.

Orders, surveys and tickets of more than `CHUNK_ROWS` rows are made and committed a chunk at
a time (the first replacing the table, the rest appended), so memory follows the chunk, not
the dataset: 100M orders and 10M customers build in a few GB (bench/SCALE_100M.md).

Shape of the company (dates 2023-01-01..2025-12-31): EMEA/Americas/APAC customers in 14
countries (`analytics.sample.vocabulary`), three plans, six acquisition channels (some convert
far less); 40 % signed up in the five years before the window, sign-ups grow within it.
Purchase rates are Gamma(0.6) across buyers, so a few customers buy a lot; monthly seasonality
peaks in November-December; six product categories have their own price levels; orders are
~5 % returned, ~2 % cancelled, ~0.5 % without a status (counted as completed). Surveys are
mostly sent after a purchase, some anonymous; tickets follow orders, the latest still open.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analytics.contract import DATASETS
from analytics.sample.arrays import nullable_int, sample_days, time_of_day
from analytics.sample.profiles import ACQUISITION, MONTH_SEASONALITY
from analytics.sample.vocabulary import (
    CATEGORIES,
    COUNTRIES,
    DETRACTOR_COMMENTS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    LATE_DELIVERY_COMMENTS,
    PASSIVE_COMMENTS,
    PLANS,
    PRIORITIES,
    PRODUCTS,
    PROMOTER_COMMENTS,
    REGIONS,
    SALES_CHANNEL_WEIGHTS,
    SALES_CHANNELS,
    SURVEY_TOUCHPOINTS,
    TICKET_CATEGORIES,
    TICKET_CATEGORY_WEIGHTS,
    TICKET_CHANNEL_WEIGHTS,
    TICKET_CHANNELS,
)
from analytics.warehouse import Warehouse

OUT = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parents[1]


def compile_sources() -> None:
    """Write the project's bytecode, as `make run` does before it serves: the starts measured
    then read it, as a user's do. (This machine sets PYTHONDONTWRITEBYTECODE, under which
    every start would compile every module of the project again.)"""
    sources = [str(ROOT / "analytics"), str(ROOT / "dashboard")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *sources], check=True)


GENERATOR_VERSION = 2  # bump when the generated data changes: cached warehouses are rebuilt
MARKER = "_scale_complete.json"
BUILDING = "_scale_building.json"  # written first: the folder is ours to replace
START = date(2023, 1, 1)
END = date(2025, 12, 31)
DAYS = (END - START).days + 1
_EPOCH_OFFSET = (START - date(1970, 1, 1)).days

PLAN_WEIGHTS = (0.62, 0.28, 0.10)
PLAN_RATE = (1.0, 1.3, 1.8)  # purchase rate multiplier per plan
EXISTING_SHARE = 0.4  # customers who signed up before the window, up to EXISTING_YEARS earlier
EXISTING_YEARS = 5
RATE_SHAPE = 0.6  # Gamma shape of purchase rates across buyers: small = heavily skewed
# Price level of each category in CATEGORIES order (Apparel, Footwear, Home, Electronics, ...).
CATEGORY_PRICE = (1.0, 1.4, 0.9, 2.5, 0.5, 1.6)
CATEGORY_WEIGHTS = (0.26, 0.14, 0.20, 0.14, 0.16, 0.10)
ORDER_STATUS = ("completed", "returned", "cancelled", None)
ORDER_STATUS_WEIGHTS = (0.925, 0.05, 0.02, 0.005)
DISCOUNTED_SHARE = 0.22
SURVEY_CHANNELS = ("Email", "Web", "App", "SMS")
SURVEY_CHANNEL_WEIGHTS = (0.55, 0.25, 0.15, 0.05)
SURVEY_KINDS = (0.70, 0.25, 0.05)  # after a purchase, about the relationship, anonymous
SCORE_PRESENT = {"nps": 0.85, "csat": 0.55, "ces": 0.30}
COMMENT_SHARE = 0.2
TICKET_AFTER_ORDER = 0.8  # the rest are raised at a random time after sign-up
# Rows of orders, surveys and tickets drawn and committed at a time. Two of the warehouse's
# 5M-row files: a chunk's files are full, so the appends give the compaction nothing to merge.
# A dataset within one chunk is drawn exactly as before chunking existed (the companies cached
# under bench/out stay valid); bigger ones draw their per-row columns chunk by chunk.
CHUNK_ROWS = 10_000_000


@dataclass(frozen=True)
class ScaleSpec:
    """How big the company is and its seed; the same spec always gives the same data."""

    customers: int = 1_000_000
    orders: int = 10_000_000
    surveys: int = 2_000_000
    tickets: int = 500_000
    seed: int = 1
    events: int = 0  # touchpoint events (the journeys benchmark's); none by default

    @property
    def folder_name(self) -> str:
        if self.events:
            return f"journeys_{self.customers}_{self.events}_{self.seed}"
        return f"kpis_{self.customers}_{self.seed}"


def scale_company(spec: ScaleSpec, *, chunk_rows: int = CHUNK_ROWS) -> dict[str, pl.DataFrame]:
    """All four datasets as canonical frames (fine for small specs; big ones use `generate`)."""
    parts: dict[str, list[pl.DataFrame]] = {}
    for name, frame in generate(spec, chunk_rows=chunk_rows):
        parts.setdefault(name, []).append(frame)
    return {name: pl.concat(frames) for name, frames in parts.items()}


def generate(
    spec: ScaleSpec, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Yield (dataset, canonical frame) in load order, one at a time to bound memory; orders,
    surveys, tickets and events of more than `chunk_rows` rows come as several frames, in row
    order.

    Each dataset draws from its own child of `default_rng(seed)`: the customers do not depend
    on the other sizes, and each later dataset only through the rows it refers to. Only each
    order's customer and day (6 bytes an order) are kept for the later datasets.
    """
    if min(spec.customers, spec.orders, spec.surveys, spec.tickets) < 1:
        raise ValueError(f"Every size of the scale company must be >= 1. Got {spec} instead.")
    if chunk_rows < 1:
        raise ValueError(f"The 'chunk_rows' parameter must be >= 1. Got {chunk_rows} instead.")
    rng_customers, rng_orders, rng_surveys, rng_tickets, rng_events = np.random.default_rng(
        spec.seed
    ).spawn(5)
    season = _season()
    customers, people = _customers(rng_customers, spec.customers, season)
    yield "customers", customers
    del customers  # not kept while the orders are drawn
    order_customer, order_day = _order_days(rng_orders, spec.orders, people, season, chunk_rows)
    yield from _orders(rng_orders, people, order_customer, order_day, chunk_rows)
    yield from _surveys(rng_surveys, spec.surveys, people, order_customer, order_day, chunk_rows)
    yield from _tickets(rng_tickets, spec.tickets, people, order_customer, order_day, chunk_rows)
    if spec.events:
        yield from _events(rng_events, spec.events, people, order_customer, order_day, chunk_rows)


def build_warehouse(root: Path, spec: ScaleSpec, *, force: bool = False) -> dict[str, object]:
    """Build the scale company into the warehouse at `root`, or reuse a complete one.

    Returns the marker's content: the spec, row counts, and the seconds each dataset took
    (generation and commit), plus `reused` telling whether the folder was reused. A folder
    that is neither empty nor a scale warehouse (complete or not) is never replaced.
    """
    root = Path(root)
    marker = root / MARKER
    if not force and marker.exists():
        built = json.loads(marker.read_text(encoding="utf-8"))
        if built.get("spec") == asdict(spec) and built.get("version") == GENERATOR_VERSION:
            return built | {"reused": True}
    ours = marker.exists() or (root / BUILDING).exists()
    if root.exists() and any(root.iterdir()) and not ours:
        raise ValueError(f"{root} is not empty and holds no scale warehouse: not replacing it.")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / BUILDING).write_text(json.dumps({"spec": asdict(spec)}), encoding="utf-8")
    warehouse = Warehouse(root)
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    commits: dict[str, int] = {}
    started = time.perf_counter()
    tick = started
    for name, frame in generate(spec, chunk_rows=CHUNK_ROWS):
        warehouse.commit(
            name,
            frame,
            mode="append" if name in rows else "replace",  # a dataset's later chunks append
            metadata={
                "source_file": "bench/scale.py",
                "rows_read": frame.height,
                "rows_loaded": frame.height,
                "rows_rejected": 0,
                "mapping": "canonical",
                "user": "bench",
                "note": f"scale company, seed {spec.seed}",
            },
        )
        rows[name] = rows.get(name, 0) + frame.height
        commits[name] = commits.get(name, 0) + 1
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - tick
        del frame  # free it before the next chunk is generated
        tick = time.perf_counter()
    built = {
        "spec": asdict(spec),
        "version": GENERATOR_VERSION,
        "rows": rows,
        "commits": commits,
        "seconds": {name: round(s, 2) for name, s in seconds.items()},
        "total_seconds": round(time.perf_counter() - started, 2),
    }
    marker.write_text(json.dumps(built, indent=2), encoding="utf-8")
    (root / BUILDING).unlink()
    return built | {"reused": False}


# ----- customers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _People:
    """What the later datasets need of the customers (not their frame, 10M rows of text)."""

    ids: pl.Series
    active_from: np.ndarray  # day index from START of sign-up, 0 for earlier sign-ups
    weight: np.ndarray  # probability of placing any one order
    mood: np.ndarray  # satisfaction latent, standard normal


def _customers(
    rng: np.random.Generator, n: int, season: np.ndarray
) -> tuple[pl.DataFrame, _People]:
    country = rng.choice(len(COUNTRIES), n, p=_norm([c.weight for c in COUNTRIES]))
    region_of_country = np.array([REGIONS.index(c.region) for c in COUNTRIES])
    region = region_of_country[country]
    city = _pick_within(rng, [c.cities for c in COUNTRIES], country)
    first = _pick_within(rng, [FIRST_NAMES[r] for r in REGIONS], region)
    last = _pick_within(rng, [LAST_NAMES[r] for r in REGIONS], region)
    growth = np.linspace(1.0, 2.0, DAYS)
    signup_day = sample_days(
        rng, season * growth, np.zeros(n, np.int64), np.full(n, DAYS - 1, np.int64)
    )
    existing = rng.random(n) < EXISTING_SHARE
    signup_day[existing] = -rng.integers(1, EXISTING_YEARS * 365 + 1, int(existing.sum()))
    active_from = np.maximum(signup_day, 0)
    plan = rng.choice(len(PLANS), n, p=_norm(PLAN_WEIGHTS))
    channel = rng.choice(len(ACQUISITION), n, p=_norm([a.share for a in ACQUISITION]))
    conversion = np.array([a.conversion for a in ACQUISITION])[channel]
    buys = rng.random(n) < conversion
    rate = rng.gamma(RATE_SHAPE, 1.0, n) * np.asarray(PLAN_RATE)[plan] * buys
    weight = rate * (DAYS - active_from)
    birth_year = np.clip(np.round(rng.normal(1982, 13, n)), 1935, 2007)
    birth_year[rng.random(n) < 0.08] = np.nan
    gender = rng.choice(4, n, p=(0.49, 0.46, 0.02, 0.03))
    number = rng.integers(100_000_000, 1_000_000_000, n)
    domain = rng.choice(len(EMAIL_DOMAINS), n)

    ids = _ids("C", n)
    first_names = _lookup(_flat([FIRST_NAMES[r] for r in REGIONS]), first)
    last_names = _lookup(_flat([LAST_NAMES[r] for r in REGIONS]), last)
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "signup_date": _dates(signup_day),
            "first": first_names,
            "last": last_names,
            "serial": ids.str.slice(1),
            "domain": _lookup(EMAIL_DOMAINS, domain),
            "code": _lookup([c.calling_code for c in COUNTRIES], country),
            "number": number,
            "country": _lookup([c.name for c in COUNTRIES], country),
            "region": _lookup(REGIONS, region),
            "city": _lookup(_flat([c.cities for c in COUNTRIES]), city),
            "plan": _lookup(PLANS, plan),
            "acquisition_channel": _lookup([a.name for a in ACQUISITION], channel),
            "birth_year": nullable_int(birth_year),
            "gender": _lookup(("Female", "Male", "Non-binary", None), gender),
        }
    ).with_columns(
        name=pl.concat_str("first", pl.lit(" "), "last"),
        email=pl.concat_str(
            pl.concat_str("first", pl.lit("."), "last")
            .str.to_lowercase()
            .str.replace_all(r"[^\p{L}\p{N}.]", ""),
            "serial",
            pl.lit("@"),
            "domain",
        ),
        phone=pl.concat_str(pl.lit("+"), "code", pl.lit(" "), pl.col("number").cast(pl.String)),
    )
    mood = rng.normal(0.0, 1.0, n).astype(np.float32)
    return _canonical("customers", frame), _People(ids, active_from, weight, mood)


# ----- orders ---------------------------------------------------------------------------------


def _order_days(
    rng: np.random.Generator, n: int, people: _People, season: np.ndarray, chunk_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each order's customer (int32) and day (int16), in the order the shop numbers them."""
    if people.weight.sum() == 0:  # a tiny company where nobody buys: let everyone buy alike
        p = _norm(DAYS - people.active_from)
    else:
        p = people.weight / people.weight.sum()
    # Orders per customer, then each order's day; customers come out ascending, so a stable
    # sort by day numbers orders by (day, customer), as a shop numbers them. The days are
    # drawn a chunk at a time (the same draws as at once: `sample_days` takes one uniform a
    # row), as their int64 temporaries would take 8 bytes an order each.
    customer = np.repeat(np.arange(p.size, dtype=np.int32), rng.multinomial(n, p))
    day = np.empty(n, np.int16)
    for rows in _chunks(n, chunk_rows):
        lo = people.active_from[customer[rows]]
        day[rows] = sample_days(rng, season, lo, np.full(lo.size, DAYS - 1, np.int64))
    order = np.argsort(day, kind="stable")
    return customer[order], day[order]


def _orders(
    rng: np.random.Generator,
    people: _People,
    order_customer: np.ndarray,
    order_day: np.ndarray,
    chunk_rows: int,
) -> Iterator[tuple[str, pl.DataFrame]]:
    spend = rng.gamma(4.0, 60.0 / 4.0, people.weight.size)  # each customer's own level
    for rows in _chunks(order_customer.size, chunk_rows):
        # Built inside the yield: no name here holds a chunk while the next one is drawn.
        yield "orders", _order_rows(rng, people, spend, order_customer, order_day, rows)


def _order_rows(
    rng: np.random.Generator,
    people: _People,
    spend: np.ndarray,
    order_customer: np.ndarray,
    order_day: np.ndarray,
    rows: slice,
) -> pl.DataFrame:
    customer, day = order_customer[rows], order_day[rows]
    n = customer.size
    category = rng.choice(len(CATEGORIES), n, p=_norm(CATEGORY_WEIGHTS))
    mean = spend[customer] * np.asarray(CATEGORY_PRICE)[category]
    amount = np.round(np.maximum(rng.gamma(6.0, mean / 6.0), 1.0), 2)
    product = _pick_within(rng, [PRODUCTS[c] for c in CATEGORIES], category)
    discounted = rng.random(n) < DISCOUNTED_SHARE
    discount = np.where(discounted, np.round(amount * rng.uniform(0.05, 0.3, n), 2), 0.0)
    frame = pl.DataFrame(
        {
            "order_id": _ids("O", order_customer.size, rows),
            "customer_id": people.ids.gather(customer),
            "order_date": _dates(day),
            "amount": amount,
            "quantity": np.minimum(rng.geometric(0.6, n), 10),
            "product": _lookup(_flat([PRODUCTS[c] for c in CATEGORIES]), product),
            "product_category": _lookup(CATEGORIES, category),
            "channel": _lookup(SALES_CHANNELS, rng.choice(3, n, p=_norm(SALES_CHANNEL_WEIGHTS))),
            "status": _lookup(ORDER_STATUS, rng.choice(4, n, p=_norm(ORDER_STATUS_WEIGHTS))),
            "discount": discount,
        }
    )
    return _canonical("orders", frame)


# ----- surveys --------------------------------------------------------------------------------


def _surveys(
    rng: np.random.Generator,
    n: int,
    people: _People,
    order_customer: np.ndarray,
    order_day: np.ndarray,
    chunk_rows: int,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Who answered when (every row, sorted by time), then the answers a chunk at a time."""
    kind = rng.choice(3, n, p=_norm(SURVEY_KINDS))
    anchor = rng.integers(0, order_customer.size, n)
    anyone = rng.integers(0, people.ids.len(), n)
    customer = np.where(kind == 0, order_customer[anchor], anyone)
    after_order = order_day[anchor] + np.floor(rng.exponential(3.0, n))
    any_time = people.active_from[anyone] + rng.random(n) * (DAYS - people.active_from[anyone])
    day = np.where(kind == 0, after_order, np.where(kind == 1, any_time, rng.random(n) * DAYS))
    day = np.minimum(np.floor(day), DAYS - 1) + time_of_day(rng, n)
    order = np.argsort(day, kind="stable")
    kind, customer, day = kind[order], customer[order], day[order]
    del anchor, anyone, after_order, any_time, order
    for rows in _chunks(n, chunk_rows):
        yield "surveys", _survey_rows(rng, people, kind, customer, day, rows)


def _survey_rows(
    rng: np.random.Generator,
    people: _People,
    all_kinds: np.ndarray,
    all_customers: np.ndarray,
    all_days: np.ndarray,
    rows: slice,
) -> pl.DataFrame:
    kind, customer, day = all_kinds[rows], all_customers[rows], all_days[rows]
    n = kind.size
    latent = 0.7 * people.mood[customer] + 0.7 * rng.normal(0.0, 1.0, n)
    latent[kind == 2] = rng.normal(0.0, 1.0, int((kind == 2).sum()))
    present = {k: rng.random(n) < share for k, share in SCORE_PRESENT.items()}
    present["nps"] |= ~(present["csat"] | present["ces"])
    nps = np.clip(np.round(8.2 + 2.0 * latent), 0, 10)
    csat = np.clip(np.round(3.9 + 0.9 * latent), 1, 5)
    ces = np.clip(np.round(3.0 - 1.1 * latent), 1, 7)

    band = np.where(nps >= 9, 0, np.where(nps >= 7, 1, 2))
    pools = [
        PROMOTER_COMMENTS,
        PASSIVE_COMMENTS,
        LATE_DELIVERY_COMMENTS + _flat(list(DETRACTOR_COMMENTS.values())),
    ]
    comment = _pick_within(rng, pools, band)
    comment[rng.random(n) >= COMMENT_SHARE] = -1
    frame = pl.DataFrame(
        {
            "response_id": _ids("R", all_kinds.size, rows),
            "customer_id": people.ids.gather(customer).set(pl.Series(kind == 2), None),
            "responded_at": _datetimes(day),
            "nps": nullable_int(np.where(present["nps"], nps, np.nan)),
            "csat": nullable_int(np.where(present["csat"], csat, np.nan)),
            "ces": nullable_int(np.where(present["ces"], ces, np.nan)),
            "comment": _lookup(_flat(pools), comment),
            "touchpoint": _lookup(
                SURVEY_TOUCHPOINTS, np.where(kind == 0, 0, rng.integers(1, 4, n))
            ),
            "channel": _lookup(SURVEY_CHANNELS, rng.choice(4, n, p=_norm(SURVEY_CHANNEL_WEIGHTS))),
        }
    )
    return _canonical("surveys", frame)


# ----- tickets --------------------------------------------------------------------------------


def _tickets(
    rng: np.random.Generator,
    n: int,
    people: _People,
    order_customer: np.ndarray,
    order_day: np.ndarray,
    chunk_rows: int,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Who raised a ticket when (every row, sorted by time), then the rest a chunk at a time."""
    after_order = rng.random(n) < TICKET_AFTER_ORDER
    anchor = rng.integers(0, order_customer.size, n)
    anyone = rng.integers(0, people.ids.len(), n)
    customer = np.where(after_order, order_customer[anchor], anyone)
    day = np.where(
        after_order,
        order_day[anchor] + rng.exponential(5.0, n),
        people.active_from[anyone] + rng.random(n) * (DAYS - people.active_from[anyone]),
    )
    opened = np.minimum(np.floor(day), DAYS - 1) + time_of_day(rng, n)
    order = np.argsort(opened, kind="stable")
    customer, opened = customer[order], opened[order]
    del after_order, anchor, anyone, day, order
    for rows in _chunks(n, chunk_rows):
        yield "tickets", _ticket_rows(rng, people, customer, opened, rows)


def _ticket_rows(
    rng: np.random.Generator,
    people: _People,
    all_customers: np.ndarray,
    all_opened: np.ndarray,
    rows: slice,
) -> pl.DataFrame:
    customer, opened = all_customers[rows], all_opened[rows]
    n = customer.size
    first_response = opened + rng.exponential(0.25, n)
    first_response[rng.random(n) < 0.03] = np.nan
    resolved = np.maximum(opened, np.nan_to_num(first_response)) + rng.exponential(1.5, n)
    resolved[(resolved >= DAYS) | (rng.random(n) < 0.04)] = np.nan  # still open at the end
    first_response[first_response >= DAYS] = np.nan
    is_open = np.isnan(resolved)
    status = np.where(is_open, rng.integers(0, 2, n), rng.integers(2, 4, n))
    latent = 0.7 * people.mood[customer] + 0.7 * rng.normal(0.0, 1.0, n)
    csat = np.clip(np.round(3.6 + 1.1 * latent), 1, 5)
    csat[is_open | (rng.random(n) >= 0.35)] = np.nan
    frame = pl.DataFrame(
        {
            "ticket_id": _ids("T", all_customers.size, rows),
            "customer_id": people.ids.gather(customer),
            "opened_at": _datetimes(opened),
            "first_response_at": _datetimes(first_response),
            "resolved_at": _datetimes(resolved),
            "channel": _lookup(TICKET_CHANNELS, rng.choice(4, n, p=_norm(TICKET_CHANNEL_WEIGHTS))),
            "category": _lookup(
                TICKET_CATEGORIES, rng.choice(5, n, p=_norm(TICKET_CATEGORY_WEIGHTS))
            ),
            "priority": _lookup(PRIORITIES, rng.choice(4, n, p=(0.30, 0.50, 0.15, 0.05))),
            "status": _lookup(("Open", "Pending", "Solved", "Closed"), status),
            "csat": nullable_int(csat),
        }
    )
    return _canonical("tickets", frame)


# ----- events ---------------------------------------------------------------------------------

AWARENESS_TOUCHPOINTS = ("Social ad", "Search ad", "Search result", "Newsletter")
CONSIDERATION_TOUCHPOINTS = ("Product page", "Reviews page", "Size guide", "Add to cart")
BROWSING = (  # the rest of the events: browsing and service around the customer's orders
    ("Product page", "consideration"),
    ("Reviews page", "consideration"),
    ("Add to cart", "consideration"),
    ("Order tracking", "service"),
    ("Support contact", "service"),
    ("Product review", "loyalty"),
    ("Loyalty signup", "loyalty"),
    ("Homepage visit", "awareness"),
)


def _events(
    rng: np.random.Generator,
    n: int,
    people: _People,
    order_customer: np.ndarray,
    order_day: np.ndarray,
    chunk_rows: int,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """`n` touchpoint events: every customer's awareness touch up to 30 days before they
    start and a consideration touch after it, a checkout per order, a welcome email after a
    buyer's first order, and browsing and service events at random days after the start for
    the rest (dropped first when `n` is smaller than the fixed ones). Every event is drawn
    first (as numbers); then `chunk_rows` at a time, in time order, are made frames: the
    same events at any chunk size."""
    c = people.ids.len()
    start = people.active_from.astype(np.float64)
    aware = np.maximum(start - rng.random(c) * 30.0, 0.0)
    first = np.unique(order_customer, return_index=True)[1]  # orders come sorted by day
    fixed = [
        (np.arange(c), aware, rng.integers(0, 4, c), 0),
        (np.arange(c), aware + rng.random(c) * 10.0, rng.integers(0, 4, c), 1),
        (order_customer, order_day + time_of_day(rng, order_day.size), None, 2),
        (order_customer[first], order_day[first] + 1.0 + rng.random(first.size), None, 3),
    ]
    customers, days, names = [], [], []
    touchpoints = (
        *AWARENESS_TOUCHPOINTS, *CONSIDERATION_TOUCHPOINTS, "Checkout", "Welcome email",
        *(t for t, _ in BROWSING),
    )  # fmt: skip
    stage_of = (
        *["awareness"] * 4, *["consideration"] * 4, "purchase", "onboarding",
        *(stage for _, stage in BROWSING),
    )  # fmt: skip
    for who, when, pick, kind in fixed:
        if kind == 0:
            name = pick
        elif kind == 1:
            name = 4 + pick
        else:
            name = np.full(who.size, 6 + kind)  # Checkout (8), Welcome email (9)
        customers.append(who)
        days.append(when)
        names.append(name)
    have = sum(part.size for part in customers)
    rest = max(n - have, 0)
    who = rng.integers(0, c, rest)
    customers.append(who)
    days.append(start[who] + rng.random(rest) * (DAYS - start[who]))
    names.append(10 + rng.integers(0, len(BROWSING), rest))
    # Narrow types once drawn (the same values): 200M events hold 13 bytes each here.
    customer = np.concatenate(customers).astype(np.int32)
    del customers
    day = np.minimum(np.concatenate(days), DAYS - 1e-6)
    del days
    name = np.concatenate(names).astype(np.int8)
    del names
    if customer.size > n:  # fewer events than the fixed ones: keep a random n
        keep = np.sort(rng.choice(customer.size, n, replace=False))
        customer, day, name = customer[keep], day[keep], name[keep]
    order = np.argsort(day, kind="stable")
    customer, day, name = customer[order], day[order], name[order]
    del order
    channel = rng.integers(0, 2, customer.size).astype(np.int8)
    for rows in _chunks(customer.size, chunk_rows):  # the text columns a chunk at a time
        frame = pl.DataFrame(
            {
                "customer_id": people.ids.gather(customer[rows]),
                "occurred_at": _datetimes(day[rows]),
                "touchpoint": _lookup(touchpoints, name[rows]),
                "stage": _lookup(stage_of, name[rows]),
                "channel": _lookup(("Web", "App"), channel[rows]),
                "event_id": _ids("E", customer.size, rows),
            }
        )
        yield "events", _canonical("events", frame)


# ----- helpers --------------------------------------------------------------------------------


def _season() -> np.ndarray:
    first = np.datetime64(START, "D")
    months = np.arange(first, first + DAYS).astype("datetime64[M]").astype(np.int64) % 12
    return np.asarray(MONTH_SEASONALITY)[months] / np.mean(MONTH_SEASONALITY)


def _norm(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(weights, dtype=np.float64)
    return array / array.sum()


def _flat(groups: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return tuple(item for group in groups for item in group)


def _pick_within(
    rng: np.random.Generator, groups: Sequence[Sequence[str]], group: np.ndarray
) -> np.ndarray:
    """Index into `_flat(groups)` of a uniform pick from each row's own group."""
    sizes = np.array([len(g) for g in groups])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return offsets[group] + np.floor(rng.random(group.size) * sizes[group]).astype(np.int64)


def _lookup(values: Sequence[str | None], index: np.ndarray) -> pl.Series:
    """`values[index]` as a string series; a negative index gives null."""
    vocab = pl.Series([*values, None], dtype=pl.String)
    return vocab.gather(np.where(index < 0, len(values), index))


def _chunks(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most `size` rows covering `n` rows."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _ids(prefix: str, total: int, rows: slice | None = None) -> pl.Series:
    """Ids `prefix` 1..`total`, zero-padded to one width (only those of `rows`, when given)."""
    start, stop = (0, total) if rows is None else (rows.start, rows.stop)
    digits = (
        pl.int_range(start + 1, stop + 1, eager=True).cast(pl.String).str.zfill(len(str(total)))
    )
    return (prefix + digits).rename("")


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(_EPOCH_OFFSET + days.astype(np.int32)).cast(pl.Date)


def _datetimes(days: np.ndarray) -> pl.Series:
    """Datetimes to the second from fractional day indexes; NaN becomes null."""
    missing = np.isnan(days)
    seconds = _EPOCH_OFFSET * 86_400 + np.floor(np.where(missing, 0.0, days) * 86_400)
    series = pl.Series(seconds.astype(np.int64) * 1_000_000).cast(pl.Datetime("us"))
    return series.set(pl.Series(missing), None) if missing.any() else series


def _canonical(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns, in its order, with its types; optional columns the generator
    does not make (a ticket's text) empty."""
    return frame.select(
        pl.col(c.name).cast(c.dtype, strict=True)
        if c.name in frame.columns or c.required
        else pl.lit(None, dtype=c.dtype).alias(c.name)
        for c in DATASETS[name].columns
    )


SIZES = ("customers", "orders", "surveys", "tickets", "seed", "events")


def size_args(parser: argparse.ArgumentParser, defaults: ScaleSpec, *, events: bool) -> None:
    """The scale company's size options (--customers ... --seed, and --events for the
    benchmarks that follow journeys), defaulting to `defaults`."""
    for name in SIZES:
        if name != "events" or events:
            parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))


def build_derived(root: Path) -> dict[str, object]:
    """Every derived table of the warehouse at `root` (`analytics.derived.refresh`, what a
    load builds), those missing only: seconds in all and per part built."""
    from analytics import derived
    from analytics.warehouse import Warehouse

    warehouse = Warehouse(root)
    started = time.perf_counter()
    parts = derived.refresh(warehouse)
    seconds = time.perf_counter() - started
    assert not derived.pending(warehouse), "a derived table is still missing after refresh"
    return {"seconds": seconds, "parts": {k: round(v, 2) for k, v in parts.items()}}


def spec_args(spec: ScaleSpec) -> list[str]:
    """The size options that ask for `spec` (a worker process's command line)."""
    return [f"--{k}={v}" for k, v in asdict(spec).items()]


def worker_reply(command: list[str], what: str) -> dict[str, Any]:
    """Run a benchmark's worker process; the JSON object on its last line of output."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"The {what} failed ({done.returncode}).")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def spec_from(args: argparse.Namespace) -> ScaleSpec:
    """The company the size options ask for."""
    return ScaleSpec(**{name: getattr(args, name) for name in SIZES if hasattr(args, name)})


def main() -> None:
    defaults = ScaleSpec()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size_args(parser, defaults, events=True)
    parser.add_argument("--out", type=Path, help="warehouse folder (default bench/out/kpis_...)")
    parser.add_argument("--force", action="store_true", help="rebuild even when complete")
    args = parser.parse_args()
    spec = spec_from(args)
    root = args.out or OUT / spec.folder_name
    built = build_warehouse(root, spec, force=args.force)
    state = "reused" if built["reused"] else f"built in {built['total_seconds']} s"
    print(f"{root}: {state}")
    print(json.dumps({k: built[k] for k in ("rows", "seconds")}, indent=2))


if __name__ == "__main__":
    main()
