"""The window of the sample company: days, seasonality, quarters and the incident quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics.sample.arrays import FloatArray
from analytics.sample.profiles import MONTH_SEASONALITY

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Timeline:
    start: date
    days: int  # length of the window; day index 0 is `start`
    season: FloatArray  # intensity per day, mean 1 over a year
    cumulative: FloatArray  # integral of `season` from day 0, length days + 1
    quarters: tuple[tuple[int, int], ...]  # [first day, end day) per quarter
    incident: tuple[int, int]  # [first day, end day) of the incident quarter


def window_start(end: date, years: int) -> date:
    """First day of a window of `years` years ending on `end` (inclusive)."""
    try:
        return end.replace(year=end.year - years) + timedelta(days=1)
    except ValueError:  # 29 February
        return date(end.year - years, 3, 1)


def _quarter_start(value: date) -> date:
    return date(value.year, 3 * ((value.month - 1) // 3) + 1, 1)


def _add_months(value: date, months: int) -> date:
    index = value.year * 12 + value.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def build_timeline(end: date, years: int) -> Timeline:
    start = window_start(end, years)
    days = (end - start).days + 1
    first = np.datetime64(start, "D")
    months = (np.arange(first, first + days).astype("datetime64[M]").astype(np.int64)) % 12
    factors = np.asarray(MONTH_SEASONALITY) / np.mean(MONTH_SEASONALITY)
    season = factors[months]
    cumulative = np.concatenate([[0.0], np.cumsum(season)])
    quarters = []
    q = _quarter_start(start)
    while q <= end:
        q_next = _add_months(q, 3)
        lo = max((q - start).days, 0)
        hi = min((q_next - start).days, days)
        quarters.append((lo, hi))
        q = q_next
    incident_first = _add_months(_quarter_start(end), -6)
    incident = ((incident_first - start).days, (_add_months(incident_first, 3) - start).days)
    return Timeline(start, days, season, cumulative, tuple(quarters), incident)


def dates(timeline: Timeline, days: FloatArray) -> pl.Series:
    offset = (timeline.start - _EPOCH).days
    return pl.Series((offset + np.floor(days)).astype(np.int32)).cast(pl.Date)


def datetimes(timeline: Timeline, days: FloatArray) -> pl.Series:
    """Datetimes to the second; NaN days become nulls."""
    offset = (timeline.start - _EPOCH).days * 86_400
    missing = np.isnan(days)
    seconds = offset + np.floor(np.where(missing, 0.0, days) * 86_400).astype(np.int64)
    series = pl.Series(seconds * 1_000_000).cast(pl.Datetime("us"))
    return series.set(pl.Series(missing), None) if missing.any() else series
