"""Numbers and times formatted for people: one place, so every page writes them the same way."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

MISSING = "—"
CURRENCY = "$"


def count(value: int) -> str:
    """Whole count with thousands separators: 20000 -> '20,000'."""
    return f"{value:,}"


def rows(value: int, what: str = "row") -> str:
    """A count of things with the right plural: 1 -> '1 row', 19874 -> '19,874 rows'."""
    return f"{count(value)} {what}{'' if value == 1 else 's'}"


def money(value: float) -> str:
    """Currency rounded to whole units for cards: 1234567.4 -> '$1,234,567'."""
    sign = "-" if round(value) < 0 else ""
    return f"{sign}{CURRENCY}{abs(value):,.0f}"


def money_exact(value: float) -> str:
    """Currency to the cent, for help texts: 1234567.4 -> '$1,234,567.40'."""
    sign = "-" if round(value, 2) < 0 else ""
    return f"{sign}{CURRENCY}{abs(value):,.2f}"


def score(value: float | None) -> str:
    """A score with one decimal (NPS runs from -100 to 100): 32.44 -> '32.4'."""
    if value is None:
        return MISSING
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def percent(value: float | None) -> str:
    """A share already in percent, one decimal: 78.06 -> '78.1%'."""
    return MISSING if value is None else f"{score(value)}%"


def file_size(size_bytes: int) -> str:
    """Bytes as KB or MB with one decimal: 1536 -> '1.5 KB'."""
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / (1024 * 1024):,.1f} MB"


def timestamp(value: datetime) -> str:
    """A moment in UTC, day first and unambiguous: '24 Nov 2026 02:10 UTC'."""
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def freshness(last_loaded: Mapping[str, datetime | None]) -> str:
    """The Overview's freshness line: when each dataset last changed, and what was never loaded.

    Datasets loaded in the same minute share one time: 'Last loads: customers, orders
    24 Nov 2026 02:10 UTC · surveys 25 Nov 2026 08:00 UTC. Not loaded yet: events.'
    """
    by_time: dict[str, list[str]] = {}
    for name, when in last_loaded.items():
        if when is not None:
            by_time.setdefault(timestamp(when), []).append(name)
    missing = [name for name, when in last_loaded.items() if when is None]
    parts = []
    if by_time:
        loads = [f"{', '.join(names)} {stamp}" for stamp, names in by_time.items()]
        parts.append("Last loads: " + " · ".join(loads))
    if missing:
        parts.append("Not loaded yet: " + ", ".join(missing))
    return ". ".join(parts) + "." if parts else ""


def plain_text(value: str) -> str:
    """Escape Markdown so that text from files (names, headers) shows literally, never as markup."""
    special = "\\`*_{}[]()<>#+-.!|~$:"
    return "".join("\\" + ch if ch in special else ch for ch in value)


def in_sentence(label: str) -> str:
    """A label as a sentence goes on: "Region" -> "region", but "RFM segment" keeps its
    acronym."""
    first = label.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return label
    return label[:1].lower() + label[1:]


def kpi_value(value: float | None, unit: str) -> str:
    """A KPI value as its unit reads: currency whole, counts with separators, one decimal
    for percentages, scores and hours."""
    if value is None:
        return MISSING
    if unit == "currency":
        return money(value) if abs(value) >= 1000 else money_exact(value)
    if unit == "count":
        return count(round(value))
    if unit == "percent":
        return percent(value)
    if unit == "hours":
        return f"{score(value)} h"
    return score(value)


def kpi_delta(delta: float | None, previous: float | None, unit: str) -> str | None:
    """A change as people read it: totals as a relative change ('+12.3%'), rates and
    scores in points ('+2.1 pts'), times in hours. None when there is nothing to compare."""
    if delta is None or previous is None:
        return None
    sign = "+" if delta >= 0 else "-"  # ASCII: st.metric reads the direction from it
    size = abs(delta)
    if unit in ("currency", "count") and previous:
        return f"{sign}{abs(delta / previous) * 100:.1f}%"
    if unit == "currency":
        return f"{sign}{money_exact(size)}"
    if unit == "count":
        return f"{sign}{count(round(size))}"
    if unit == "percent":
        return f"{sign}{size:.1f} pts"
    if unit == "hours":
        return f"{sign}{size:.1f} h"
    return f"{sign}{size:.1f}"


def interval(low: float | None, high: float | None, unit: str) -> str:
    """A 95 % interval: '26.7 to 33.8', '$88.50 to $93.98'."""
    if low is None or high is None:
        return MISSING
    return f"{kpi_value(low, unit)} to {kpi_value(high, unit)}"


def day(value: date | None) -> str:
    """A day as people read it, day first and unambiguous: '4 Jan 2023'."""
    return MISSING if value is None else f"{value.day} {value:%b %Y}"


def days_ago(days: int) -> str:
    """'1 day ago', '31 days ago'."""
    return f"{rows(days, 'day')} ago"


def hidden_note(reasons: list[str | None]) -> str | None:
    """What a viewer is not shown, and why: '3 values are hidden from you: fewer than 5
    responses (2); ...'. None when nothing is hidden."""
    counts: dict[str, int] = {}
    for reason in reasons:
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    if not counts:
        return None
    total = sum(counts.values())
    verb = "value is" if total == 1 else "values are"
    why = "; ".join(f"{reason} ({count(n)})" for reason, n in counts.items())
    return f"{count(total)} {verb} hidden from you: {why}."
