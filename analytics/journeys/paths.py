"""The common paths: each customer's first (or last) touchpoints as a sequence, the most
common sequences, and the step-to-step links between them (what a Sankey draws).

Per customer, the touchpoints in the paths (`in_path` steps) in time order, consecutive
repeats collapsed when asked, then cut to `steps` touchpoints from an anchor:

- `start`: from the journey's first touchpoint; converted = made a purchase;
- `first_purchase`: from the first purchase on (buyers only); converted = bought again
  ("paths that lead to a second purchase");
- `no_purchase`: the last touchpoints of journeys without a purchase ("paths that end
  without a purchase"); converted = never.

Touchpoints on fewer than `min_share` of the journeys, or beyond the `max_nodes` most used,
become "Other" (and repeats of "Other" collapse). Every path has its customers, share of all
journeys and conversion; every link its step-to-step conversion (of the customers at its
source touchpoint at that step, the share that went on to its target) and overall
conversion (of all journeys).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics import definitions as rules
from analytics.errors import ConfigError

ANCHORS = ("start", "first_purchase", "no_purchase")
OTHER = "Other"
SEPARATOR = "\x1f"  # joins a path's touchpoints into one text where that is quicker

PATHS_SCHEMA = pl.Schema(
    {
        "path": pl.List(pl.String()),
        "customers": pl.Int64(),
        "share": pl.Float64(),
        "conversion": pl.Float64(),
    }
)
LINKS_SCHEMA = pl.Schema(
    {
        "step": pl.Int64(),  # the link goes from touchpoint `step` to touchpoint `step + 1`
        "source": pl.String(),
        "target": pl.String(),
        "customers": pl.Int64(),
        "conversion_step": pl.Float64(),
        "conversion_overall": pl.Float64(),
        "converted": pl.Float64(),  # share of the link's customers who converted
        "detractors": pl.Float64(),  # share of the link's customers with a detractor answer
    }
)


@dataclass(frozen=True)
class PathOptions:
    """How journeys become paths."""

    steps: int = 5
    collapse: bool = True
    anchor: str = "start"
    min_share: float = 0.02
    max_nodes: int = 12

    def __post_init__(self) -> None:
        if self.anchor not in ANCHORS:
            raise ConfigError(
                f"Unknown path anchor '{self.anchor}'. Choose one of: {', '.join(ANCHORS)}."
            )
        if not 2 <= self.steps <= 20:
            raise ConfigError(f"Paths need 2 to 20 steps; got {self.steps}.")
        if not 0 <= self.min_share < 1 or self.max_nodes < 1:
            raise ConfigError(
                "Rare touchpoints are grouped by a share from 0 to 1 and a number of "
                f"touchpoints of at least 1; got {self.min_share} and {self.max_nodes}."
            )


LONGEST = 20  # touchpoints kept per customer and anchor: the most steps a path may have


def sequences(steps: pl.DataFrame, purchase_stage: str = "purchase") -> pl.DataFrame:
    """Each customer's touchpoints from every anchor, cut to `LONGEST` (what paths are made
    of; stored per data version for all dates): customer_id; `start`, `start_raw` (from
    the first touchpoint, repeats collapsed or kept); `after`, `after_raw` (from the first
    purchase, buyers only); `end`, `end_raw` (the last ones, of journeys without a
    purchase); bought, bought_again, detractor (any NPS detractor answer)."""
    unhappy = (
        steps.filter(pl.col("nps") <= rules.DETRACTOR_TO)
        .select("customer_id", detractor=pl.lit(True))
        .unique()
    )
    ordered = (
        steps.filter(pl.col("in_path"))
        .group_by("customer_id", maintain_order=True)
        .agg("touchpoint", bought=pl.col("stage") == purchase_stage)
        .join(unhappy, on="customer_id", how="left")
    )
    first = pl.col("bought").list.arg_max()
    every = pl.col("touchpoint")
    after = every.list.slice(first)
    return ordered.select(
        "customer_id",
        start=_collapse(every, True).list.head(LONGEST),
        start_raw=every.list.head(LONGEST),
        after=pl.when(pl.col("bought").list.any()).then(_collapse(after, True).list.head(LONGEST)),
        after_raw=pl.when(pl.col("bought").list.any()).then(after.list.head(LONGEST)),
        end=pl.when(~pl.col("bought").list.any()).then(_collapse(every, True).list.tail(LONGEST)),
        end_raw=pl.when(~pl.col("bought").list.any()).then(every.list.tail(LONGEST)),
        bought=pl.col("bought").list.any(),
        bought_again=pl.col("bought").list.slice(first + 1).list.any(),
        detractor=pl.col("detractor").fill_null(False),
    )


def journey_paths(
    steps: pl.DataFrame, options: PathOptions, purchase_stage: str = "purchase"
) -> pl.DataFrame:
    """Each customer's path from the anchor: customer_id, path (list of touchpoints, rare
    ones as "Other"), converted (bool), detractor (any NPS detractor answer in view)."""
    return paths_from(sequences(steps, purchase_stage), options)


def sequence_column(options: PathOptions) -> str:
    """The `sequences` column a path of these options is cut from."""
    column = {"start": "start", "first_purchase": "after", "no_purchase": "end"}[options.anchor]
    return column if options.collapse else f"{column}_raw"


def paths_from(cut: pl.DataFrame, options: PathOptions) -> pl.DataFrame:
    """`journey_paths` from the customers' `sequences` (at least its `sequence_column`,
    bought, bought_again and detractor)."""
    column = sequence_column(options)
    converted = {
        "start": pl.col("bought"),
        "first_purchase": pl.col("bought_again"),
        "no_purchase": pl.lit(False),
    }[options.anchor]
    chosen = pl.col(column)
    path = (
        chosen.list.tail(options.steps)
        if options.anchor == "no_purchase"
        else chosen.list.head(options.steps)
    )
    paths = cut.filter(pl.col(column).is_not_null()).select(
        "customer_id", "detractor", path=path, converted=converted
    )
    kept = _common_nodes(paths, options)
    mapped = pl.col("path").list.eval(
        pl.when(pl.element().is_in(kept)).then(pl.element()).otherwise(pl.lit(OTHER))
    )
    paths = paths.with_columns(path=mapped).select("customer_id", "path", "converted", "detractor")
    if not options.collapse:
        return paths
    # The sequences are collapsed already: only where grouping made "Other" follow "Other"
    # is there anything left to collapse (and collapsing lists is slow: do only those).
    joined = pl.col("path").list.join(SEPARATOR)
    again = paths.with_columns(_again=joined.str.contains(OTHER + SEPARATOR + OTHER, literal=True))
    parts = again.partition_by("_again", as_dict=True, include_key=False)
    untouched = parts.get((False,), again.clear().drop("_again"))
    if (True,) not in parts:
        return untouched
    return pl.concat([untouched, parts[(True,)].with_columns(path=_collapse(pl.col("path"), True))])


def _collapse(path: pl.Expr, collapse: bool) -> pl.Expr:
    if not collapse:
        return path
    return path.list.eval(pl.element().filter(pl.element().ne_missing(pl.element().shift(1))))


def _common_nodes(paths: pl.DataFrame, options: PathOptions) -> list[str]:
    """Touchpoints on at least `min_share` of the journeys, the `max_nodes` most used."""
    if paths.is_empty():
        return []
    used = (
        paths.select("customer_id", node=pl.col("path").list.unique())
        .explode("node")
        .drop_nulls("node")
        .group_by("node")
        .agg(journeys=pl.len())
        .filter(pl.col("journeys") >= options.min_share * paths.height)
        .sort(["journeys", "node"], descending=[True, False])
        .head(options.max_nodes)
    )
    return [str(n) for n in used["node"].to_list()]


def path_table(paths: pl.DataFrame, limit: int = 20) -> pl.DataFrame:
    """The `limit` most common paths (`PATHS_SCHEMA`), most customers first."""
    total = paths.height
    if total == 0:
        return pl.DataFrame(schema=PATHS_SCHEMA)
    return (
        paths.group_by("path")
        .agg(customers=pl.len(), conversion=pl.col("converted").mean())
        .with_columns(share=pl.col("customers") / total, _text=pl.col("path").list.join(" > "))
        .sort(["customers", "_text"], descending=[True, False])
        .head(limit)
        .select(PATHS_SCHEMA.names())
        .cast(PATHS_SCHEMA)
    )


def link_table(paths: pl.DataFrame) -> pl.DataFrame:
    """Every link between consecutive touchpoints of the paths (`LINKS_SCHEMA`)."""
    total = paths.height
    if total == 0:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    longest = int(paths.select(pl.col("path").list.len().max()).item() or 0)
    parts = []
    for step in range(1, longest):
        pairs = paths.select(
            "converted",
            "detractor",
            source=pl.col("path").list.get(step - 1, null_on_oob=True),
            target=pl.col("path").list.get(step, null_on_oob=True),
        ).filter(pl.col("source").is_not_null())
        at_source = pairs.group_by("source").agg(at_source=pl.len())
        parts.append(
            pairs.drop_nulls("target")
            .group_by("source", "target")
            .agg(
                customers=pl.len(),
                converted=pl.col("converted").mean(),
                detractors=pl.col("detractor").mean(),
            )
            .join(at_source, on="source")
            .with_columns(step=pl.lit(step, pl.Int64))
        )
    if not parts:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    return (
        pl.concat(parts)
        .with_columns(
            conversion_step=pl.col("customers") / pl.col("at_source"),
            conversion_overall=pl.col("customers") / total,
        )
        .sort(["step", "customers", "source", "target"], descending=[False, True, False, False])
        .select(LINKS_SCHEMA.names())
        .cast(LINKS_SCHEMA)
    )
