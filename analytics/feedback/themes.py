"""Themes: what the comments are about, found in the comments themselves (TF-IDF and
non-negative matrix factorisation, seeded), each named by its top terms, and an analyst's
theme dictionary (theme -> keywords) that wins for the comments it matches.

- The text: lower-cased words and word pairs, English stop words and the sign-off phrases
  that carry sentiment but no subject ("very disappointed", "thank you", `SIGN_OFFS`) left
  out, the subjects it mentions added as terms (`SUBJECTS`: "parcel", "courier" and "late"
  all add "delivery"), weighted by TF-IDF (sublinear counts, words in more than half the
  comments dropped).
- The model: NMF (Lee & Seung; scikit-learn's coordinate descent, `nndsvd` start, so the
  same comments give the same themes) fitted on the distinct wordings (a comment repeated
  word for word counts once, so boilerplate cannot pull a theme of its own), at most
  `FIT_SIZE` of them drawn with a fixed seed; every comment is then scored against it.
- How many themes: unless fixed, the number from `K_RANGE` whose themes are most coherent
  (the mean NPMI, normalised pointwise mutual information (Bouma 2009), of each theme's top
  terms over the comments: a standard topic-coherence measure that tracks human judgement)
  among the numbers whose every theme holds at least `MIN_THEME_SHARE` of the comments
  (coherence alone keeps rising as themes split into ever smaller ones). Themes about the
  same subject are then merged (NMF splits a big subject into facets), so a fixed number
  is an upper bound.
- A comment belongs to its strongest theme when that holds at least `MIN_SHARE` of its
  weight, else to none ("Other").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    TfidfVectorizer,
)

from analytics.errors import ConfigError
from analytics.feedback.model import ThemeModel

K_RANGE = range(4, 13)
FIT_SIZE = 20_000
MIN_SHARE = 0.4
MIN_WORDINGS = 20
MIN_THEME_SHARE = 0.02
SUBJECT_SHARE = 0.8  # a theme is about a subject when this share of its comments name it
TOP_TERMS = 8
OTHER = "Other"
SIGN_OFFS = (
    "very disappointed", "not happy", "please fix", "fix this", "thank you", "thanks",
    "keep it up", "keep up", "overall",
)  # fmt: skip
# Words customers use for the same subject, folded into one term the comments then share
# (added to the text, not replacing it): short comments about one subject often share no
# word ("Cheaper elsewhere.", "Not worth the money."), and without a language model nothing
# else tells the vectoriser they belong together. Generic customer-experience vocabulary,
# matched as word beginnings.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "delivery": ("deliver", "parcel", "package", "courier", "shipping", "shipment", "shipped",
                 "tracking", "dispatch", "postage", "arriv", "late", "delay"),
    "price": ("price", "pricey", "expensive", "cheap", "cost", "money", "value", "overpriced",
              "discount", "afford", "fee", "charge"),
    "quality": ("quality", "broke", "broken", "stitch", "material", "fabric", "faulty",
                "defect", "damage", "torn", "durable", "flimsy", "description"),
    "support": ("support", "service", "agent", "phone", "email", "answer", "reply", "respon",
                "rude", "helpful", "unhelpful", "staff", "waited", "call"),
    "website": ("website", "site", "checkout", "app", "login", "password", "page", "online",
                "confusing", "navigat", "search", "cart"),
    "size": ("size", "sizes", "sizing", "fit", "fits", "small", "large", "tight", "loose"),
    "returns": ("return", "refund", "exchange", "replacement"),
}  # fmt: skip
_SUBJECT = {
    name: re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")")
    for name, words in SUBJECTS.items()
}
_STOP = sorted(
    w
    for w in ENGLISH_STOP_WORDS | {"did", "got", "just", "really", "ve", "ll", "im"}
    if not any(p.match(w) for p in _SUBJECT.values())  # "call" is about support
)
_SIGN_OFF = re.compile(r"\b(" + "|".join(re.escape(s) for s in SIGN_OFFS) + r")\b")


def clean(text: str) -> str:
    """What the vectoriser reads: lower case, sign-off phrases taken out."""
    return _SIGN_OFF.sub(" ", text.lower())


def subjects(text: str) -> list[str]:
    """The `SUBJECTS` a (cleaned) text mentions."""
    return [name for name, pattern in _SUBJECT.items() if pattern.search(text)]


_WORDS = CountVectorizer(
    preprocessor=clean,
    stop_words=_STOP,
    ngram_range=(1, 2),
    token_pattern=r"(?u)\b[a-z][a-z]+\b",
).build_analyzer()


def _terms(text: str) -> list[str]:
    """A text's terms: its words and word pairs, and the subjects it mentions."""
    return [*_WORDS(text), *subjects(clean(text))]


