"""Key drivers: which ratings and operational facts explain a score (NPS, CSAT, CES), by
relative weights (Johnson 2000), and where each stands on an importance-performance grid.

Relative weights split a linear model's R-squared among drivers that are correlated with
each other, which plain regression coefficients cannot: the drivers are replaced by their
closest orthogonal counterparts (Z = X R^-1/2), the score is regressed on those, and each
driver's weight is the variance it carries into them (the sum over k of lambda_jk^2 * beta_k^2,
lambda = R^1/2). The weights sum to the model's R-squared; `importance` is each one's share
of it (summing to 1). Results match a Shapley value (dominance) decomposition closely at a
fraction of its cost (Johnson & LeBreton 2004).

Performance is a driver's mean on a 0-1 scale (its lowest possible value to its highest;
ratings 1-5 give (mean - 1) / 4). The quadrant compares both with the drivers' averages:
important and performing below average = "fix first", important and above = "keep up",
less important and above = "over-invested", less important and below = "nice to have".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.errors import ConfigError

QUADRANTS = ("fix first", "keep up", "nice to have", "over-invested")
MIN_RESPONSES = 30  # per driver in the model, at the least
DRIVERS_SCHEMA = pl.Schema(
    {
        "driver": pl.String(),
        "importance": pl.Float64(),  # share of the R-squared, summing to 1
        "weight": pl.Float64(),  # raw relative weight, summing to the R-squared
        "performance": pl.Float64(),
        "quadrant": pl.String(),
    }
)


@dataclass(frozen=True)
class DriverModel:
    table: pl.DataFrame  # DRIVERS_SCHEMA, most important first
    r2: float
    n: int


def relative_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's relative weights of the columns of `x` for `y`, and the R-squared."""
    xs = _standardise(x)
    ys = _standardise(y[:, None])[:, 0]
    n = len(ys)
    corr = (xs.T @ xs) / (n - 1)
    values, vectors = np.linalg.eigh(corr)
    values = np.clip(values, 0, None)
    root = vectors @ np.diag(np.sqrt(values)) @ vectors.T  # lambda = R^1/2
    xy = (xs.T @ ys) / (n - 1)
    beta = np.linalg.lstsq(root, xy, rcond=None)[0]  # the score on the orthogonal Z
    weights = (root**2) @ (beta**2)
    return weights, float(weights.sum())


def _standardise(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    spread = centred.std(axis=0, ddof=1)
    if np.any(spread == 0):
        raise ConfigError("A driver or the score does not vary: nothing can be explained.")
    return centred / spread


def key_drivers(
    frame: pl.DataFrame,
    target: str,
    drivers: Sequence[str],
    scales: Mapping[str, tuple[float, float]],
    categories: Sequence[str] = (),
) -> DriverModel:
    """Relative importance of `drivers` (numeric columns of `frame`) and `categories` (text
    columns) for `target`, over the rows where the target and every driver are known;
    `scales` gives each numeric driver's lowest and highest possible value (for
    performance). A category enters as one indicator per value but the most common, and its
    importance is theirs added up; it has no performance (and so no quadrant)."""
    complete = frame.select(target, *drivers, *categories).drop_nulls()
    indicators: dict[str, list[str]] = {}
    for category in categories:
        values = complete[category].value_counts(sort=True)[category].to_list()
        if len(values) < 2:
            continue
        names = [f"{category}={v}" for v in values[1:]]
        indicators[category] = names
        complete = complete.with_columns(
            (pl.col(category) == v).cast(pl.Float64).alias(n)
            for v, n in zip(values[1:], names, strict=True)
        )
    complete = complete.drop(categories)
    drivers = [*drivers, *(n for names in indicators.values() for n in names)]
    usable = [d for d in drivers if complete[d].n_unique() > 1]
    if not usable:
        raise ConfigError("No driver varies among the responses: nothing can be explained.")
    complete = complete.select(target, *usable)
    if complete.height < max(MIN_RESPONSES, 10 * len(usable)):
        raise ConfigError(
            f"Key drivers need at least {max(MIN_RESPONSES, 10 * len(usable))} responses "
            f"with the {target} score and every driver; there are {complete.height}."
        )
    x = complete.select(usable).to_numpy().astype(np.float64)
    y = complete[target].to_numpy().astype(np.float64)
    weights, r2 = relative_weights(x, y)
    low = np.array([scales.get(d, (0.0, 1.0))[0] for d in usable])
    high = np.array([scales.get(d, (0.0, 1.0))[1] for d in usable])
    performance = (x.mean(axis=0) - low) / np.where(high > low, high - low, 1)
    importance = weights / r2 if r2 > 0 else np.zeros_like(weights)
    owner = {n: c for c, names in indicators.items() for n in names}
    table = (
        pl.DataFrame(
            {
                "driver": [owner.get(d, d) for d in usable],
                "importance": importance,
                "weight": weights,
                "performance": [None if d in owner else p for d, p in zip(usable, performance,
                                                                          strict=True)],
            },
            schema={"driver": pl.String, "importance": pl.Float64, "weight": pl.Float64,
                    "performance": pl.Float64},
        )
        .group_by("driver", maintain_order=True)
        .agg(pl.col("importance", "weight").sum(), pl.col("performance").first())
    )  # fmt: skip
    rated = (
        table.filter(pl.col("performance").is_not_null())
        .with_columns(quadrant=_quadrant(pl.col("importance"), pl.col("performance")))
        .select("driver", "quadrant")
    )
    table = table.join(rated, on="driver", how="left", maintain_order="left")
    return DriverModel(
        table.sort(["importance", "driver"], descending=[True, False])
        .select(DRIVERS_SCHEMA.names())
        .cast(DRIVERS_SCHEMA),
        r2,
        complete.height,
    )


def _quadrant(importance: pl.Expr, performance: pl.Expr) -> pl.Expr:
    important = importance >= importance.mean()
    performing = performance >= performance.mean()
    return (
        pl.when(important & ~performing)
        .then(pl.lit("fix first"))
        .when(important)
        .then(pl.lit("keep up"))
        .when(performing)
        .then(pl.lit("over-invested"))
        .otherwise(pl.lit("nice to have"))
    )
