"""Predictive customer lifetime value: BG/NBD for repeat purchases and P(alive), Gamma-Gamma
for spend, fitted by maximum likelihood with scipy.

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive, a
  customer buys at a Poisson rate λ ~ Gamma(r, α); after every purchase they drop out with
  probability p ~ Beta(a, b).
- Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"): a customer's
  purchases are Gamma(p, ν) with ν ~ Gamma(q, γ), independent of the purchase process.

Both are fitted on a calibration summary per customer (`rfm_summary`): `frequency` x (repeat
purchases: days with a purchase after the first), `recency` t_x (time from the first purchase
to the last), `T` (time from the first purchase to the end of calibration) and `monetary`
(mean spend per repeat purchase day), in `unit_days` units (weeks by default). Purchases on
the same day are one purchase, as in the published analyses.

The likelihoods are a few dozen lines with analytic gradients; the special functions are
evaluated on the distinct values of x, t_x and T only, so a million customers fit in seconds.
`lifetimes` (archived) and pymc-marketing (large, compiled) do the same; on the CDNOW sample
this module reproduces the published parameters (tests/analytics/test_clv.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from scipy import special

from analytics.errors import ConfigError

Z95 = 1.959963984540054
BGNBD_NAMES = ("r", "alpha", "a", "b")
GAMMA_GAMMA_NAMES = ("p", "q", "gamma")

SUMMARY_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "frequency": pl.Int64(),
        "recency": pl.Float64(),
        "T": pl.Float64(),
        "monetary": pl.Float64(),
    }
)


def rfm_summary(
    transactions: pl.DataFrame,
    *,
    observation_end: date,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    unit_days: float = 7.0,
) -> pl.DataFrame:
    """Per customer: frequency, recency, T and monetary value as the models need them.

    Parameters
    ----------
    transactions : polars.DataFrame
        One row per purchase, with the customer, a date and an amount column. Rows after
        `observation_end` are ignored.
    observation_end : date
        The end of the observation (calibration) period, inclusive.
    customer_id_col, date_col, amount_col : str
        Column names.
    unit_days : float
        Days per time unit (7: weeks).

    Returns
    -------
    polars.DataFrame
        `SUMMARY_SCHEMA`, one row per customer with a purchase up to `observation_end`:
        `frequency` (purchase days after the first), `recency` (first to last purchase),
        `T` (first purchase to the end), in units, and `monetary` (mean amount per repeat
        purchase day; 0 without repeats).
    """
    _require(transactions, (customer_id_col, date_col, amount_col))
    days = (
        transactions.lazy()
        .select(
            pl.col(customer_id_col).cast(pl.String).alias("customer_id"),
            pl.col(date_col).cast(pl.Date).alias("day"),
            pl.col(amount_col).cast(pl.Float64).alias("amount"),
        )
        .filter(pl.col("day") <= observation_end)
        .group_by("customer_id", "day")
        .agg(pl.col("amount").sum())
    )
    end = pl.lit(observation_end)
    summary = (
        days.group_by("customer_id")
        .agg(
            first=pl.col("day").min(),
            last=pl.col("day").max(),
            days=pl.len(),
            total=pl.col("amount").sum(),
            first_amount=pl.col("amount").sort_by("day").first(),
        )
        .select(
            "customer_id",
            frequency=(pl.col("days") - 1).cast(pl.Int64),
            recency=(pl.col("last") - pl.col("first")).dt.total_days() / unit_days,
            T=(end - pl.col("first")).dt.total_days() / unit_days,
            monetary=pl.when(pl.col("days") > 1)
            .then((pl.col("total") - pl.col("first_amount")) / (pl.col("days") - 1))
            .otherwise(0.0),
        )
        .sort("customer_id")
        .collect()
    )
    return summary.cast(SUMMARY_SCHEMA)


def _require(frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ConfigError(f"Required column {column} missing.")


# ----- fits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """Maximum-likelihood parameters, their covariance on the log scale, and the fit."""

    names: tuple[str, ...]
    values: tuple[float, ...]
    log_covariance: np.ndarray  # covariance of log(parameters), from the Hessian
    log_likelihood: float
    n: int
    converged: bool

    def __getitem__(self, name: str) -> float:
        return self.values[self.names.index(name)]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.values, strict=True))

    def standard_errors(self) -> dict[str, float]:
        """Delta-method standard errors of the parameters themselves."""
        log_se = np.sqrt(np.clip(np.diag(self.log_covariance), 0.0, None))
        return {n: v * s for n, v, s in zip(self.names, self.values, log_se, strict=True)}


class _Distinct:
    """An array as its distinct values and the index of each element's value."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.index = np.unique(values, return_inverse=True)


