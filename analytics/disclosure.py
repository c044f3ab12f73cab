"""Small-group hiding for viewers: statistical disclosure control, applied in one place.

A viewer (see `accounts.Account.access`) must not learn anything about fewer than
`minimum` customers, responses or tickets. Published tables do this in two steps, as
statistical agencies do (Hundepool et al., *Statistical Disclosure Control*, 2012, ch. 4):

1. **Primary suppression.** A value is hidden when the units behind that exact value (the
   customers behind a revenue, the NPS answers behind an NPS, the rated tickets behind a
   ticket CSAT) number from 1 to `minimum - 1`. A value with no units behind it (nothing
   happened) is empty, not small, and stays visible.
2. **Complementary suppression.** Cells of a *line* add up to a total shown beside them:
   the groups of a breakdown add up to the unbroken value, a cohort's periods to the
   cohort, a period's cohorts to all cohorts. If one cell of a line were hidden alone, the
   total minus the visible cells would give it back. So in every line with a hidden cell,
   more cells are hidden, the smallest first, until the line has at least two hidden cells
   that together rest on at least `minimum` units, or nothing visible is left to hide
   (then the total itself rests on fewer than `minimum` units, and is hidden by step 1).
   Lines are revisited until no line needs more, since hiding a cell in one line can expose
   another line it belongs to.

Every hidden cell carries its reason (`hidden`): `fewer than 5 responses`, or
`COMPLEMENTARY`. Callers blank the hidden cells' values with `blank`, never show them as
zero, and offer no customer list behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

HIDDEN = "hidden"  # the column holding why a cell is hidden (null: shown)
COMPLEMENTARY = "hidden so that a smaller group beside it cannot be worked out from the total"


def too_few(minimum: int, unit: str) -> str:
    """The reason a cell resting on fewer than `minimum` `unit` is hidden."""
    return f"fewer than {minimum} {unit}"


@dataclass(frozen=True)
class Line:
    """Cells that add up to a total shown beside them: those sharing the values of `keys`.

    `overlapping` says that one unit may sit in several cells of a line (a customer who
    bought in two channels), so the units behind hidden cells together are at least the
    largest cell's, not their sum. `eligible` names a boolean column of the cells that may
    be hidden to protect others (default: every cell).
    """

    keys: tuple[str, ...]
    overlapping: bool = False
    eligible: str | None = None


def protect(
    cells: pl.DataFrame,
    *,
    count: str,
    unit: str,
    minimum: int,
    lines: Sequence[Line] = (),
    hidden: str | None = None,
) -> pl.DataFrame:
    """`cells` with a `hidden` column: why each cell must not be shown to a viewer, or null.

    Parameters
    ----------
    cells : polars.DataFrame
        One row per cell, with the columns named below and those the lines name.
    count : str
        Integer column: the units (customers, responses, tickets) behind the cell's value.
    unit : str
        Text column naming those units in the plural ("responses").
    minimum : int
        The fewest units a shown value may rest on; 0 or 1 hides nothing.
    lines : sequence of Line
        The sums the cells take part in (complementary suppression).
    hidden : str, optional
        A text column of reasons cells are already hidden for (null: not hidden); they are
        kept and count as hidden cells of their lines.

    Returns
    -------
    polars.DataFrame
        `cells` in the same order, with `hidden` (String) added or replaced.
    """
    reasons = (
        pl.when((pl.col(count) > 0) & (pl.col(count) < minimum))
        .then(pl.lit(f"fewer than {minimum} ") + pl.col(unit))
        .otherwise(None)
    )
    if hidden is not None:
        reasons = pl.coalesce(pl.col(hidden), reasons)
    if minimum <= 1:
        reasons = pl.col(hidden) if hidden is not None else pl.lit(None, dtype=pl.String)
    frame = cells.with_row_index("_cell").with_columns(reasons.cast(pl.String).alias("_why"))
    if minimum > 1:
        frame = _complementary(frame, count, minimum, lines)
    return frame.sort("_cell").drop("_cell", HIDDEN, strict=False).rename({"_why": HIDDEN})


def _complementary(
    frame: pl.DataFrame, count: str, minimum: int, lines: Sequence[Line]
) -> pl.DataFrame:
    # Candidates in the order they are hidden: the smallest count first, then table order.
    frame = frame.sort(count, "_cell")
    settled = 0
    while lines and settled < len(lines):
        for line in lines:
            picks = _next_complements(frame, line, count, minimum)
            if picks.any():
                frame = frame.with_columns(
                    pl.when(picks)
                    .then(pl.lit(COMPLEMENTARY))
                    .otherwise(pl.col("_why"))
                    .alias("_why")
                )
                settled = 0
            else:
                settled += 1
            if settled >= len(lines):
                break
    return frame


def _next_complements(frame: pl.DataFrame, line: Line, count: str, minimum: int) -> pl.Series:
    """Per line that does not yet protect its hidden cells, its smallest visible cell."""
    keys = list(line.keys)
    units = pl.col(count)
    is_hidden = pl.col("_why").is_not_null() & (units > 0)
    candidate = pl.col("_why").is_null() & (units > 0)
    if line.eligible is not None:
        candidate = candidate & pl.col(line.eligible)
    together = units.filter(is_hidden).max() if line.overlapping else units.filter(is_hidden).sum()
    hidden_n = is_hidden.sum().over(keys)
    exposed = (
        (hidden_n >= 1)
        & (candidate.sum().over(keys) >= 1)
        & ((hidden_n < 2) | (together.over(keys).fill_null(0) < minimum))
    )
    first = candidate & (candidate.cast(pl.Int64).cum_sum().over(keys) == 1)
    return frame.select((exposed & first).alias("pick")).to_series()


def blank(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`frame` with `columns` set to null where the `hidden` column gives a reason."""
    shown = pl.col(HIDDEN).is_null()
    return frame.with_columns(
        pl.when(shown).then(pl.col(c)).otherwise(None).alias(c) for c in columns
    )
