"""Map an export's headers onto the data contract, and remember mappings as named profiles.

Automatic mapping compares each header with the contract's column names and synonyms and
gives a confidence; the user can override any column; a mapping saved as a profile is applied
by itself to a later export whose headers match.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analytics.contract import Dataset, attribute_name, dataset, normalise_header
from analytics.errors import MappingError

# Override targets that do not name a contract column.
KEEP_AS_ATTRIBUTE = "attribute"
IGNORE = "ignore"

_PROFILE_NAME = re.compile(r"^[\w][\w .\-()&]{0,59}$")


@dataclass(frozen=True)
class ColumnMatch:
    """How one source header maps: onto `target` (a contract column), an attribute, or nothing."""

    source: str
    target: str | None
    confidence: float
    reason: str

    @property
    def kept_as(self) -> str:
        if self.target == IGNORE:
            return "ignored"
        if self.target is None or self.target == KEEP_AS_ATTRIBUTE:
            return attribute_name(self.source)
        return self.target


def propose_mapping(headers: Sequence[str], name: str) -> list[ColumnMatch]:
    """Propose a target column for each header of an export of dataset `name`.

    Each contract column is used at most once: when two headers compete, the one with the
    higher confidence wins and the other is kept as an attribute.
    """
    ds = dataset(name)
    candidates = [(header, *_best_target(header, ds)) for header in headers]
    taken: dict[str, tuple[str, float]] = {}
    for header, target, confidence, _ in sorted(candidates, key=lambda c: -c[2]):
        if target is not None and target not in taken:
            taken[target] = (header, confidence)
    winners = {header: target for target, (header, _) in taken.items()}
    matches = []
    for header, target, confidence, reason in candidates:
        if target is not None and winners.get(header) == target:
            matches.append(ColumnMatch(header, target, confidence, reason))
        elif target is not None:
            matches.append(
                ColumnMatch(
                    header, None, 0.0, f"'{taken[target][0]}' matched {target} more closely"
                )
            )
        else:
            matches.append(ColumnMatch(header, None, 0.0, "no contract column matches"))
    return matches


def _best_target(header: str, ds: Dataset) -> tuple[str | None, float, str]:
    folded = normalise_header(header)
    squashed = folded.replace(" ", "")
    best: tuple[str | None, float, str] = (None, 0.0, "")
    for col in ds.columns:
        names = (col.name, *col.synonyms)
        for i, candidate in enumerate(names):
            cand = normalise_header(candidate)
            if folded == cand:
                score, why = (1.0, "same name") if i == 0 else (0.95, f"synonym '{candidate}'")
            elif squashed == cand.replace(" ", ""):
                score, why = 0.9, f"synonym '{candidate}'"
            elif len(cand) >= 5 and re.search(rf"\b{re.escape(cand)}\b", folded):
                # The more of the header the synonym covers, the surer the match.
                score = round(0.6 + 0.3 * len(cand) / len(folded), 2)
                why = f"contains '{candidate}'"
            else:
                ratio = difflib.SequenceMatcher(None, squashed, cand.replace(" ", "")).ratio()
                if ratio < 0.85:
                    continue
                score, why = round(0.8 * ratio, 2), f"similar to '{candidate}'"
            if score > best[1]:
                best = (col.name, score, why)
    return best


def apply_overrides(
    matches: Sequence[ColumnMatch], overrides: Mapping[str, str], name: str
) -> list[ColumnMatch]:
    """Replace proposed targets with the user's choices (`source -> target`).

    A target may be a contract column, `attribute` (keep as an extra column) or `ignore`.
    """
    ds = dataset(name)
    sources = {m.source for m in matches}
    allowed = {*ds.column_names, KEEP_AS_ATTRIBUTE, IGNORE}
    for source, target in overrides.items():
        if source not in sources:
            listed = ", ".join(repr(s) for s in sorted(sources))
            raise MappingError(f"Column {source!r} is not in the file. Its columns are: {listed}.")
        if target not in allowed:
            listed = ", ".join(ds.column_names)
            raise MappingError(
                f"{target!r} is not a column of {ds.name}. Map {source!r} to one of: {listed} "
                f"(or '{KEEP_AS_ATTRIBUTE}' to keep it as an extra column, '{IGNORE}' to drop it)."
            )
    result = []
    for m in matches:
        if m.source in overrides:
            result.append(ColumnMatch(m.source, overrides[m.source], 1.0, "chosen by you"))
        elif m.target in overrides.values():
            result.append(ColumnMatch(m.source, None, 0.0, "target chosen for another column"))
        else:
            result.append(m)
    check_unique_targets(result)
    return result


def check_unique_targets(matches: Sequence[ColumnMatch]) -> None:
    seen: dict[str, str] = {}
    for m in matches:
        if m.target is None or m.target in (KEEP_AS_ATTRIBUTE, IGNORE):
            continue
        if m.target in seen:
            raise MappingError(
                f"Columns {seen[m.target]!r} and {m.source!r} are both mapped to {m.target}. "
                "Map only one of them there."
            )
        seen[m.target] = m.source


# ----- profiles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingProfile:
    """A saved mapping: the headers it was made for and where each went."""

    name: str
    dataset: str
    headers: tuple[str, ...]
    mapping: dict[str, str]
    created: str

    def matches_headers(self, headers: Sequence[str]) -> bool:
        return {normalise_header(h) for h in headers} == {normalise_header(h) for h in self.headers}


def validate_profile_name(name: str) -> str:
    cleaned = name.strip()
    if not _PROFILE_NAME.match(cleaned):
        raise MappingError(
            f"The mapping name {name!r} cannot be used: use 1 to 60 letters, digits, spaces or "
            "- _ . ( ) &, starting with a letter or digit."
        )
    return cleaned


def _profile_path(folder: Path, name: str) -> Path:
    # The file name is derived, never taken from user text, so no name can escape the folder.
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "profile"
    digest = hashlib.sha256(name.lower().encode("utf-8")).hexdigest()[:8]
    return folder / f"{slug[:40]}-{digest}.json"


def save_profile(
    folder: Path, name: str, dataset_name: str, matches: Sequence[ColumnMatch]
) -> MappingProfile:
    """Save `matches` as a named profile (replacing one of the same name)."""
    clean = validate_profile_name(name)
    dataset(dataset_name)
    profile = MappingProfile(
        name=clean,
        dataset=dataset_name,
        headers=tuple(m.source for m in matches),
        mapping={
            m.source: (m.target if m.target is not None else KEEP_AS_ATTRIBUTE) for m in matches
        },
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = _profile_path(folder, clean)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(profile.__dict__, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return profile


def list_profiles(folder: Path, dataset_name: str | None = None) -> list[MappingProfile]:
    if not folder.is_dir():
        return []
    profiles = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            profile = MappingProfile(
                name=str(raw["name"]),
                dataset=str(raw["dataset"]),
                headers=tuple(raw["headers"]),
                mapping=dict(raw["mapping"]),
                created=str(raw.get("created", "")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if dataset_name is None or profile.dataset == dataset_name:
            profiles.append(profile)
    return sorted(profiles, key=lambda p: p.name.lower())


def get_profile(folder: Path, name: str) -> MappingProfile:
    for profile in list_profiles(folder):
        if profile.name.lower() == name.strip().lower():
            return profile
    known = ", ".join(repr(p.name) for p in list_profiles(folder)) or "none saved yet"
    raise MappingError(f"There is no mapping profile called {name!r}. Saved profiles: {known}.")


def find_profile(folder: Path, dataset_name: str, headers: Sequence[str]) -> MappingProfile | None:
    """The saved profile of this dataset made for exactly these headers, if any."""
    for profile in list_profiles(folder, dataset_name):
        if profile.matches_headers(headers):
            return profile
    return None


def profile_matches(profile: MappingProfile, headers: Sequence[str]) -> list[ColumnMatch]:
    """Matches for `headers` taken from a profile (headers compared folded)."""
    by_folded = {normalise_header(k): v for k, v in profile.mapping.items()}
    matches = []
    for header in headers:
        target = by_folded.get(normalise_header(header))
        if target is None:
            matches.append(ColumnMatch(header, None, 0.0, "not in the profile"))
        else:
            mapped = None if target == KEEP_AS_ATTRIBUTE else target
            matches.append(ColumnMatch(header, mapped, 1.0, f"profile '{profile.name}'"))
    check_unique_targets(matches)
    return matches