# Above this many customers the optimiser starts from a fit on a seeded sample of this size,
# and the Hessian comes from that sample, scaled to the whole (information adds up over
# independent customers): a million customers then cost a few evaluations, not a hundred.
SAMPLE = 100_000


def fit_bgnbd(summary: pl.DataFrame, *, seed: int = 0) -> Fit:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood on `frequency`, `recency`, `T`."""
    _require(summary, ("frequency", "recency", "T"))
    if summary.height < 4:
        raise ConfigError(f"n_customers={summary.height} should be >= 4 to fit the purchase model.")
    if not (summary["frequency"] > 0).any():
        raise ConfigError("No customer bought twice: the purchase model needs repeat purchases.")
    objective = _bgnbd_objective(summary)
    if summary.height <= SAMPLE:
        return _maximise(objective, BGNBD_NAMES, summary.height)
    sample = summary.sample(SAMPLE, seed=seed)
    first = _maximise(_bgnbd_objective(sample), BGNBD_NAMES, SAMPLE)
    return _maximise(
        objective,
        BGNBD_NAMES,
        summary.height,
        start=np.log(first.values),
        log_covariance=first.log_covariance * SAMPLE / summary.height,
    )


def _bgnbd_objective(summary: pl.DataFrame) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    x = summary["frequency"].to_numpy().astype(float)
    data = (
        _Distinct(x),
        _Distinct(summary["recency"].to_numpy()),
        _Distinct(summary["T"].to_numpy()),
    )

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _bgnbd_loglik(np.exp(log_params), x, *data)
        return -value, -gradient * np.exp(log_params)

    return objective


def _bgnbd_loglik(
    params: np.ndarray, x: np.ndarray, ux: _Distinct, ut: _Distinct, uT: _Distinct
) -> tuple[float, np.ndarray]:
    r, alpha, a, b = params
    xs = ux.values
    # Terms of x only, on the distinct x.
    a1 = special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + xs)
        - special.gammaln(b)
        - special.gammaln(a + b + xs)
    )
    rx = r + x
    log_T = np.log(alpha + uT.values)[uT.index]
    log_t = np.log(alpha + ut.values)[ut.index]
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1, 1.0)
    a3 = -rx * log_T
    a4 = np.where(repeat, np.log(a) - np.log(bx1) - rx * log_t, -np.inf)
    total = np.logaddexp(a3, a4)
    w4 = np.exp(a4 - total)  # weight of "alive after the last purchase"
    w3 = 1.0 - w4
    value = float(np.sum(a1[ux.index] + a2[ux.index] + total))
    d_r = special.digamma(r + xs)[ux.index] - special.digamma(r) + np.log(alpha)
    d_r = d_r - w3 * log_T - w4 * log_t
    d_alpha = (
        r / alpha
        - w3 * rx / (alpha + uT.values)[uT.index]
        - w4 * rx / (alpha + ut.values)[ut.index]
    )
    d_ab = special.digamma(a + b) - special.digamma(a + b + xs)
    d_a = d_ab[ux.index] + w4 / a
    d_b = (d_ab + special.digamma(b + xs) - special.digamma(b))[ux.index] - w4 / bx1
    gradient = np.array([d_r.sum(), d_alpha.sum(), d_a.sum(), d_b.sum()])
    return value, gradient


def fit_gamma_gamma(summary: pl.DataFrame) -> Fit:
    """Fit Gamma-Gamma (p, q, gamma) on repeat customers' `frequency` and `monetary`."""
    _require(summary, ("frequency", "monetary"))
    repeaters = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary") > 0))
    if repeaters.height < 3:
        raise ConfigError(
            f"n_repeat_customers={repeaters.height} should be >= 3 to fit the spend model."
        )
    x = repeaters["frequency"].to_numpy().astype(float)
    m = repeaters["monetary"].to_numpy()
    mx = m * x
    # Sums that do not depend on the parameters, and counts per distinct x.
    xs, counts = np.unique(x, return_counts=True)
    sum_x_log = float(np.sum(x * (np.log(m) + np.log(x))))
    sum_log_m = float(np.sum(np.log(m)))
    n = float(x.size)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_params)
        pxs = p * xs
        log_vmx = np.log(v + mx)
        weighted = (p * x + q) * log_vmx
        value = (
            np.sum(counts * (special.gammaln(pxs + q) - special.gammaln(pxs)))
            - n * special.gammaln(q)
            + n * q * np.log(v)
            + p * sum_x_log
            - sum_log_m
            - np.sum(weighted)
        )
        psi = special.digamma(pxs + q)
        d_p = np.sum(counts * xs * (psi - special.digamma(pxs))) + sum_x_log - np.sum(x * log_vmx)
        d_q = np.sum(counts * psi) - n * special.digamma(q) + n * np.log(v) - np.sum(log_vmx)
        d_v = n * q / v - np.sum((p * x + q) / (v + mx))
        gradient = np.array([d_p, d_q, d_v]) * np.exp(log_params)
        return -float(value), -gradient

    return _maximise(objective, GAMMA_GAMMA_NAMES, repeaters.height)


