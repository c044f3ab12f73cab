"""What analysts choose for the feedback analysis: the number of themes (or automatic) and
the theme dictionary (theme -> keywords), which wins over the discovered themes for the
comments it matches. Kept in the warehouse as `_settings/feedback.json`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analytics import builds
from analytics.errors import ConfigError

SETTINGS_NAME = "feedback"


@dataclass(frozen=True)
class FeedbackSettings:
    k: int | None = None  # themes to find; None chooses by coherence
    dictionary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.k is not None and not 2 <= self.k <= 30:
            raise ConfigError(f"Choose 2 to 30 themes (or automatic); got {self.k}.")
        for theme, words in self.dictionary.items():
            if not theme.strip():
                raise ConfigError("A theme in the dictionary has no name.")
            if not [w for w in words if w.strip()]:
                raise ConfigError(f"The dictionary theme '{theme}' has no keywords.")

    def key(self) -> str:
        """A short fingerprint, part of the stored analysis' name."""
        text = json.dumps([self.k, [[t, list(w)] for t, w in self.dictionary.items()]])
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def as_json(self) -> dict[str, object]:
        return {"k": self.k, "dictionary": {t: list(w) for t, w in self.dictionary.items()}}


DEFAULT_SETTINGS = FeedbackSettings()


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords as an analyst types them: separated by commas, blanks dropped, duplicates
    (in any case) once."""
    seen: dict[str, str] = {}
    for word in text.split(","):
        word = " ".join(word.split())
        if word and word.lower() not in seen:
            seen[word.lower()] = word
    return tuple(seen.values())


def load_settings(root: Path) -> FeedbackSettings:
    raw = builds.read_settings(root, SETTINGS_NAME)
    if raw is None:
        return DEFAULT_SETTINGS
    try:
        if not isinstance(raw, dict):
            raise ConfigError("expected an object with k and dictionary.")
        k = raw.get("k")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
            raise ConfigError("'k' must be a number of themes or null (automatic).")
        dictionary = raw.get("dictionary", {})
        if not isinstance(dictionary, dict) or not all(
            isinstance(t, str) and isinstance(w, list) and all(isinstance(x, str) for x in w)
            for t, w in dictionary.items()
        ):
            raise ConfigError("'dictionary' must map theme names to lists of keywords.")
        return FeedbackSettings(k, {t.strip(): tuple(w) for t, w in dictionary.items()})
    except ConfigError as exc:
        path = builds.settings_path(root, SETTINGS_NAME)
        raise ConfigError(f"The settings in {path} are not valid: {exc}") from exc


def save_settings(root: Path, settings: FeedbackSettings) -> None:
    builds.write_settings(root, SETTINGS_NAME, settings.as_json())
