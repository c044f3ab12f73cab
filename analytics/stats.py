"""Honest uncertainty: confidence intervals and two-period tests for KPI estimates.

Every interval is 95 % and every test two-sided at 5 %:

- NPS: normal interval with standard error sqrt((p + q − (p − q)²) / n), where p and q are the
  promoter and detractor shares; a change is tested with z = Δ / sqrt(se₁² + se₂²).
- Proportions: Wilson score interval; changes by the two-proportion z-test (pooled).
- Means: Student t interval; changes by Welch's t-test.
- Medians: distribution-free interval from order statistics; a change counts as significant
  only when the two intervals do not overlap (a conservative test).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# scipy.special's distribution functions (what scipy.stats' normal and t call), not
# scipy.stats itself: a third of a second less to start the command line.
from scipy import special

CONFIDENCE = 0.95
ALPHA = 0.05
SMALL_SAMPLE = 30
_Z = float(special.ndtri(1 - ALPHA / 2))
_MEDIAN_Z = 1.96  # the rank rule is stated with 1.96 (docs/metrics.md)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def nps_interval(promoters: int, detractors: int, n: int) -> Interval | None:
    """95 % interval of NPS (on the −100..100 scale) from promoter and detractor counts."""
    if n <= 0:
        return None
    se = _nps_se(promoters, detractors, n)
    value = 100.0 * (promoters - detractors) / n
    return Interval(max(-100.0, value - _Z * se), min(100.0, value + _Z * se))


def _nps_se(promoters: int, detractors: int, n: int) -> float:
    p, q = promoters / n, detractors / n
    return 100.0 * math.sqrt(max(p + q - (p - q) ** 2, 0.0) / n)


def wilson_interval(successes: int, n: int) -> Interval | None:
    """95 % Wilson score interval of a proportion, as a share (0..1)."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + _Z**2 / n
    centre = (p + _Z**2 / (2 * n)) / denominator
    half = _Z * math.sqrt(p * (1 - p) / n + _Z**2 / (4 * n**2)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(mean: float, sd: float, n: int) -> Interval | None:
    """95 % Student t interval of a mean; None below two observations."""
    if n < 2 or not math.isfinite(sd):
        return None
    half = float(special.stdtrit(n - 1, 1 - ALPHA / 2)) * sd / math.sqrt(n)
    return Interval(mean - half, mean + half)


def median_interval(sorted_values: list[float]) -> Interval | None:
    """95 % distribution-free interval of the median from the order statistics.

    Ranks n/2 ∓ 1.96·√n/2 (normal approximation to the binomial), clamped to the data.
    """
    n = len(sorted_values)
    if n == 0:
        return None
    half_width = _MEDIAN_Z * math.sqrt(n) / 2
    low_rank = max(1, math.floor(n / 2 - half_width))
    high_rank = min(n, math.ceil(1 + n / 2 + half_width))
    return Interval(sorted_values[low_rank - 1], sorted_values[high_rank - 1])


def sample_sd(total: float, sum_squares: float, n: int) -> float:
    """Sample standard deviation from a sum and a sum of squares."""
    if n < 2:
        return math.nan
    variance = (sum_squares - total * total / n) / (n - 1)
    return math.sqrt(max(variance, 0.0))


# ----- two-period tests: p-values -------------------------------------------------------


def nps_change_p(a: tuple[int, int, int], b: tuple[int, int, int]) -> float | None:
    """p-value of the NPS change between (promoters, detractors, n) samples a and b."""
    if a[2] <= 0 or b[2] <= 0:
        return None
    se = math.hypot(_nps_se(*a), _nps_se(*b))
    diff = 100.0 * ((b[0] - b[1]) / b[2] - (a[0] - a[1]) / a[2])
    return _z_p(diff, se)


def proportion_change_p(a: tuple[int, int], b: tuple[int, int]) -> float | None:
    """p-value of the change between proportions (successes, n) a and b (pooled z-test)."""
    (ka, na), (kb, nb) = a, b
    if na <= 0 or nb <= 0:
        return None
    pooled = (ka + kb) / (na + nb)
    se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    return _z_p(kb / nb - ka / na, se)


def count_change_p(a: float, b: float) -> float | None:
    """p-value that counts a and b come from the same Poisson rate: the exact binomial test
    of one count given their sum."""
    ka, kb = round(a), round(b)
    if ka < 0 or kb < 0 or ka + kb == 0:
        return None
    # With p = 1/2 the binomial is symmetric: the outcomes no likelier than the one seen are
    # both tails beyond it, so the two-sided p is twice the smaller tail (scipy.stats'
    # binomtest gives the same; importing scipy.stats took 0.5 s of the review's first open).
    return min(1.0, float(2 * special.bdtr(min(ka, kb), ka + kb, 0.5)))


def mean_change_p(a: tuple[float, float, int], b: tuple[float, float, int]) -> float | None:
    """p-value of Welch's t-test between (mean, sd, n) samples a and b."""
    (ma, sa, na), (mb, sb, nb) = a, b
    if na < 2 or nb < 2 or not (math.isfinite(sa) and math.isfinite(sb)):
        return None
    va, vb = sa * sa / na, sb * sb / nb
    if va + vb == 0:
        return 1.0 if ma == mb else 0.0
    t = (mb - ma) / math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return float(2 * special.stdtr(dof, -abs(t)))


def _z_p(diff: float, se: float) -> float | None:
    """Two-sided p-value of a z statistic; None when the samples show no variance at all
    but differ (one promoter against one passive): there is nothing to scale the
    difference by, and calling it certain would be wrong."""
    if se == 0:
        return 1.0 if diff == 0 else None
    return float(2 * special.ndtr(-abs(diff) / se))


def significant(p_value: float | None) -> bool | None:
    """Whether a p-value is below 5 %; None when there was nothing to test."""
    return None if p_value is None else p_value < ALPHA
