"""Journey stages: their order, which stage each touchpoint belongs to, and how orders,
survey responses and tickets join the events as touchpoints of their own.

`JourneySettings` holds the rules as data. The defaults follow the common customer-journey
stages; an export's own `stage` column wins where it names one of the stages, and the
touchpoint map (names compared case-insensitively) fills the rest (or, with `map_first`,
the map wins and the export fills the rest). Touchpoints that neither
names are kept in paths but count for no stage.

Analysts change the stages and the map (Journeys page, `journeys stages` command); the
warehouse keeps them in `_settings/journeys.json` (`load_settings`, `save_settings`), and
the journeys are rebuilt for them: a build is named by its settings' `key`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from analytics import builds
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
    map_first: bool = False  # the map decides where it names a touchpoint, the export after

    def __post_init__(self) -> None:
        if len(self.stages) < 2 or len(set(self.stages)) != len(self.stages):
            raise ConfigError(
                f"A journey needs at least two distinct stages; got {list(self.stages)}."
            )
        order = ", ".join(self.stages)
        for role, stage in (("Orders", self.purchase_stage), ("Tickets", self.ticket_stage)):
            if stage not in self.stages:
                raise ConfigError(f"{role} belong to stage '{stage}', which is not in {order}.")
        strays = sorted(t for t, s in self.touchpoint_stages.items() if s not in self.stages)
        if strays:
            named = ", ".join(f"'{t}' -> '{self.touchpoint_stages[t]}'" for t in strays[:5])
            raise ConfigError(
                f"The touchpoint map names stages that are not in {order}: {named}"
                + (f" and {len(strays) - 5} more" if len(strays) > 5 else "")
                + ". Map those touchpoints to a stage first."
            )

    def stage_of(self, touchpoint: str) -> str | None:
        return self.touchpoint_stages.get(touchpoint.strip().lower())

    def key(self) -> str:
        """A short fingerprint of these settings, part of the stored journeys' name."""
        text = json.dumps(
            [self.stages, sorted(self.touchpoint_stages.items()), self.purchase_stage,
             self.ticket_stage, self.map_first]
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def mapped(self, changes: Mapping[str, str | None]) -> JourneySettings:
        """These settings with touchpoints mapped to new stages (None: unmapped)."""
        table = dict(self.touchpoint_stages)
        for touchpoint, stage in changes.items():
            name = touchpoint.strip().lower()
            if not name:
                raise ConfigError("A touchpoint in the map has no name.")
            if stage is None:
                table.pop(name, None)
            else:
                table[name] = stage
        return replace(self, touchpoint_stages=table)

    def with_stages(self, stages: tuple[str, ...]) -> JourneySettings:
        """These settings with a new stage order. The same number of stages renames them in
        place (their touchpoints, orders and tickets follow); otherwise touchpoints mapped
        to a stage no longer in the order become unmapped (orders and tickets need theirs
        kept)."""
        stages = tuple(s.strip() for s in stages)
        if len(stages) == len(self.stages):
            renamed = dict(zip(self.stages, stages, strict=True))
        else:
            renamed = {s: s for s in self.stages if s in stages}
        return replace(
            self,
            stages=stages,
            touchpoint_stages={
                t: renamed[s] for t, s in self.touchpoint_stages.items() if s in renamed
            },
            purchase_stage=renamed.get(self.purchase_stage, self.purchase_stage),
            ticket_stage=renamed.get(self.ticket_stage, self.ticket_stage),
        )

    def as_json(self) -> dict[str, object]:
        return {
            "stages": list(self.stages),
            "purchase_stage": self.purchase_stage,
            "ticket_stage": self.ticket_stage,
            "map_first": self.map_first,
            "touchpoint_stages": dict(sorted(self.touchpoint_stages.items())),
        }


DEFAULT_SETTINGS = JourneySettings()
SETTINGS_NAME = "journeys"
SETTINGS_FILE = builds.SETTINGS_FOLDER / f"{SETTINGS_NAME}.json"


def load_settings(root: Path) -> JourneySettings:
    """The warehouse's journey settings (the defaults until an analyst changes them)."""
    raw = builds.read_settings(root, SETTINGS_NAME)
    if raw is None:
        return DEFAULT_SETTINGS
    try:
        return _from_json(raw)
    except ConfigError as exc:
        path = builds.settings_path(root, SETTINGS_NAME)
        raise ConfigError(f"The settings in {path} are not valid: {exc}") from exc


def _from_json(raw: object) -> JourneySettings:
    if not isinstance(raw, dict):
        raise ConfigError("expected an object with stages and touchpoint_stages.")
    stages = raw.get("stages", list(STAGES))
    table = raw.get("touchpoint_stages", {})
    if not isinstance(stages, list) or not all(isinstance(s, str) and s.strip() for s in stages):
        raise ConfigError("'stages' must be a list of stage names.")
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ConfigError("'touchpoint_stages' must map touchpoint names to stage names.")
    default = DEFAULT_SETTINGS
    return JourneySettings(
        stages=tuple(s.strip() for s in stages),
        touchpoint_stages={k.strip().lower(): v for k, v in table.items()},
        purchase_stage=str(raw.get("purchase_stage", default.purchase_stage)),
        ticket_stage=str(raw.get("ticket_stage", default.ticket_stage)),
        map_first=raw.get("map_first", False) is True,
    )


def save_settings(root: Path, settings: JourneySettings) -> None:
    """Keep `settings` as the warehouse's journey settings."""
    builds.write_settings(root, SETTINGS_NAME, settings.as_json())
