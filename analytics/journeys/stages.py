"""Journey stages: their order, which stage each touchpoint belongs to, and how orders,
survey responses and tickets join the events as touchpoints of their own.

`JourneySettings` holds the rules as data. The defaults follow the common customer-journey
stages; an export's own `stage` column wins where it names one of the stages, and the
touchpoint map (names compared case-insensitively) fills the rest. Touchpoints that neither
names are kept in paths but count for no stage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from analytics.errors import ConfigError

STAGES: tuple[str, ...] = (
    "awareness", "consideration", "purchase", "onboarding", "service", "loyalty",
)  # fmt: skip

# Touchpoint -> stage for events whose export has no stage (lower-case names).
TOUCHPOINT_STAGES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "social ad", "search ad", "display ad", "search result", "friend referral",
            "newsletter", "homepage visit", "landing page", "email campaign", "banner",
        ),
        "awareness",
    ),
    **dict.fromkeys(
        (
            "product page", "reviews page", "size guide", "add to cart", "category page",
            "comparison", "wishlist", "pricing page", "demo request", "trial start",
        ),
        "consideration",
    ),
    **dict.fromkeys(("checkout", "purchase", "payment", "order placed"), "purchase"),
    **dict.fromkeys(
        ("welcome email", "account setup", "onboarding call", "tutorial", "first login"),
        "onboarding",
    ),
    **dict.fromkeys(
        (
            "order tracking", "support contact", "support ticket", "return request",
            "complaint", "help center", "live chat", "delivery",
        ),
        "service",
    ),
    **dict.fromkeys(
        ("product review", "loyalty signup", "referral sent", "repeat purchase", "renewal"),
        "loyalty",
    ),
}  # fmt: skip

# The touchpoints other datasets become, and the stage they belong to.
PURCHASE = "Purchase"  # a completed order
TICKET = "Support ticket"  # a ticket opened
SURVEY = "Survey"  # a survey response (the stage the customer was in when answering)


@dataclass(frozen=True)
class JourneySettings:
    """The stage order, the touchpoint -> stage map, and the stages orders and tickets
    belong to."""

    stages: tuple[str, ...] = STAGES
    touchpoint_stages: Mapping[str, str] = field(default_factory=lambda: dict(TOUCHPOINT_STAGES))
    purchase_stage: str = "purchase"
    ticket_stage: str = "service"

    def __post_init__(self) -> None:
        if len(self.stages) < 2 or len(set(self.stages)) != len(self.stages):
            raise ConfigError(
                f"A journey needs at least two distinct stages; got {list(self.stages)}."
            )
        unknown = sorted(
            {self.purchase_stage, self.ticket_stage, *self.touchpoint_stages.values()}
            - set(self.stages)
        )
        if unknown:
            raise ConfigError(
                f"Stage(s) {', '.join(unknown)} are not in the stage order "
                f"({', '.join(self.stages)})."
            )

    def stage_of(self, touchpoint: str) -> str | None:
        return self.touchpoint_stages.get(touchpoint.strip().lower())

    def key(self) -> str:
        """A short fingerprint of these settings, part of the stored journeys' name."""
        text = json.dumps(
            [self.stages, sorted(self.touchpoint_stages.items()), self.purchase_stage,
             self.ticket_stage]
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:10]


DEFAULT_SETTINGS = JourneySettings()