def _vectoriser(n_docs: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer=_terms,
        min_df=max(2, int(0.0005 * n_docs)),
        max_df=0.5,
        sublinear_tf=True,
    )


def fit_themes(texts: Sequence[str], *, k: int | None = None, seed: int = 0) -> ThemeModel:
    """Themes of `texts` (k of them, or the best number in `K_RANGE`: see the module)."""
    if k is not None and not 2 <= k <= 30:
        raise ConfigError(f"Choose 2 to 30 themes; got {k}.")
    # Each wording once: comments repeated word for word (templates, sign-offs, bots) would
    # otherwise pull themes of their own; the repeats still count for the themes' volume.
    counts = Counter(c for c in (clean(t).strip(" .,!?") for t in texts if t and t.strip()) if c)
    docs = sorted(counts)
    if len(docs) > FIT_SIZE:
        chosen = np.random.default_rng(seed).choice(len(docs), FIT_SIZE, replace=False)
        docs = [docs[i] for i in np.sort(chosen)]
    if len(docs) < MIN_WORDINGS:
        raise ConfigError(
            f"Themes need at least {MIN_WORDINGS} differently worded comments; there are "
            f"{len(docs)}."
        )
    vectoriser = _vectoriser(len(docs))
    try:
        matrix = vectoriser.fit_transform(docs)
    except ValueError as exc:  # every word too rare or too common
        raise ConfigError(f"The comments share too few words to find themes ({exc}).") from exc
    terms = vectoriser.get_feature_names_out()
    present = (matrix > 0).astype(np.float64).tocsc()
    weights = np.array([counts[d] for d in docs], dtype=np.float64)
    tried = [k] if k is not None else [c for c in K_RANGE if c < min(len(terms), len(docs))]
    if not tried:
        raise ConfigError("The comments share too few words to find themes.")
    fits = {}
    for candidate in tried:
        model = NMF(n_components=candidate, init="nndsvd", random_state=seed, max_iter=1000)
        doc_weights = model.fit_transform(matrix)
        smallest = _smallest_share(doc_weights, weights)
        coherence = _coherence(model.components_, present)
        fits[candidate] = (model.components_, coherence, smallest, doc_weights)
    substantial = [c for c in tried if fits[c][2] >= MIN_THEME_SHARE] or tried[:1]
    best = max(substantial, key=lambda c: (round(fits[c][1], 3), -c))
    components, coherence, _, doc_weights = fits[best]
    components = _merged(components, doc_weights, docs)
    top = tuple(_top_terms(row, terms) for row in components)
    return ThemeModel(
        vocabulary=tuple(terms),
        idf=vectoriser.idf_.copy(),
        components=components,
        top_terms=top,
        labels=_labels(top),
        coherence=coherence,
        k_scores=tuple((c, round(fits[c][1], 4), round(fits[c][2], 4)) for c in tried),
    )


def _merged(components: np.ndarray, doc_weights: np.ndarray, docs: Sequence[str]) -> np.ndarray:
    """Themes about the same subject made one (their term weights added): NMF splits a big
    subject into facets ("delivery · delayed", "late · arrived") that readers take as one.
    A theme is about a subject when at least `SUBJECT_SHARE` of its comments mention it
    (`SUBJECTS`); other themes stay as they are."""
    themes_of, _ = _strongest(doc_weights)
    mentions = [set(subjects(d)) for d in docs]
    groups: dict[object, list[int]] = {}
    for theme in range(components.shape[0]):
        members = [mentions[i] for i in np.flatnonzero(themes_of == theme)]
        key: object = ("theme", theme)
        if members:
            counts = Counter(s for m in members for s in m)
            if counts:
                subject, seen = counts.most_common(1)[0]
                if seen >= SUBJECT_SHARE * len(members):
                    key = ("subject", subject)
        groups.setdefault(key, []).append(theme)
    return np.vstack([components[rows].sum(axis=0) for rows in groups.values()])


