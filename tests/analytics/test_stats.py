"""Intervals and two-period tests against reference numbers computed independently.

References:

- Wilson score interval, z = 1.959964: 8/10 -> [0.4902, 0.9433]; 0/10 -> [0, z²/(n + z²)] =
  [0, 0.2775]; 10/10 -> [n/(n + z²), 1] = [0.7225, 1]; 5/10 -> [0.2366, 0.7634].
- Student t: mean 10, sd 2, n 5 -> 10 ± t(0.975, 4) · 2/√5 = 10 ± 2.776445 · 0.894427 =
  10 ± 2.483328 -> [7.516672, 12.483328].
- NPS, se = 100 · √((p + q − (p − q)²) / n): 5 promoters, 2 detractors of 10 -> p 0.5, q 0.2,
  √(0.61/10) = 0.246982 -> se 24.6982, NPS 30 ± 1.959964 · 24.6982 = [−18.4075, 78.4075].
  9 of 10 promoters -> √(0.09/10) -> se 9.4868, 90 ± 18.5939 -> [71.4061, 100] (clamped).
- Median, order statistics ranks floor(n/2 − 1.96·√n/2) and ceil(1 + n/2 + 1.96·√n/2):
  n 10 -> 1, 10; n 30 -> 9, 22; n 100 -> 40, 61 (Conover's table gives 40 and 61 too).
- Changes: NPS (5, 2, 10) -> (2, 5, 10): diff −60, se √2 · 24.6982 = 34.9284, z 1.7178,
  p 0.08583. Proportions 8/10 -> 2/10: pooled 0.5, se √(0.25 · 0.2) = 0.22361, z 2.6833,
  p 0.0072904 (equal to the chi-square test without continuity correction).
  Welch: (10, 2, 5) vs (14, 3, 8): t −2.8830, p 0.015053 (scipy's ttest_ind_from_stats).
"""

import math

import pytest

from analytics import stats

FRACTION = 5e-5  # the references above are given to four decimals on the 0–1 scale


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.27753),
        (10, 10, 0.72247, 1.0),
        (5, 10, 0.23659, 0.76341),
        (1, 2, 0.09453, 0.90547),
    ],
)
def test_wilson_interval_matches_reference(successes, n, low, high):
    interval = stats.wilson_interval(successes, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=FRACTION)
    assert interval.high == pytest.approx(high, abs=FRACTION)
    # Contains the observed share (up to rounding: 10/10 gives 1 − 1e-16) and stays in [0, 1].
    assert 0.0 <= interval.low <= successes / n + 1e-12
    assert successes / n - 1e-12 <= interval.high <= 1.0


def test_wilson_interval_without_observations_is_none():
    assert stats.wilson_interval(0, 0) is None


def test_mean_interval_is_student_t():
    interval = stats.mean_interval(10.0, 2.0, 5)
    assert interval is not None
    assert interval.low == pytest.approx(7.516672, abs=1e-6)
    assert interval.high == pytest.approx(12.483328, abs=1e-6)


@pytest.mark.parametrize(("sd", "n"), [(2.0, 1), (2.0, 0), (math.nan, 5)])
def test_mean_interval_needs_two_observations_and_a_finite_sd(sd, n):
    assert stats.mean_interval(10.0, sd, n) is None


def test_sample_sd_from_sum_and_sum_of_squares():
    values = [2, 4, 4, 4, 5, 5, 7, 9]  # sample sd 2.138090 (n − 1 in the denominator)
    total, squares = sum(values), sum(v * v for v in values)
    assert stats.sample_sd(total, squares, len(values)) == pytest.approx(2.138090, abs=1e-6)
    assert math.isnan(stats.sample_sd(5.0, 25.0, 1))


@pytest.mark.parametrize(
    ("promoters", "detractors", "n", "low", "high"),
    [
        (5, 2, 10, -18.4075, 78.4075),
        (9, 0, 10, 71.4061, 100.0),  # upper bound 108.59 clamped
        (10, 0, 10, 100.0, 100.0),  # se 0: all promoters
        (0, 10, 10, -100.0, -100.0),  # se 0: all detractors
        (2, 1, 4, -56.2558, 100.0),  # upper bound 106.26 clamped
    ],
)
def test_nps_interval_matches_reference(promoters, detractors, n, low, high):
    interval = stats.nps_interval(promoters, detractors, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=1e-3)
    assert interval.high == pytest.approx(high, abs=1e-3)
    assert -100.0 <= interval.low <= interval.high <= 100.0


def test_nps_interval_without_responses_is_none():
    assert stats.nps_interval(0, 0, 0) is None


