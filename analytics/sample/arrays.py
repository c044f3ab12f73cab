"""Vectorised numpy helpers shared by the sample generators."""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def time_of_day(rng: np.random.Generator, n: int) -> FloatArray:
    """Fraction of a day between 07:00 and 23:00, when customers act."""
    return rng.uniform(7 / 24, 23 / 24, n)


def sample_days(
    rng: np.random.Generator, weights: FloatArray, lo: IntArray, hi: IntArray
) -> IntArray:
    """One day per row in [lo, hi] (inclusive), with probability proportional to `weights`."""
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    target = cdf[lo] + rng.random(lo.size) * (cdf[hi + 1] - cdf[lo])
    day = np.searchsorted(cdf, target, side="right") - 1
    return np.clip(day, lo, hi).astype(np.int64)


def choose_rows(rng: np.random.Generator, probabilities: FloatArray) -> IntArray:
    """One category per row, each row with its own probabilities."""
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative /= cumulative[:, -1:]
    u = rng.random((probabilities.shape[0], 1))
    return (u > cumulative).sum(axis=1).astype(np.int64)


def segment_cumsum(values: FloatArray, counts: IntArray) -> FloatArray:
    """Cumulative sum of `values` restarting at each segment of lengths `counts`."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    starts = np.cumsum(counts) - counts
    return total[1:] - np.repeat(total[starts], counts)


def nullable_int(values: FloatArray) -> pl.Series:
    """Int64 series with nulls where `values` is NaN."""
    missing = np.isnan(values)
    series = pl.Series(np.nan_to_num(values).astype(np.int64))
    return series.set(pl.Series(missing), None) if missing.any() else series
