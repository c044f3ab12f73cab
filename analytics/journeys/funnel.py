"""The stage funnel: how many customers reach each stage in order, the conversion and drop-off
at every step, and the time between steps.

A customer enters the funnel at their first touchpoint of the first stage; they reach each
next stage at its first touchpoint after they reached the one before (an ordered funnel, as
product-analytics tools count it). Conversion from the previous step is the share of those
who reached the previous stage that reached this one; from the start, the share of those
who entered. Times are in days between reaching the previous stage and reaching this one.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

FUNNEL_SCHEMA = pl.Schema(
    {
        "group": pl.String(),
        "step": pl.Int64(),
        "stage": pl.String(),
        "customers": pl.Int64(),
        "conversion_from_previous": pl.Float64(),
        "conversion_from_start": pl.Float64(),
        "median_days_from_previous": pl.Float64(),
        "p90_days_from_previous": pl.Float64(),
    }
)
ALL = "all"  # the group of every customer when nothing is compared


def reached(steps: pl.DataFrame, stages: Sequence[str]) -> pl.DataFrame:
    """When each customer reached each stage of the ordered funnel: customer_id, step (1 =
    the first stage), stage, at, days (since the previous step; null at step 1)."""
    staged = steps.filter(pl.col("in_path") & pl.col("stage").is_not_null()).select(
        "customer_id", "at", "stage"
    )
    first = stages[0]
    current = (
        staged.filter(pl.col("stage") == first)
        .group_by("customer_id")
        .agg(pl.col("at").min())
        .with_columns(step=pl.lit(1, pl.Int64), stage=pl.lit(first), days=pl.lit(None, pl.Float64))
    )
    parts = [current]
    for number, stage in enumerate(stages[1:], start=2):
        current = (
            staged.filter(pl.col("stage") == stage)
            .join(current.select("customer_id", before="at"), on="customer_id")
            .filter(pl.col("at") >= pl.col("before"))
            .group_by("customer_id")
            .agg(pl.col("at").min(), pl.col("before").first())
            .with_columns(
                step=pl.lit(number, pl.Int64),
                stage=pl.lit(stage),
                days=(pl.col("at") - pl.col("before")).dt.total_seconds() / 86_400,
            )
            .drop("before")
        )
        parts.append(current)
    return pl.concat(parts, how="diagonal").select("customer_id", "step", "stage", "at", "days")


def funnel(reach: pl.DataFrame, groups: pl.DataFrame, stages: Sequence[str]) -> pl.DataFrame:
    """One row per group and stage (`FUNNEL_SCHEMA`), from `reached` and each customer's
    group (`groups`: customer_id, group); groups in order of entrants, most first."""
    joined = in_groups(reach, groups)
    counted = (
        joined.group_by("group", "step")
        .agg(
            customers=pl.len(),
            median_days_from_previous=pl.col("days").median(),
            p90_days_from_previous=pl.col("days").quantile(0.9, interpolation="linear"),
        )
        .with_columns(pl.col("group").cast(pl.String))
    )
    names = groups.select(pl.col("group").unique())
    grid = names.join(
        pl.DataFrame({"step": range(1, len(stages) + 1), "stage": list(stages)}).cast(
            {"step": pl.Int64}
        ),
        how="cross",
    )
    table = (
        grid.join(counted, on=["group", "step"], how="left")
        .with_columns(pl.col("customers").fill_null(0).cast(pl.Int64))
        .sort("group", "step")
        .with_columns(
            entered=pl.col("customers").first().over("group"),
            previous=pl.col("customers").shift(1).over("group"),
        )
        .with_columns(
            conversion_from_previous=_share(pl.col("customers"), pl.col("previous")),
            conversion_from_start=_share(pl.col("customers"), pl.col("entered")),
        )
        .with_columns(
            pl.when(pl.col("step") == 1)
            .then(None)
            .otherwise(pl.col("conversion_from_previous"))
            .alias("conversion_from_previous")
        )
    )
    size = table.filter(pl.col("step") == 1).select("group", size="customers")
    return (
        table.join(size, on="group")
        .sort(["size", "group", "step"], descending=[True, False, False])
        .select(FUNNEL_SCHEMA.names())
        .cast(FUNNEL_SCHEMA)
    )


def in_groups(frame: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """`frame`'s rows of the customers in `groups`, with their `group` (customer_id, group).
    One group (nothing compared) is a filter; several are joined as categories, which keeps
    a join of millions of rows light."""
    names = groups["group"].unique()
    if names.len() == 1:
        chosen = (
            frame
            if _every_key(groups["customer_id"], frame["customer_id"])
            else frame.join(groups.select("customer_id"), on="customer_id", how="semi")
        )
        return chosen.with_columns(group=pl.lit(names[0], dtype=pl.String))
    return frame.join(
        groups.select("customer_id", pl.col("group").cast(pl.Categorical)), on="customer_id"
    )


def _every_key(keys: pl.Series, customers: pl.Series) -> bool:
    """Whether `keys` are 0, 1, ... n - 1 (every customer of a build: `totals.everyone`) and
    `customers` among them: then a frame of theirs needs no join to be narrowed to them."""
    if not (keys.dtype.is_integer() and customers.dtype.is_integer()) or keys.is_empty():
        return False
    if keys[0] != 0 or keys[-1] != keys.len() - 1:  # at a glance, before reading them all
        return False
    if customers.null_count() or not customers.is_between(0, keys.len() - 1).all():
        return False
    return bool((keys.diff().drop_nulls() == 1).all())


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then(part / whole)