def _maximise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    names: tuple[str, ...],
    n: int,
    *,
    start: np.ndarray | None = None,
    log_covariance: np.ndarray | None = None,
) -> Fit:
    from scipy import optimize  # imported when fitting: reading values needs no optimiser

    begin = np.zeros(len(names)) if start is None else start
    result = optimize.minimize(
        objective, begin, jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    covariance = _log_covariance(objective, result.x) if log_covariance is None else log_covariance
    values = tuple(float(v) for v in np.exp(result.x))
    return Fit(names, values, covariance, -float(result.fun), n, bool(result.success))


def _log_covariance(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], at: np.ndarray
) -> np.ndarray:
    """The inverse Hessian of the negative log-likelihood in log-parameters, by central
    differences of the analytic gradient."""
    step = 1e-5
    size = at.size
    hessian = np.empty((size, size))
    for i in range(size):
        shift = np.zeros(size)
        shift[i] = step
        hessian[i] = (objective(at + shift)[1] - objective(at - shift)[1]) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    try:
        return np.asarray(np.linalg.inv(hessian))
    except np.linalg.LinAlgError:
        return np.full_like(hessian, np.nan)


# ----- predictions ----------------------------------------------------------------------------


def p_alive(fit: Fit, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(the customer is still alive at T), given x purchases after the first and t_x."""
    r, alpha, a, b = (fit[n] for n in BGNBD_NAMES)
    x = np.asarray(frequency, dtype=float)
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1, 1.0)
    log_odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + recency))
    return np.where(repeat, 1.0 / (1.0 + np.exp(np.clip(log_odds, -700, 700))), 1.0)


def expected_purchases(
    fit: Fit, t: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t] given each customer's history (FHL 2005, eq. 10)."""
    x = np.asarray(frequency, dtype=float)
    histories = _Histories(x, np.asarray(T, dtype=float))
    if t <= 0:
        return np.zeros_like(x)
    alive = p_alive(fit, x, recency, T)
    return histories.purchases_if_alive(fit, t)[histories.index] * alive


class _Histories:
    """The distinct (x, T) pairs of many customers: what the expectation if alive rests on,
    so that the costly hypergeometric function runs once per pair, not per customer."""

    def __init__(self, x: np.ndarray, T: np.ndarray) -> None:
        ages, age_index = np.unique(T, return_inverse=True)
        pairs, self.index = np.unique(
            x.astype(np.int64) * ages.size + age_index, return_inverse=True
        )
        self.x = (pairs // ages.size).astype(float)
        self.T = ages[pairs % ages.size]

    def purchases_if_alive(self, fit: Fit, t: float) -> np.ndarray:
        r, alpha, a, b = (fit[n] for n in BGNBD_NAMES)
        x, T = self.x, self.T
        hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        first = (a + b + x - 1) / (a - 1)
        return first * (1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyper)


def expected_purchases_new(fit: Fit, t: np.ndarray) -> np.ndarray:
    """Expected purchases in (0, t] of a customer who has just made a first purchase."""
    r, alpha, a, b = (fit[n] for n in BGNBD_NAMES)
    t = np.asarray(t, dtype=float)
    hyper = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyper)


def expected_spend(fit: Fit, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Expected mean spend per purchase: the Gamma-Gamma posterior mean (the population mean
    for customers without repeat purchases)."""
    p, q, v = (fit[n] for n in GAMMA_GAMMA_NAMES)
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    return np.where(x > 0, (v + m * x) * p / (p * x + q - 1), p * v / (q - 1))


class _ValueTerms:
    """The parts of customer value for many customers: discounted expected purchases if
    alive (per distinct history), P(alive) and expected spend, each recomputable for other
    parameters alone, so that gradients do not redo the rest."""

    def __init__(
        self,
        summary: pl.DataFrame,
        *,
        horizon_days: int,
        margin: float,
        annual_discount: float,
        unit_days: float = 7.0,
        step_days: int = 30,
    ) -> None:
        self.x = summary["frequency"].to_numpy().astype(float)
        self.t_x = summary["recency"].to_numpy()
        self.T = summary["T"].to_numpy()
        self.m = summary["monetary"].to_numpy()
        self.histories = _Histories(self.x, self.T)
        self.margin, self.unit_days, self.step_days = margin, unit_days, step_days
        self.horizon_days = horizon_days
        self.step_rate = (1.0 + annual_discount) ** (step_days / 365.0) - 1.0

    def purchases(self, fit: Fit, given_alive: bool = False) -> np.ndarray:
        """Discounted expected purchases per customer (times P(alive) unless given alive)."""
        discounted = np.zeros_like(self.histories.x)
        before = np.zeros_like(self.histories.x)
        for step in range(1, int(np.ceil(self.horizon_days / self.step_days)) + 1):
            days = min(step * self.step_days, self.horizon_days)
            cumulative = self.histories.purchases_if_alive(fit, days / self.unit_days)
            discounted += (cumulative - before) / (1.0 + self.step_rate) ** step
            before = cumulative
        each = discounted[self.histories.index]
        return each if given_alive else each * p_alive(fit, self.x, self.t_x, self.T)

    def spend(self, fit: Fit) -> np.ndarray:
        """Expected spend per purchase times the margin."""
        return expected_spend(fit, self.x, self.m) * self.margin


def customer_value(
    purchases: Fit,
    spend: Fit,
    summary: pl.DataFrame,
    *,
    horizon_days: int,
    margin: float,
    annual_discount: float,
    unit_days: float = 7.0,
    step_days: int = 30,
    given_alive: bool = False,
) -> np.ndarray:
    """Discounted expected margin over the next `horizon_days`: expected purchases per
    `step_days` step times expected spend times `margin`, discounted at `annual_discount`.
    With `given_alive`, the value if the customer is still buying (P(alive) left out)."""
    terms = _ValueTerms(
        summary,
        horizon_days=horizon_days,
        margin=margin,
        annual_discount=annual_discount,
        unit_days=unit_days,
        step_days=step_days,
    )
    return terms.purchases(purchases, given_alive) * terms.spend(spend)


@dataclass(frozen=True)
class Values:
    """`customer_values`' result, one entry per customer of the summary."""

    value: np.ndarray
    if_alive: np.ndarray
    gradients: dict[str, np.ndarray]
    purchases: dict[float, np.ndarray]  # expected purchases by horizon (model units)


def customer_values(
    purchases: Fit,
    spend: Fit,
    summary: pl.DataFrame,
    *,
    horizons: Sequence[float] = (),
    step: float = 1e-4,
    **settings: Any,
) -> Values:
    """`customer_value` (`settings` are its keyword arguments), the value if alive, the
    expected purchases over each of `horizons` (in model units), and each customer's value
    derivative with respect to every model parameter's logarithm (forward differences): with
    the fits' log-scale covariances, the delta method gives the variance of any sum of
    customer values (`sum_interval`). The derivatives are computed two at a time (the
    special functions release the interpreter's lock)."""
    terms = _ValueTerms(summary, **settings)
    if_alive = terms.purchases(purchases, given_alive=True)
    alive = p_alive(purchases, terms.x, terms.t_x, terms.T)
    bought = if_alive * alive
    spent = terms.spend(spend)
    base = bought * spent

    def gradient(fit: Fit, i: int) -> np.ndarray:
        moved = list(fit.values)
        moved[i] *= float(np.exp(step))
        shifted = Fit(fit.names, tuple(moved), fit.log_covariance, fit.log_likelihood, fit.n, True)
        if fit is purchases:
            return (terms.purchases(shifted) * spent - base) / step
        return (bought * terms.spend(shifted) - base) / step

    def expected(t: float) -> np.ndarray:
        return terms.histories.purchases_if_alive(purchases, t)[terms.histories.index] * alive

    with ThreadPoolExecutor(2) as pool:
        moves = [(fit, i) for fit in (purchases, spend) for i in range(len(fit.names))]
        derivatives = pool.map(lambda move: gradient(*move), moves)
        gradients = {fit.names[i]: d for (fit, i), d in zip(moves, derivatives, strict=True)}
        expectations = dict(zip(horizons, pool.map(expected, horizons), strict=True))
    return Values(base, if_alive * spent, gradients, expectations)


def sum_interval(gradients: dict[str, np.ndarray], purchases: Fit, spend: Fit) -> float:
    """Half-width of the 95 % interval of the sum whose per-customer gradients (summed over
    its customers) are `gradients`, by the delta method."""
    variance = 0.0
    for fit in (purchases, spend):
        g = np.array([float(np.sum(gradients[name])) for name in fit.names])
        variance += float(g @ fit.log_covariance @ g)
    return Z95 * float(np.sqrt(max(variance, 0.0)))
