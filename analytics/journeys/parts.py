"""The per-customer parts of a journeys build, made from steps: when each customer reached
each stage (`reach`, with `continued`), their touchpoints per stage (`touched`), their
answers and tickets where they were (`reactions`) and the positions of their paths from
each anchor (`positions`).

Each customer's rows depend on their own steps alone, so the parts of any set of whole
customers can be made apart and put together: a full build makes them a batch of customers
at a time (`store`), an update for the customers the appended rows name (`update`). The
positions' touchpoints are an enum of the touchpoints they hold: pieces made apart are
recast to the enum of all of them (`joined_positions`).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analytics.journeys.funnel import reached
from analytics.journeys.painpoints import placed, places, with_continued
from analytics.journeys.paths import positions, sequences
from analytics.journeys.stages import JourneySettings

PER_CUSTOMER = ("reach", "touched", "reactions", "positions")


def placed_parts(steps: pl.DataFrame, settings: JourneySettings) -> dict[str, pl.DataFrame]:
    """`reach`, `touched` and `reactions` of the customers of `steps` (all their steps)."""
    reach = with_continued(reached(steps, settings.stages), settings.stages)
    touched, reactions = placed(*places(steps), reach)
    return {"reach": reach, "touched": touched, "reactions": reactions}


def customer_parts(steps: pl.DataFrame, settings: JourneySettings) -> dict[str, pl.DataFrame]:
    """Every `PER_CUSTOMER` part of the customers of `steps`; the positions' enum holds the
    touchpoints of their paths alone."""
    paths = positions(sequences(steps, settings.purchase_stage))
    return {**placed_parts(steps, settings), "positions": paths}


def joined_positions(pieces: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The positions of several sets of customers (`customer_parts`' each, in customer
    order), one after the other, their touchpoints an enum of those of all of them: what
    `positions` makes of all their paths at once."""
    names = sorted({name for piece in pieces for name in enum_names(piece)})
    return pl.concat([recast(piece, names) for piece in pieces])


def enum_names(frame: pl.DataFrame) -> list[str]:
    """The touchpoints of the positions' enum (none: `frame` has no positions)."""
    enum = next((t for t in frame.schema.values() if isinstance(t, pl.Enum)), None)
    return [] if enum is None else enum.categories.to_list()


def recast(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """`frame`'s positions as an enum of `names` (which hold every touchpoint they hold)."""
    if enum_names(frame) == names:
        return frame
    columns = [c for c, t in frame.schema.items() if isinstance(t, pl.Enum)]
    return frame.with_columns(pl.col(columns).cast(pl.Enum(names)))
