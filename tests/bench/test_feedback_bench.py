"""The feedback benchmark's generator and sides (bench/feedback.py), at a tiny size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl

_PATH = Path(__file__).resolve().parents[2] / "bench" / "feedback.py"
_spec = importlib.util.spec_from_file_location("bench_feedback", _PATH)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_feedback"] = bench
_spec.loader.exec_module(bench)


def test_comments_are_seeded_varied_and_fit_the_contract():
    first = bench.comments(2_000, seed=3)
    assert first.equals(bench.comments(2_000, seed=3))
    assert not first.equals(bench.comments(2_000, seed=4))
    assert first.height == 2_000 and first["response_id"].n_unique() == 2_000
    assert first["comment"].n_unique() > 1_000  # mostly worded differently
    assert first["nps"].min() >= 0 and first["nps"].max() <= 10
    canonical = bench._canonical(first)
    from analytics.contract import DATASETS

    assert canonical.columns == [c.name for c in DATASETS["surveys"].columns]


def test_an_append_is_built_from_the_previous_build(tmp_path):
    root = tmp_path / "feedback"
    bench.prepare(root, 1_500, seed=2)
    full = bench.worker("full", root, append=100, seed=2)
    append = bench.worker("append", root, append=100, seed=2)
    rebuild = bench.worker("rebuild", root, append=100, seed=2)
    assert append["model"]["reused"] is True and append["model"]["new_comments"] == 100
    assert append["texts_scored"] < 100 < rebuild["texts_scored"]
    assert rebuild["texts_scored"] > full["texts_scored"]
    assert not any(p.name.startswith("feedback-") for p in tmp_path.iterdir())  # copies gone
    assert pl.read_parquet(next((root / "_feedback").glob("*.comments.parquet"))).height == 1_500
