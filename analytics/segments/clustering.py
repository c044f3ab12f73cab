"""Behavioural clusters: scaling + KMeans (or a Gaussian mixture), k chosen by silhouette,
labels kept stable across loads, and names generated from each cluster's profile.

`CustomerClusterer` follows scikit-learn's estimator conventions (`__init__` stores its
arguments, `fit` validates and learns `labels_`, `cluster_centers_`, `silhouette_`...) and
passes `sklearn.utils.estimator_checks`. Work is bounded for large bases: k is chosen on a
seeded sample (silhouette on at most `sample_size` customers), the final model is fitted on
at most `fit_size` customers and every customer is assigned by `predict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from analytics.errors import ConfigError

METHODS = ("kmeans", "gmm")
SELECTION_FIT_SIZE = 20_000  # customers each candidate k is fitted on


class CustomerClusterer(ClusterMixin, BaseEstimator):
    """Standardise the features, then cluster them with KMeans or a Gaussian mixture.

    Parameters
    ----------
    method : {"kmeans", "gmm"}, default "kmeans"
    n_clusters : int or None, default None
        None chooses k in `k_range` by the silhouette on a seeded sample.
    k_range : tuple of int, default (2, 10)
        The smallest and largest k tried.
    sample_size : int, default 5_000
        Customers the silhouette is computed on (seeded sample).
    fit_size : int, default 100_000
        Customers the final model is fitted on (seeded sample); all are then assigned.
    random_state : int, default 0
    init_centres : array of shape (n_previous, n_features) or None, default None
        The previous load's centres, in the features' own units. When k comes out as
        their number, the final model starts from them (one run) instead of from seeded
        random starts, so that a load that changes a few customers leaves the clusters
        where they were; and k stays their number while its silhouette is within
        `k_tolerance` of the best k's.
    k_tolerance : float, default 0.01

    Attributes
    ----------
    scaler_ : StandardScaler
    model_ : KMeans or GaussianMixture
    n_clusters_ : int
    silhouette_ : dict of int to float
        The silhouette of each k tried (empty when `n_clusters` was given).
    cluster_centers_ : ndarray of shape (n_clusters_, n_features)
        Centres in standardised units (z-scores against the fitted customers).
    labels_ : ndarray of shape (n_samples,)
    started_from_previous_ : bool
        Whether the final model started from `init_centres`.
    """

    def __init__(
        self,
        method: str = "kmeans",
        n_clusters: int | None = None,
        k_range: tuple[int, int] = (2, 10),
        sample_size: int = 5_000,
        fit_size: int = 100_000,
        random_state: int = 0,
        init_centres: np.ndarray | None = None,
        k_tolerance: float = 0.01,
    ) -> None:
        self.method = method
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.sample_size = sample_size
        self.fit_size = fit_size
        self.random_state = random_state
        self.init_centres = init_centres
        self.k_tolerance = k_tolerance

    def fit(self, X: Any, y: Any = None) -> CustomerClusterer:
        # Fits of this size (at most `fit_size` customers, a few features) run about twice as
        # fast on one thread as on several: the threads' overhead outweighs the work.
        with threadpool_limits(1):
            return self._fit(X)

    def _fit(self, X: Any) -> CustomerClusterer:
        self._check_params()
        data = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        n = data.shape[0]
        self.scaler_ = StandardScaler().fit(data)
        scaled = self.scaler_.transform(data)
        rng = np.random.default_rng(self.random_state)
        self.silhouette_: dict[int, float] = {}
        if self.n_clusters is None:
            # Each k is fitted on a larger sample than the silhouette is measured on: the
            # silhouette's cost grows with the square of its sample, a fit's only linearly.
            low, high = self.k_range
            fitted_on = _sample(scaled, SELECTION_FIT_SIZE, rng)
            measured = _sample(fitted_on, self.sample_size, rng)
            distances = pairwise_distances(measured)  # once for every k

            def silhouette(k: int) -> float | None:
                labels = self._model(k).fit(fitted_on).predict(measured)
                if len(np.unique(labels)) < 2:
                    return None
                return mean_silhouette(distances, labels)

            tried = range(low, min(high, len(np.unique(measured, axis=0)) - 1) + 1)
            # One candidate per thread: fits and distances release the interpreter's lock.
            with ThreadPoolExecutor(2) as pool:
                scores = dict(zip(tried, pool.map(silhouette, tried), strict=True))
            self.silhouette_ = {k: v for k, v in scores.items() if v is not None}
            k = max(self.silhouette_, key=lambda j: (self.silhouette_[j], -j), default=1)
            before = None if self.init_centres is None else len(self.init_centres)
            if before in self.silhouette_ and (
                self.silhouette_[before] >= self.silhouette_[k] - self.k_tolerance
            ):
                k = before  # not clearly worse: the clusters stay as many as they were
        else:
            if self.n_clusters > n:
                raise ConfigError(f"n_samples={n} should be >= n_clusters={self.n_clusters}.")
            k = self.n_clusters
        start = None
        if self.init_centres is not None and len(self.init_centres) == k:
            start = self.scaler_.transform(np.asarray(self.init_centres, dtype=np.float64))
        self.started_from_previous_ = start is not None
        self.model_ = self._model(k, start).fit(_sample(scaled, self.fit_size, rng))
        self.n_clusters_ = k
        self.labels_ = self.model_.predict(scaled)
        self.cluster_centers_ = _centres(self.model_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        data = validate_data(self, X, dtype=np.float64, reset=False)
        return np.asarray(self.model_.predict(self.scaler_.transform(data)))

    def _model(self, k: int, start: np.ndarray | None = None) -> KMeans | GaussianMixture:
        """A model of k clusters: from seeded random starts, or from the centres `start`
        (scaled) in one run."""
        if self.method == "gmm":
            if start is not None:
                return GaussianMixture(
                    k, covariance_type="full", means_init=start, random_state=self.random_state
                )
            return GaussianMixture(
                k, covariance_type="full", n_init=2, random_state=self.random_state
            )
        if start is not None:
            return KMeans(k, init=start, n_init=1, random_state=self.random_state)
        return KMeans(k, n_init=4, random_state=self.random_state)

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"The 'method' parameter of CustomerClusterer must be one of "
                f"{', '.join(METHODS)}. Got {self.method!r} instead."
            )
        if self.n_clusters is not None and not _positive_int(self.n_clusters):
            raise ConfigError(
                "The 'n_clusters' parameter of CustomerClusterer must be an int in the range "
                f"[1, inf) or None. Got {self.n_clusters!r} instead."
            )
        low, high = self.k_range
        if not (_positive_int(low) and _positive_int(high) and 2 <= low <= high):
            raise ConfigError(
                "The 'k_range' parameter of CustomerClusterer must be two ints with "
                f"2 <= low <= high. Got {self.k_range!r} instead."
            )
        for name in ("sample_size", "fit_size"):
            value = getattr(self, name)
            if not _positive_int(value) or value < 2:
                raise ConfigError(
                    f"The '{name}' parameter of CustomerClusterer must be an int in the "
                    f"range [2, inf). Got {value!r} instead."
                )


def mean_silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """`sklearn.metrics.silhouette_score(distances, labels, metric="precomputed")`, from
    one matrix product: the distance matrix is shared by every k tried, and the product
    gives each point's distance sums to every cluster at once, where scikit-learn walks
    the rows in chunks (ten times slower on 5,000 points). Equal to scikit-learn's to
    rounding (tested)."""
    clusters, index = np.unique(labels, return_inverse=True)
    members = np.zeros((labels.size, clusters.size))
    members[np.arange(labels.size), index] = 1.0
    sums = distances @ members  # each point's summed distance to each cluster's members
    sizes = members.sum(axis=0)
    own = sizes[index]
    inside = sums[np.arange(labels.size), index] / np.maximum(own - 1, 1)
    others = sums / sizes
    others[np.arange(labels.size), index] = np.inf
    nearest = others.min(axis=1)
    with np.errstate(invalid="ignore"):  # 0 / 0 for points on top of their whole cluster
        scores = np.where(own > 1, (nearest - inside) / np.maximum(inside, nearest), 0.0)
    return float(np.nan_to_num(scores).mean())


def _positive_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and int(value) >= 1


def _sample(data: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if data.shape[0] <= size:
        return data
    return data[np.sort(rng.choice(data.shape[0], size, replace=False))]


def _centres(model: KMeans | GaussianMixture) -> np.ndarray:
    if isinstance(model, GaussianMixture):
        return np.asarray(model.means_)
    return np.asarray(model.cluster_centers_)


# ----- stable labels across loads ------------------------------------------------------------


def match_clusters(previous: np.ndarray, current: np.ndarray) -> dict[int, int]:
    """Current cluster -> stable id: each current centre takes the id of the previous centre
    it is matched to (Hungarian matching on Euclidean distance, both in the same units);
    clusters left over get ids after the previous ones."""
    if previous.size == 0:
        return {k: k for k in range(current.shape[0])}
    distance = np.linalg.norm(current[:, None, :] - previous[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(distance)
    mapping = {int(r): int(c) for r, c in zip(rows, cols, strict=True)}
    spare = iter(range(previous.shape[0], previous.shape[0] + current.shape[0]))
    return {k: mapping[k] if k in mapping else next(spare) for k in range(current.shape[0])}


# ----- names from profiles ------------------------------------------------------------------


@dataclass(frozen=True)
class NameRule:
    """A cluster whose profile (z-scores by feature) lies within every bound is `name`."""

    name: str
    bounds: Mapping[str, tuple[float, float]]


_ANY = (-np.inf, np.inf)
CLUSTER_NAMES: tuple[NameRule, ...] = (
    NameRule("New", {"log_tenure": (-np.inf, -1.0)}),
    NameRule("Discount-driven", {"discount_share": (1.0, np.inf)}),
    NameRule("Lapsed", {"p_alive": (-np.inf, -0.6)}),
    NameRule("High-value loyal", {"log_rate": (0.5, np.inf), "log_spend": (0.0, np.inf)}),
    NameRule("Big spenders", {"log_spend": (1.0, np.inf)}),
    NameRule("Loyal", {"log_rate": (0.3, np.inf)}),
    NameRule("Occasional", {}),
)
# Spend qualifiers that tell apart clusters of the same name.
SPEND_QUALIFIERS: tuple[tuple[str, tuple[float, float]], ...] = (
    ("low-spend", (-np.inf, -0.3)),
    ("high-spend", (0.5, np.inf)),
)


def cluster_names(
    profiles: list[dict[str, float]], rules: tuple[NameRule, ...] = CLUSTER_NAMES
) -> list[str]:
    """A descriptive, distinct name per cluster from its z-score profile: the first rule it
    matches, then a spend qualifier ("Lapsed low-spend"), then a number if still shared."""
    names = []
    for profile in profiles:
        base = next(
            rule.name
            for rule in rules
            if all(lo <= profile.get(f, 0.0) <= hi for f, (lo, hi) in rule.bounds.items())
        )
        spend = profile.get("log_spend", 0.0)
        qualifier = next((q for q, (lo, hi) in SPEND_QUALIFIERS if lo <= spend <= hi), "")
        names.append(
            base
            if base in ("Big spenders", "High-value loyal") or not qualifier
            else f"{base} {qualifier}"
        )
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    distinct = []
    for name in names:
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            distinct.append(f"{name} {seen[name]}")
        else:
            distinct.append(name)
    return distinct
