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


def journey_paths(
    steps: pl.DataFrame, options: PathOptions, purchase_stage: str = "purchase"
) -> pl.DataFrame:
    """Each customer's path from the anchor: customer_id, path (list of touchpoints, rare
    ones as "Other"), converted (bool), detractor (any NPS detractor answer in view)."""
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
        .with_columns(pl.col("detractor").fill_null(False))
    )
    first = pl.col("bought").list.arg_max()
    if options.anchor == "start":
        chosen = ordered.select(
            "customer_id", "touchpoint", "detractor", converted=pl.col("bought").list.any()
        )
    elif options.anchor == "first_purchase":
        chosen = ordered.filter(pl.col("bought").list.any()).select(
            "customer_id",
            "detractor",
            touchpoint=pl.col("touchpoint").list.slice(first),
            converted=pl.col("bought").list.slice(first + 1).list.any(),
        )
    else:
        chosen = ordered.filter(~pl.col("bought").list.any()).select(
            "customer_id", "touchpoint", "detractor", converted=pl.lit(False)
        )
    cut = _collapse(pl.col("touchpoint"), options.collapse)
    cut = (
        cut.list.tail(options.steps)
        if options.anchor == "no_purchase"
        else cut.list.head(options.steps)
    )
    paths = chosen.with_columns(path=cut).select("customer_id", "path", "converted", "detractor")
    kept = _common_nodes(paths, options)
    mapped = pl.col("path").list.eval(
        pl.when(pl.element().is_in(kept)).then(pl.element()).otherwise(pl.lit(OTHER))
    )
    return paths.with_columns(path=_collapse(mapped, options.collapse))


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
    nodes = (
        paths.select("customer_id", "converted", "detractor", node=pl.col("path"))
        .explode("node")
        .with_columns(step=pl.int_range(1, pl.len() + 1).over("customer_id"))
        .drop_nulls("node")
    )
    at_node = nodes.group_by("step", "node").agg(at_source=pl.len())
    pairs = nodes.join(
        nodes.select("customer_id", step=pl.col("step") - 1, target="node"),
        on=["customer_id", "step"],
    )
    return (
        pairs.group_by("step", source="node", target="target")
        .agg(
            customers=pl.len(),
            converted=pl.col("converted").mean(),
            detractors=pl.col("detractor").mean(),
        )
        .join(at_node, left_on=["step", "source"], right_on=["step", "node"])
        .with_columns(
            conversion_step=pl.col("customers") / pl.col("at_source"),
            conversion_overall=pl.col("customers") / total,
        )
        .sort(["step", "customers", "source", "target"], descending=[False, True, False, False])
        .select(LINKS_SCHEMA.names())
        .cast(LINKS_SCHEMA)
    )
