"""Sentiment of free-text comments, offline: VADER (Hutto & Gilbert, 2014), whose lexicon
ships inside the `vaderSentiment` package, with a few dozen customer-experience words it
lacks ("late", "overpriced", "unhelpful", ...) added on its own -4..4 scale.

VADER handles what short feedback is made of: negation ("not good", "never late"), degree
words ("very", "a bit"), "but" (the clause after it counts more), capitals and exclamation
marks. A comment's score is VADER's compound score, -1 (most negative) to 1; at 0.05 and
above it reads as positive, at -0.05 and below as negative (VADER's own thresholds).

Texts are scored once each (`score_texts` scores the distinct texts of a column), so a
million comments with repeated wording cost what their distinct wordings cost.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

import polars as pl
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE_FROM = 0.05
NEGATIVE_TO = -0.05
LABELS = ("negative", "neutral", "positive")

# Customer-experience words VADER's general-purpose lexicon lacks, on its -4..4 scale
# (anchored on its own entries: "disappointed" -1.9, "delayed" -0.9, "great" 3.1).
CX_LEXICON: Mapping[str, float] = {
    # delivery
    "late": -1.5, "later": -0.3, "delay": -1.2, "delays": -1.2, "slow": -1.3,
    "slower": -1.2, "waiting": -0.8, "lost": -1.5, "missing": -1.3, "damaged": -2.0,
    "missed": -1.2, "fast": 1.5, "quick": 1.4, "quickly": 1.3, "prompt": 1.3,
    "punctual": 1.6, "overdue": -1.4,
    # price and value
    "expensive": -1.3, "pricey": -0.9, "overpriced": -1.9, "overcharged": -2.0,
    "cheaper": -0.4, "refund": -0.6, "affordable": 1.3, "bargain": 1.5,
    # quality
    "flimsy": -1.7, "faulty": -2.0, "defective": -2.1, "broken": -2.1, "cheaply": -1.3,
    "sturdy": 1.5, "durable": 1.6, "apart": -0.8, "ripped": -1.7, "torn": -1.6,
    # service and website
    "rude": -2.2, "unhelpful": -1.9, "unanswered": -1.5, "ignored": -1.7, "confusing": -1.5,
    "failing": -1.6, "crashed": -1.8, "crashes": -1.8, "glitchy": -1.5, "buggy": -1.6,
    "helpful": 1.8, "friendly": 2.2, "responsive": 1.4, "seamless": 1.6, "easy": 1.5,
    "smooth": 1.2, "recommended": 1.5,
}  # fmt: skip


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(CX_LEXICON)
    return analyzer


def score(text: str) -> float:
    """The compound sentiment of one text, -1 to 1 (0 for an empty text)."""
    if not text or not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])


PARALLEL_FROM = 20_000  # texts from which scoring is spread over the machine's cores
_CHUNK = 5_000


def score_all(texts: Sequence[str]) -> list[float]:
    """`score` of every text, in order; large batches on every core (VADER is pure Python,
    so processes, started fresh: safe from a dashboard's threads)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(texts) < PARALLEL_FROM or workers < 2:
        return [score(t) for t in texts]
    chunks = [list(texts[i : i + _CHUNK]) for i in range(0, len(texts), _CHUNK)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [value for part in pool.map(_score_chunk, chunks) for value in part]


def _score_chunk(texts: list[str]) -> list[float]:
    return [score(t) for t in texts]


def score_texts(texts: pl.Series, known: pl.DataFrame | None = None) -> pl.Series:
    """`score` of every text in `texts` (null stays null), each distinct text scored once;
    texts in `known` are not scored again (`known_or_scored`)."""
    lookup, _ = known_or_scored(texts, known)
    return (
        texts.rename("text")
        .to_frame()
        .join(lookup, on="text", how="left", maintain_order="left")["sentiment"]
        .rename(texts.name)
    )


def known_or_scored(texts: pl.Series, known: pl.DataFrame | None) -> tuple[pl.DataFrame, int]:
    """Each distinct text of `texts` (not null) with its `sentiment`: taken from `known`
    (text, sentiment: scored before, as the feedback analysis keeps them; a score depends
    on the text alone) where it is there, else scored now; and how many were scored now."""
    lookup = pl.DataFrame({"text": texts.drop_nulls().unique()}, schema={"text": pl.String})
    if known is not None:
        earlier = known.select("text", "sentiment").unique("text")
        lookup = lookup.join(earlier, on="text", how="left")
    else:
        lookup = lookup.with_columns(sentiment=pl.lit(None, pl.Float64))
    missing = lookup.filter(pl.col("sentiment").is_null())["text"]
    fresh = pl.DataFrame(
        {"text": missing, "new": score_all(missing.to_list())},
        schema={"text": pl.String, "new": pl.Float64},
    )
    scored = lookup.join(fresh, on="text", how="left").select(
        "text", sentiment=pl.coalesce("sentiment", "new")
    )
    return scored, missing.len()


def label(sentiment: pl.Expr) -> pl.Expr:
    """negative, neutral or positive by VADER's thresholds (null stays null)."""
    return (
        pl.when(sentiment >= POSITIVE_FROM)
        .then(pl.lit("positive"))
        .when(sentiment <= NEGATIVE_TO)
        .then(pl.lit("negative"))
        .when(sentiment.is_not_null())
        .then(pl.lit("neutral"))
    )
