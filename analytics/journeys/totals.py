"""The views of everyone that a build computes ahead: the funnel and the journey map's
measures of every customer, for all dates and for each quarter of the data.

The Journeys page opens on all dates with nothing narrowed, and the quarterly review
compares two quarters: for those who see every row, these are tables of a few dozen rows
read from the build instead of a funnel and measures over a million customers' steps. They
are the very tables the views compute (`funnel.funnel`, `painpoints.measures`) for the
group `ALL` of every customer, from the same parts, so they give the same numbers; the views
use them only where they answer the question asked (no group compared, no filter, no row
limit, a date range held: `holds`), and protect small groups from viewers afterwards as
they do any table.

A build counts them a batch of customers at a time (`tally`) and puts the tallies together
(`tables`): the funnel from every customer's reach (its medians need them all), the
measures by adding up their counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from analytics.journeys import painpoints as pains
from analytics.journeys.funnel import ALL, funnel, reached
from analytics.journeys.steps import within
from analytics.periods import period_end, periods_between

Range = tuple[date | None, date | None]  # first and last day; (None, None): all dates
RANGE_SCHEMA = pl.Schema({"start": pl.Date(), "end": pl.Date()})
TABLES = ("funnels", "measures")  # the parts a build holds them in


def held_ranges(first: date | None, last: date | None) -> list[Range]:
    """What a build of steps from `first` to `last` holds: all dates, and every quarter
    from the one holding `first` to the one holding `last`."""
    if first is None or last is None:
        return [(None, None)]
    quarters = periods_between(first, last, "quarter")
    return [(None, None), *((q, period_end(q, "quarter")) for q in quarters)]


def everyone(keys: pl.DataFrame) -> pl.DataFrame:
    """Every customer of a build (`keys`: its customers part, customer_id and key) in the
    group `ALL`, keyed as the parts are: the groups of a view that narrows nothing."""
    return keys.select(customer_id=pl.col("key"), group=pl.lit(ALL))


@dataclass(frozen=True)
class Tally:
    """What the views of everyone count of some customers, for each range held: when each
    reached each stage (customer_id, step, days: what the funnel reads) and the map's
    measures' counts (`painpoints.Counts`, which add up over customers). The tallies of customers no
    two share are put together by `tables`, so a build counts a batch of customers at a
    time."""

    reach: dict[Range, pl.DataFrame]
    counts: dict[Range, pains.Counts]


def tally(
    steps: pl.DataFrame | pl.LazyFrame,
    reach: pl.DataFrame,
    touched: pl.DataFrame,
    reactions: pl.DataFrame,
    groups: pl.DataFrame,
    stages: Sequence[str],
    ranges: Sequence[Range],
) -> Tally:
    """The `Tally` of the customers of `steps` (all their steps) for each of `ranges`: all
    dates from their stored parts (`reach` with `continued`, `touched` and `reactions`:
    what the views read), a date range from their steps within it (as the views compute
    it)."""
    reaches, counted = {}, {}
    for start, end in ranges:
        if start is None and end is None:
            there = reach
            measured = pains.counts_placed(reach, touched, reactions, groups)
        else:
            chosen = within(steps.lazy(), start, end).collect()  # a lazy scan reads the range
            there = reached(chosen, stages)
            measured = pains.counts(chosen, there, groups, stages)
        reaches[(start, end)] = there.select("customer_id", "step", "days")
        counted[(start, end)] = measured
    return Tally(reaches, counted)


def tables(
    tallies: Sequence[Tally],
    groups: pl.DataFrame,
    stages: Sequence[str],
    ranges: Sequence[Range],
) -> dict[str, pl.DataFrame]:
    """The funnel and the measures of `groups` for each of `ranges`, with its start and
    end, from the tallies of customers no two share (at least one, each of all dates): what
    `tally` of all of them at once gives. A tally without a range holds no step in it."""
    funnels, measures = [], []
    nobody = tallies[0].reach[(None, None)].clear()
    uncounted = tallies[0].counts[(None, None)].clear()
    for start, end in ranges:
        held = [t for t in tallies if (start, end) in t.reach]
        there = pl.concat([t.reach[(start, end)] for t in held] or [nobody])
        summed = pains.added([t.counts[(start, end)] for t in held] or [uncounted])
        counted = pains.measures_of(summed, stages)
        funnels.append(_ranged(funnel(there, groups, stages), start, end))
        measures.append(_ranged(counted, start, end))
    return {"funnels": pl.concat(funnels), "measures": pl.concat(measures)}


def holds(ranges: Sequence[Sequence[str | None]], start: date | None, end: date | None) -> bool:
    """Whether a build whose metadata lists `ranges` (as `as_json` writes them) holds the
    range from `start` to `end`."""
    return list(_as_json((start, end))) in [list(r) for r in ranges]


def pick(table: pl.DataFrame, start: date | None, end: date | None) -> pl.DataFrame:
    """The rows of a held range of a `TABLES` part, without the range."""
    chosen = pl.col("start").eq_missing(pl.lit(start, pl.Date)) & pl.col("end").eq_missing(
        pl.lit(end, pl.Date)
    )
    return table.filter(chosen).drop(RANGE_SCHEMA.names())


def as_json(ranges: Sequence[Range]) -> list[list[str | None]]:
    """`ranges` as a build's metadata lists them."""
    return [_as_json(r) for r in ranges]


def _as_json(held: Range) -> list[str | None]:
    return [None if d is None else d.isoformat() for d in held]


def _ranged(table: pl.DataFrame, start: date | None, end: date | None) -> pl.DataFrame:
    return table.select(
        pl.lit(start, pl.Date).alias("start"), pl.lit(end, pl.Date).alias("end"), pl.all()
    )
