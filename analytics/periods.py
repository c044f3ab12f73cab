"""Calendar periods: day, ISO week, month, quarter and year, with the labels people read.

A period is named by its first day. Labels: `2025-07-14` (day), `2025-W29` (ISO week),
`2025-07` (month), `2025-Q3` (quarter), `2025` (year).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal, get_args

from analytics.errors import ConfigError

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = get_args(Grain)

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
# SQL of the start of the period before the one starting on date column `p`, per grain.
PREVIOUS_SQL: dict[Grain, str] = {
    "day": "CAST(p - INTERVAL '1 day' AS DATE)",
    "week": "CAST(p - INTERVAL '7 days' AS DATE)",
    "month": "CAST(p - INTERVAL '1 month' AS DATE)",
    "quarter": "CAST(p - INTERVAL '3 months' AS DATE)",
    "year": "CAST(p - INTERVAL '1 year' AS DATE)",
}


def check_grain(grain: str) -> Grain:
    """`grain` as a Grain, or a ConfigError naming the allowed values."""
    if grain not in GRAINS:
        raise ConfigError(f"The period must be one of {', '.join(GRAINS)}. Got {grain!r} instead.")
    return grain


def period_start(day: date, grain: Grain) -> date:
    """First day of the period that `day` falls in."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    months = _MONTHS_PER[grain]
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def shift(start: date, grain: Grain, steps: int) -> date:
    """The start of the period `steps` periods after (or before, when negative) `start`."""
    if grain == "day":
        return start + timedelta(days=steps)
    if grain == "week":
        return start + timedelta(weeks=steps)
    index = start.year * 12 + start.month - 1 + steps * _MONTHS_PER[grain]
    return date(index // 12, index % 12 + 1, 1)


def period_end(start: date, grain: Grain) -> date:
    """Last day of the period that starts on `start`."""
    return shift(start, grain, 1) - timedelta(days=1)


def year_ago(start: date, grain: Grain) -> date:
    """The same period one year earlier (for weeks: the same ISO week of the previous ISO
    year; 29 February maps to 28 February)."""
    if grain == "week":
        year, week, _ = start.isocalendar()
        # Week 53 has no twin in a 52-week year: compare with that year's last week.
        last_week = date(year - 1, 12, 28).isocalendar()[1]
        return date.fromisocalendar(year - 1, min(week, last_week), 1)
    if grain == "day":
        try:
            return start.replace(year=start.year - 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year - 1, day=28)
    return shift(start, grain, -_periods_per_year(grain))


def _periods_per_year(grain: Grain) -> int:
    return {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}[grain]


def periods_between(first: date, last: date, grain: Grain) -> list[date]:
    """Starts of every period from the one holding `first` to the one holding `last`."""
    starts = []
    current, stop = period_start(first, grain), period_start(last, grain)
    while current <= stop:
        starts.append(current)
        current = shift(current, grain, 1)
    return starts


def period_label(start: date, grain: Grain) -> str:
    """How people write the period that starts on `start`."""
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


_LABEL_PATTERNS: dict[Grain, re.Pattern[str]] = {
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


def parse_period(label: str, grain: Grain) -> date:
    """The start of the period named `label` (the inverse of `period_label`)."""
    match = _LABEL_PATTERNS[grain].match(label.strip())
    try:
        if match is None:
            raise ValueError(label)
        parts = [int(p) for p in match.groups()]
        if grain == "day":
            return date(parts[0], parts[1], parts[2])
        if grain == "week":
            return date.fromisocalendar(parts[0], parts[1], 1)
        if grain == "month":
            return date(parts[0], parts[1], 1)
        if grain == "quarter":
            return date(parts[0], (parts[1] - 1) * 3 + 1, 1)
        return date(parts[0], 1, 1)
    except ValueError:
        example = period_label(date(2025, 7, 14), grain)
        raise ConfigError(f"{label!r} is not a {grain}; write it like {example}.") from None
