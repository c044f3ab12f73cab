"""Behavioural clusters: scikit-learn's estimator contract, k by silhouette, stable labels,
names from profiles."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, pairwise_distances, silhouette_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from analytics.errors import ConfigError
from analytics.segments.clustering import (
    CustomerClusterer,
    cluster_names,
    match_clusters,
    mean_silhouette,
)


@parametrize_with_checks(
    [CustomerClusterer(k_range=(2, 4)), CustomerClusterer(method="gmm", n_clusters=2)]
)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three tight, far-apart groups of 40 points in two dimensions."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    truth = np.repeat([0, 1, 2], 40)
    return centres[truth] + rng.normal(scale=0.3, size=(120, 2)), truth


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_k_is_chosen_by_silhouette_and_recovers_the_groups(method):
    X, truth = blobs()

    model = CustomerClusterer(method=method).fit(X)

    assert model.n_clusters_ == 3
    assert max(model.silhouette_, key=model.silhouette_.get) == 3
    assert sorted(model.silhouette_) == list(range(2, 11))
    assert adjusted_rand_score(truth, model.labels_) == 1.0
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_the_silhouette_equals_scikit_learns_with_singletons_and_duplicates():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    X[:5] = X[0]  # duplicate points
    distances = pairwise_distances(X)
    for k in (2, 5, 9):
        labels = rng.integers(0, k, 300)
        labels[10] = k  # a cluster of one

        assert mean_silhouette(distances, labels) == pytest.approx(
            silhouette_score(distances, labels, metric="precomputed"), abs=1e-12
        )
    together = np.zeros(300, dtype=int)
    together[:5] = 1  # a cluster whose points all coincide
    assert mean_silhouette(distances, together) == pytest.approx(
        silhouette_score(distances, together, metric="precomputed"), abs=1e-12
    )


def test_the_same_data_gives_the_same_labels():
    X, _ = blobs()

    first = CustomerClusterer(random_state=3).fit(X).labels_
    again = CustomerClusterer(random_state=3).fit(X).labels_

    np.testing.assert_array_equal(first, again)


def test_a_given_k_is_used_and_the_silhouette_is_not_computed():
    X, _ = blobs()

    model = CustomerClusterer(n_clusters=4).fit(X)

    assert (model.n_clusters_, model.silhouette_, model.cluster_centers_.shape) == (4, {}, (4, 2))


def _ambiguous(seed: int) -> np.ndarray:
    """One broad cloud of 600 points: every k is about as good, and seeded starts from
    nearly the same data settle on different partitions."""
    return np.random.default_rng(seed).normal(size=(600, 3))


@pytest.mark.parametrize(("method", "floor"), [("kmeans", 0.99), ("gmm", 0.9)])
def test_a_fit_from_the_previous_centres_keeps_the_clusters_of_nearly_the_same_data(method, floor):
    X = _ambiguous(9)
    first = CustomerClusterer(method=method, n_clusters=4).fit(X)
    nudged = X + np.random.default_rng(10).normal(scale=0.02, size=X.shape)  # a load later
    centres = first.scaler_.inverse_transform(first.cluster_centers_)

    kept = CustomerClusterer(method=method, n_clusters=4, init_centres=centres).fit(nudged)
    afresh = CustomerClusterer(method=method, n_clusters=4, random_state=1).fit(nudged)

    # The same cluster keeps its customers and its place: no relabelling, no reshuffle,
    # where seeded starts afresh settle on another partition of the same cloud.
    assert (kept.labels_ == first.labels_).mean() >= floor
    assert np.abs(kept.cluster_centers_ - first.cluster_centers_).max() < 0.15
    assert adjusted_rand_score(first.labels_, kept.labels_) > 0.85
    assert adjusted_rand_score(first.labels_, afresh.labels_) < 0.45


def test_k_stays_the_previous_number_unless_another_is_clearly_better():
    X, truth = blobs()
    four = CustomerClusterer(n_clusters=4).fit(X)
    centres = four.scaler_.inverse_transform(four.cluster_centers_)

    # Three far-apart groups: four clusters are clearly worse, so k is 3 again.
    clear = CustomerClusterer(init_centres=centres).fit(X)
    assert clear.n_clusters_ == 3
    assert clear.silhouette_[4] < clear.silhouette_[3] - 0.01
    assert adjusted_rand_score(truth, clear.labels_) == 1.0
    # Within the tolerance, the previous k stays, fitted from the previous centres.
    lenient = CustomerClusterer(init_centres=centres, k_tolerance=1.0).fit(X)
    assert lenient.n_clusters_ == 4
    np.testing.assert_array_equal(lenient.labels_, four.labels_)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"method": "dbscan"},
            "The 'method' parameter of CustomerClusterer must be one of kmeans, gmm. "
            "Got 'dbscan' instead.",
        ),
        (
            {"n_clusters": 0},
            "The 'n_clusters' parameter of CustomerClusterer must be an int in the range "
            "[1, inf) or None. Got 0 instead.",
        ),
        ({"k_range": (1, 5)}, "must be two ints with 2 <= low <= high. Got (1, 5) instead."),
        (
            {"sample_size": 1},
            "The 'sample_size' parameter of CustomerClusterer must be an int in the range "
            "[2, inf). Got 1 instead.",
        ),
    ],
)
def test_bad_parameters_are_refused_in_one_message_style(params, message):
    with pytest.raises(ConfigError) as raised:
        CustomerClusterer(**params).fit(blobs()[0])
    assert message in str(raised.value)


def test_more_clusters_than_customers_is_refused_with_both_numbers():
    with pytest.raises(ConfigError, match=r"n_samples=3 should be >= n_clusters=5\."):
        CustomerClusterer(n_clusters=5).fit(np.arange(6.0).reshape(3, 2))


def test_clusters_are_matched_to_the_previous_ones():
    previous = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    # The same clusters found in another order, slightly moved, and one more.
    current = np.array([[0.2, 9.8], [9.9, 0.1], [5.0, 5.0], [0.1, -0.1]])

    assert match_clusters(previous, current) == {0: 2, 1: 1, 2: 3, 3: 0}
    assert match_clusters(np.empty((0, 2)), current[:2]) == {0: 0, 1: 1}


def test_names_come_from_the_profiles_and_stay_distinct():
    profiles = [
        {"log_tenure": -1.5, "log_spend": 0.0},
        {"discount_share": 1.8, "log_spend": -1.2},
        {"p_alive": -1.2, "log_spend": -0.5},
        {"p_alive": -1.0, "log_spend": -0.6},
        {"log_rate": 1.0, "log_spend": 0.4, "p_alive": 0.5},
        {"log_spend": 2.0},
        {"log_rate": 0.4},
        {},
    ]

    assert cluster_names(profiles) == [
        "New",
        "Discount-driven low-spend",
        "Lapsed low-spend 1",
        "Lapsed low-spend 2",
        "High-value loyal",
        "Big spenders",
        "Loyal",
        "Occasional",
    ]