@pytest.mark.parametrize(
    ("n", "low_rank", "high_rank"),
    [(1, 1, 1), (2, 1, 2), (4, 1, 4), (10, 1, 10), (30, 9, 22), (100, 40, 61)],
)
def test_median_interval_uses_order_statistic_ranks(n, low_rank, high_rank):
    values = [float(10 * rank) for rank in range(1, n + 1)]  # value = 10 × its 1-based rank
    interval = stats.median_interval(values)
    assert interval is not None
    assert (interval.low, interval.high) == (10.0 * low_rank, 10.0 * high_rank)


# Regression (fixed): median_interval computes the ranks with z = 1.959964, not the specified
# 1.96; for n =1666 that gives ranks 793 and 874 instead of 792 and 875
def test_median_interval_ranks_use_1_96_as_specified():
    # n 1666: n/2 ∓ 1.96·√n/2 = 833 ∓ 40.0006 -> floor 792.9994 = 792, ceil 874.0006 + 1 = 875.
    interval = stats.median_interval([float(rank) for rank in range(1, 1667)])
    assert interval is not None
    assert (interval.low, interval.high) == (792.0, 875.0)


def test_median_interval_of_nothing_is_none():
    assert stats.median_interval([]) is None


def test_nps_change_uses_combined_standard_error():
    p_value = stats.nps_change_p((5, 2, 10), (2, 5, 10))
    assert p_value == pytest.approx(0.085834, abs=1e-6)
    assert stats.significant(p_value) is False


def test_nps_change_against_an_empty_period_is_not_tested():
    assert stats.nps_change_p((5, 2, 10), (0, 0, 0)) is None


def test_samples_without_any_variance_that_differ_are_not_called_certain():
    # One promoter, then one passive: each sample's variance is zero, the difference is not
    # evidence of anything (it read as p = 0, a "significant" 100-point rise, before).
    assert stats.nps_change_p((0, 0, 1), (1, 0, 1)) is None
    assert stats.nps_change_p((1, 0, 1), (1, 0, 1)) == 1.0
    assert stats.significant(stats.nps_change_p((0, 0, 1), (1, 0, 1))) is None


@pytest.mark.parametrize(
    ("before", "after", "p_value", "is_significant"),
    [
        ((8, 10), (2, 10), 0.0072904, True),
        ((6, 10), (5, 10), 0.653095, False),
    ],
)
def test_proportion_change_is_pooled_two_proportion_z(before, after, p_value, is_significant):
    result = stats.proportion_change_p(before, after)
    assert result == pytest.approx(p_value, abs=1e-6)
    assert stats.significant(result) is is_significant


def test_proportion_change_against_an_empty_period_is_not_tested():
    assert stats.proportion_change_p((3, 10), (0, 0)) is None


@pytest.mark.parametrize(
    ("after", "p_value", "is_significant"),
    [((14.0, 3.0, 8), 0.0150531, True), ((11.0, 3.0, 8), 0.4862707, False)],
)
def test_mean_change_is_welch_t(after, p_value, is_significant):
    result = stats.mean_change_p((10.0, 2.0, 5), after)
    assert result == pytest.approx(p_value, abs=1e-6)
    assert stats.significant(result) is is_significant


def test_mean_change_needs_two_observations_on_each_side():
    assert stats.mean_change_p((10.0, math.nan, 1), (12.0, 2.0, 5)) is None


@pytest.mark.parametrize(
    ("p_value", "expected"), [(None, None), (0.0499, True), (0.0501, False), (0.5, False)]
)
def test_significance_is_two_sided_five_percent(p_value, expected):
    assert stats.significant(p_value) is expected


def test_small_sample_threshold_is_thirty():
    assert stats.SMALL_SAMPLE == 30


@pytest.mark.parametrize("total", [1, 2, 3, 7, 10, 25, 100, 101, 1_369, 5_000])
def test_count_change_is_scipys_exact_binomial_test(total):
    from scipy.stats import binomtest  # the reference; the module itself does not import it

    for before in range(0, total + 1, max(1, total // 40)):
        after = total - before
        expected = binomtest(after, total, 0.5).pvalue
        assert stats.count_change_p(before, after) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_count_change_of_equal_counts_and_of_nothing():
    assert stats.count_change_p(10, 10) == 1.0
    assert stats.count_change_p(0, 1) == 1.0  # one event: no evidence of a change
    assert stats.count_change_p(40, 60) == pytest.approx(0.056887, abs=1e-6)
    assert stats.count_change_p(0, 0) is None
