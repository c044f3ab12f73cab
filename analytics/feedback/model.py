"""A fitted theme model, apart from the fitting (`analytics.feedback.themes`): reading a
stored analysis needs the model's shape, not scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ThemeModel:
    """A fitted theme model: the vectoriser's vocabulary and weights, the themes' term
    weights (one row per theme), and each theme's top terms and label."""

    vocabulary: tuple[str, ...]
    idf: np.ndarray
    components: np.ndarray
    top_terms: tuple[tuple[str, ...], ...]
    labels: tuple[str, ...]
    coherence: float
    k_scores: tuple[tuple[int, float, float], ...]  # (k, mean NPMI, smallest share) tried
    ids: tuple[int, ...] = ()  # stable ids of the themes across builds (default: 0..k-1)

    @property
    def k(self) -> int:
        return len(self.labels)

    def with_ids(self, ids: Sequence[int]) -> ThemeModel:
        return replace(self, ids=tuple(ids))