def _smallest_share(doc_weights: np.ndarray, counts: np.ndarray) -> float:
    """The smallest theme's share of the comments (each wording counted as often as it
    was written), comments assigned as `assign` does."""
    themes_of, _ = _strongest(doc_weights)
    volume = np.array([counts[themes_of == j].sum() for j in range(doc_weights.shape[1])])
    return float(volume.min() / counts.sum())


def _top_terms(row: np.ndarray, terms: np.ndarray) -> tuple[str, ...]:
    order = np.argsort(-row, kind="stable")
    return tuple(str(terms[i]) for i in order[:TOP_TERMS] if row[i] > 0)


def _coherence(components: np.ndarray, present: sparse.csc_matrix, top: int = 10) -> float:
    """Mean NPMI of every theme's top term pairs over the documents (`present`: binary)."""
    n = present.shape[0]
    scores = []
    for row in components:
        idx = np.argsort(-row, kind="stable")[:top]
        columns = present[:, idx]
        together = (columns.T @ columns).toarray() / n
        alone = np.diag(together)
        pairs = []
        for i in range(len(idx)):
            for j in range(i + 1, len(idx)):
                joint = together[i, j]
                if joint == 0:
                    pairs.append(-1.0)
                elif joint >= 1:
                    pairs.append(1.0)
                else:
                    pairs.append(np.log(joint / (alone[i] * alone[j])) / -np.log(joint))
        scores.append(float(np.mean(pairs)) if pairs else 0.0)
    return float(np.mean(scores))


def _labels(top: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """A readable label per theme: its three strongest terms, a word left out when a pair
    already holds it ("late delivery" rather than "late delivery · delivery"); labels made
    unique."""
    labels: list[str] = []
    for terms in top:
        chosen: list[str] = []
        for term in terms:
            words = set(term.split())
            if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == 3:
                break
        label = " · ".join(chosen) or "(no terms)"
        while label in labels:
            label += " (2)"
        labels.append(label)
    return tuple(labels)


def assign(model: ThemeModel, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each text's theme (index into the model's themes, -1 for none) and that theme's
    share of the text's weight."""
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    vectoriser = _vectoriser(2)
    vectoriser.vocabulary_ = {t: i for i, t in enumerate(model.vocabulary)}
    vectoriser.idf_ = model.idf
    matrix = vectoriser.transform(list(texts))
    nmf = NMF(n_components=model.k, init="custom", max_iter=400)
    nmf.components_ = model.components
    nmf.n_components_ = model.k
    nmf.n_features_in_ = len(model.vocabulary)
    return _strongest(nmf.transform(matrix))


def _strongest(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's strongest theme (-1 when under `MIN_SHARE` of its weight) and its share."""
    totals = weights.sum(axis=1)
    shares = np.divide(
        weights, totals[:, None], out=np.zeros_like(weights), where=totals[:, None] > 0
    )
    best = shares.argmax(axis=1)
    share = shares[np.arange(len(best)), best]
    return np.where(share >= MIN_SHARE, best, -1), share


def dictionary_matches(texts: pl.Series, dictionary: Mapping[str, Sequence[str]]) -> pl.Series:
    """The first theme of the analyst's `dictionary` (theme -> keywords or phrases, matched
    as whole words, case-insensitively) each text mentions, else null."""
    result = pl.Series(texts.name, [None] * texts.len(), dtype=pl.String)
    for theme, words in reversed(list(dictionary.items())):  # the first listed wins
        if not words:
            continue
        pattern = r"(?i)\b(" + "|".join(re.escape(w.strip()) for w in words if w.strip()) + r")\b"
        hit = texts.str.contains(pattern).fill_null(False)
        result = pl.select(pl.when(hit).then(pl.lit(theme)).otherwise(result)).to_series()
    return result.rename(texts.name)
