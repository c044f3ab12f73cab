"""Behaviour tables of the sample company: groups, acquisition, seasonality, drivers.

Rules are data: the generators read these tables and `data/sample/README.md` documents them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupProfile:
    """A planted behavioural group of buyers (BG/NBD purchase rate and dropout, Gamma spend)."""

    name: str
    share: float  # share of buyers
    orders_per_year: float  # mean purchase rate while active
    rate_shape: float  # gamma shape of the rate across customers (higher = more alike)
    dropout: float  # probability of becoming inactive after each purchase
    mean_spend: float  # mean order value, currency units
    min_age_days: int  # signed up at least this many days before the end date
    max_age_days: int | None  # ... and at most this many (None: any time in the window)
    return_rate: float
    discount_probability: float
    discount_range: tuple[float, float]  # discount as a share of the gross amount
    nps_shift: float  # shift of the satisfaction latent (standard deviations)
    plan_weights: tuple[float, float, float]  # Basic, Plus, Premium
    category_weights: tuple[float, float, float, float, float, float]


GROUPS: tuple[GroupProfile, ...] = (
    GroupProfile(
        "champions", 0.09, 5.0, 8.0, 0.012, 135.0, 240, None, 0.04, 0.15, (0.05, 0.15), 0.3,
        (0.30, 0.40, 0.30), (0.25, 0.15, 0.20, 0.15, 0.15, 0.10),
    ),
    GroupProfile(
        "loyal", 0.20, 2.4, 8.0, 0.025, 70.0, 180, None, 0.05, 0.15, (0.05, 0.15), 0.2,
        (0.50, 0.35, 0.15), (0.28, 0.15, 0.20, 0.12, 0.15, 0.10),
    ),
    GroupProfile(
        "big_spenders", 0.08, 1.2, 8.0, 0.05, 420.0, 180, None, 0.08, 0.10, (0.05, 0.10), 0.1,
        (0.40, 0.30, 0.30), (0.10, 0.05, 0.20, 0.40, 0.00, 0.25),
    ),
    GroupProfile(
        "bargain_hunters", 0.16, 2.8, 8.0, 0.03, 24.0, 120, None, 0.06, 0.80, (0.20, 0.40), -0.1,
        (0.80, 0.17, 0.03), (0.30, 0.10, 0.30, 0.00, 0.30, 0.00),
    ),
    GroupProfile(
        "lapsed", 0.17, 2.4, 8.0, 0.02, 60.0, 440, None, 0.06, 0.15, (0.05, 0.15), -0.3,
        (0.65, 0.28, 0.07), (0.28, 0.15, 0.20, 0.12, 0.15, 0.10),
    ),
    GroupProfile(
        "one_and_done", 0.22, 1.5, 8.0, 0.85, 45.0, 200, None, 0.07, 0.20, (0.10, 0.20), -0.2,
        (0.80, 0.15, 0.05), (0.28, 0.15, 0.20, 0.12, 0.15, 0.10),
    ),
    GroupProfile(
        "new", 0.08, 4.0, 8.0, 0.05, 60.0, 0, 89, 0.05, 0.25, (0.10, 0.20), 0.0,
        (0.70, 0.22, 0.08), (0.28, 0.15, 0.20, 0.12, 0.15, 0.10),
    ),
)  # fmt: skip

PROSPECT = "prospect"  # planted group of contacts who never purchase
PROSPECT_PLAN_WEIGHTS = (0.90, 0.08, 0.02)
LAPSED_CHURN_AGE_DAYS = (240, 720)  # lapsed buyers stop this many days before the end date
LAPSED_MIN_ACTIVE_DAYS = 200  # ... after buying for at least this long
SPEND_SHAPE_ACROSS_CUSTOMERS = 4.0  # Gamma-Gamma q: customer mean spend ~ Gamma(q, mean/q)
SPEND_SHAPE_PER_ORDER = 6.0  # Gamma-Gamma p: order value ~ Gamma(p, customer mean/p)
SIGNUP_GROWTH = 1.0  # sign-up rate at the end of the window is (1 + growth) x the start


@dataclass(frozen=True)
class AcquisitionChannel:
    """How contacts arrive, how many of them ever buy, and the awareness touchpoint they leave."""

    name: str
    share: float
    conversion: float  # share of contacts who ever purchase
    touchpoint: str
    event_channel: str


ACQUISITION: tuple[AcquisitionChannel, ...] = (
    AcquisitionChannel("Organic Search", 0.26, 0.87, "Search result", "Search"),
    AcquisitionChannel("Paid Search", 0.18, 0.84, "Search ad", "Search"),
    AcquisitionChannel("Paid Social", 0.18, 0.38, "Social ad", "Social"),
    AcquisitionChannel("Referral", 0.12, 0.90, "Friend referral", "Referral"),
    AcquisitionChannel("Email", 0.10, 0.86, "Newsletter", "Email"),
    AcquisitionChannel("Direct", 0.16, 0.88, "Homepage visit", "Web"),
)
CONSIDERATION_REACH = 0.93  # share of contacts of every channel with consideration events

# Order (and sign-up) intensity by calendar month, January first; normalised to mean 1.
MONTH_SEASONALITY: tuple[float, ...] = (
    0.85, 0.85, 0.95, 1.0, 1.0, 0.8, 0.75, 0.8, 1.0, 1.05, 1.55, 1.7,
)  # fmt: skip

# Post-purchase rating attributes and their weight in the likelihood-to-recommend latent:
# the planted key drivers (the last one is deliberately no driver at all).
RATING_ATTRIBUTES: dict[str, float] = {
    "Delivery speed rating": 0.80,
    "Product quality rating": 0.55,
    "Value for money rating": 0.35,
    "Website ease rating": 0.0,
}

INCIDENT_LATE_SHARE = 0.40  # share of orders delivered late during the carrier incident
BASELINE_LATE_SHARE = 0.03
LATE_DELIVERY_TICKET_RATE = 0.22  # late orders that raise a "Delivery" ticket
INCIDENT_OTHER_AFFECTED = 0.20  # anonymous website responses hit by the incident


def group_index(name: str) -> int:
    return [g.name for g in GROUPS].index(name)
