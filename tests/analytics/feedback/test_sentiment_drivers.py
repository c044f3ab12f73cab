"""Sentiment on labelled sentences (negation included) and key drivers on synthetic data with
known, correlated drivers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analytics.errors import ConfigError
from analytics.feedback import drivers, sentiment

LABELLED = [
    ("Great quality, will buy again.", "positive"),
    ("Friendly and helpful support team.", "positive"),
    ("Fast delivery and lovely packaging.", "positive"),
    ("never late", "positive"),
    ("The parcel was never late and the staff were friendly.", "positive"),
    ("not good", "negative"),
    ("Package arrived late.", "negative"),
    ("Support was rude and unhelpful.", "negative"),
    ("Website is slow and confusing.", "negative"),
    ("Too expensive for what you get.", "negative"),
    ("The product broke after a week. Very disappointed.", "negative"),
    ("The delivery was not fast at all.", "negative"),
    ("I ordered a blue shirt.", "neutral"),
    ("", "neutral"),
]


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_sentiment_of_labelled_sentences(text, expected):
    value = sentiment.score(text)
    got = pl.select(sentiment.label(pl.lit(value))).item()
    assert got == expected, (text, value)


def test_negation_turns_the_word_around():
    assert sentiment.score("good") > 0 > sentiment.score("not good")
    assert sentiment.score("late") < 0 < sentiment.score("never late")


real = sentiment.score  # as it scores, never counted


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text scored from now on (scoring as before)."""
    scored: list[str] = []

    def counting(text: str) -> float:
        scored.append(text)
        return real(text)

    monkeypatch.setattr(sentiment, "score", counting)
    return scored


def test_texts_are_scored_once_each_and_nulls_stay_null(seen):
    texts = pl.Series("comment", ["late", None, "late", "great", "late"])
    scores = sentiment.score_texts(texts)
    assert sorted(seen) == ["great", "late"]
    assert scores.name == "comment"
    assert scores.to_list() == [real("late"), None, real("late"), real("great"), real("late")]


def test_known_texts_are_not_scored_again(seen):
    texts = pl.Series("comment", ["late", None, "great", "late", "fine"])
    known = pl.DataFrame({"text": ["late", "late", "other"], "sentiment": [-0.25, -0.25, 0.5]})

    lookup, scored = sentiment.known_or_scored(texts, known)
    scores = sentiment.score_texts(texts, known=known)

    assert scored == 2
    assert sorted(lookup.rows()) == [("fine", real("fine")), ("great", real("great")),
                                     ("late", -0.25)]  # fmt: skip
    assert sorted(seen) == ["fine", "fine", "great", "great"]  # once per call, never "late"
    assert scores.to_list() == [-0.25, None, real("great"), -0.25, real("fine")]


def _synthetic(n: int = 4_000, seed: int = 7) -> pl.DataFrame:
    """Four drivers, two strongly correlated, with known coefficients."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n)
    a = base + 0.3 * rng.normal(size=n)  # a and b correlate at about 0.9
    b = base + 0.3 * rng.normal(size=n)
    c = rng.normal(size=n)
    d = rng.normal(size=n)  # irrelevant
    y = 0.8 * a + 0.0 * b + 0.4 * c + 0.0 * d + 0.5 * rng.normal(size=n)
    return pl.DataFrame({"y": y, "a": a, "b": b, "c": c, "d": d})


def test_relative_weights_sum_to_r_squared_and_split_correlated_drivers():
    frame = _synthetic()
    x = frame.select("a", "b", "c", "d").to_numpy()
    y = frame["y"].to_numpy()
    weights, r2 = drivers.relative_weights(x, y)

    fitted = np.linalg.lstsq(np.column_stack([np.ones(len(y)), x]), y, rcond=None)[0]
    residual = y - np.column_stack([np.ones(len(y)), x]) @ fitted
    assert r2 == pytest.approx(1 - residual.var() / y.var(), rel=1e-9)
    assert weights.sum() == pytest.approx(r2, rel=1e-12)
    a, b, c, d = weights
    # b has no effect of its own but shares a's variance: it gets a share, less than a's.
    assert a > b > d and c > d and d < 0.002
    assert a + b > c


def test_two_independent_drivers_get_their_squared_correlations():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20_000, 2))
    x -= x.mean(axis=0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x.T))).T  # exactly uncorrelated
    y = 0.6 * x[:, 0] + 0.3 * x[:, 1] + rng.normal(size=20_000)
    weights, _ = drivers.relative_weights(x, y)
    expected = [np.corrcoef(x[:, j], y)[0, 1] ** 2 for j in range(2)]
    assert weights == pytest.approx(expected, rel=1e-9)


def test_key_drivers_table_quadrants_and_clear_refusals():
    frame = _synthetic()
    scales = {name: (-3.0, 3.0) for name in ("a", "b", "c", "d")}
    model = drivers.key_drivers(frame, "y", ["a", "b", "c", "d"], scales)
    assert model.table["driver"].to_list()[0] == "a"
    assert model.table["importance"].sum() == pytest.approx(1.0)
    assert model.n == 4_000 and 0.7 < model.r2 < 0.9
    grid = pl.DataFrame(
        {"importance": [0.5, 0.3, 0.15, 0.05], "performance": [0.3, 0.8, 0.9, 0.2]}
    ).select(drivers._quadrant(pl.col("importance"), pl.col("performance")))
    assert grid.to_series().to_list() == ["fix first", "keep up", "over-invested", "nice to have"]

    with pytest.raises(ConfigError, match="at least 40 responses"):
        drivers.key_drivers(frame.head(25), "y", ["a", "b", "c", "d"], scales)
    with pytest.raises(ConfigError, match="No driver varies"):
        drivers.key_drivers(frame.with_columns(a=pl.lit(1.0)), "y", ["a"], scales)


def test_a_category_enters_as_indicators_and_counts_as_one_driver():
    rng = np.random.default_rng(11)
    n = 3_000
    channel = rng.choice(["email", "web", "app"], n, p=[0.5, 0.3, 0.2])
    rating = rng.normal(size=n)
    y = 0.5 * rating + np.where(channel == "app", 1.0, 0.0) + 0.5 * rng.normal(size=n)
    frame = pl.DataFrame({"y": y, "rating": rating, "channel": channel})
    model = drivers.key_drivers(frame, "y", ["rating"], {"rating": (-3.0, 3.0)}, ["channel"])
    rows = {r["driver"]: r for r in model.table.iter_rows(named=True)}
    assert set(rows) == {"rating", "channel"}
    assert rows["channel"]["performance"] is None and rows["channel"]["quadrant"] is None
    assert rows["channel"]["importance"] + rows["rating"]["importance"] == pytest.approx(1.0)
    assert rows["rating"]["quadrant"] in drivers.QUADRANTS
    # Alone, the ratings and the channel split R-squared as their squared correlations.
    app = (channel == "app").astype(float)
    expected = np.corrcoef(app, y)[0, 1] ** 2 / model.r2
    assert rows["channel"]["importance"] == pytest.approx(expected, rel=0.05)
