"""The review benchmark (bench/review.py) end to end at a tiny size: the report it writes has
every side timed, with the derived builds in place, and a reused company reuses its builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "review.py"
CHROMIUM = Path("/usr/bin/chromium")
TINY = {"customers": 2_000, "orders": 20_000, "surveys": 4_000, "tickets": 1_000, "events": 20_000}


def run_bench(work: Path, *args: str) -> dict[str, Any]:
    out = work / "review.json"
    sizes = [f"--{k}={v}" for k, v in TINY.items()]
    command = [sys.executable, str(BENCH), *sizes, "--repeat", "1", "--work", str(work),
               "--out", str(out), *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "x scorecard" in done.stdout  # the table was printed
    return dict(json.loads(out.read_text()))


def assert_timed(report: dict[str, Any], company: str, sides: set[str]) -> dict[str, Any]:
    found = report[company]
    assert set(found["sides"]) == sides
    for side, r in found["sides"].items():
        assert 0 < r["min"] <= r["median"] <= r["max"], side
        assert len(r["runs"]) == report["repeat"] == 1
        assert r["peak_mb"] > 50, side  # a real worker process's own peak, in MB
    assert found["sides"]["scorecard"]["ratio"] == pytest.approx(1.0)
    review = found["sides"]["review"]["median"] if "review" in sides else None
    if review is not None:
        assert found["sides"]["review"]["ratio"] == pytest.approx(
            review / found["sides"]["scorecard"]["median"]
        )
    assert found["snapshot"]["left_out"] == []  # every derived build was there to read
    return dict(found)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review_bench")


@pytest.fixture(scope="module")
def tiny(work: Path) -> dict[str, Any]:
    return run_bench(work, "--skip-sample", "--sides", "review,html")


def test_a_tiny_scale_company_is_built_and_every_side_timed(tiny, work):
    assert "sample" not in tiny and tiny["sides"] == ["scorecard", "review", "html"]
    found = assert_timed(tiny, "scale", {"scorecard", "review", "html"})
    assert found["spec"] | TINY == found["spec"]
    assert found["load"]["reused"] is False and found["load"]["rows"]["orders"] == TINY["orders"]
    assert {"segments", "journeys", "feedback"} <= set(found["derived"]["parts"])
    assert found["quarter"] == "2025-Q4"  # the scale company's data ends on 2025-12-31
    assert found["snapshot"]["highlights"] and found["snapshot"]["sections"] > 5
    assert {"region", "themes", "pain_points", "customers_at_risk"} <= set(
        found["snapshot"]["movers"]
    )
    assert found["sides"]["html"]["bytes"] > 1_000_000  # Plotly's script is inside the file
    assert (Path(found["root"]) / "_bench_review.pickle").is_file()


@pytest.mark.slow
def test_pdf_and_pptx_are_drawn_by_chromium_from_the_reused_company(tiny, work):
    if not CHROMIUM.is_file():
        reason = f"REVIEW FILES NOT BENCHED: no Chromium at {CHROMIUM} (`make browser`)."
        if os.environ.get("TOUCHPOINT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    again = run_bench(work, "--skip-sample", "--sides", "pdf,pptx")
    found = assert_timed(again, "scale", {"scorecard", "pdf", "pptx"})
    assert found["load"]["reused"] is True and found["derived"]["parts"] == {}
    assert found["snapshot"]["data_versions"] == tiny["scale"]["snapshot"]["data_versions"]
    for side in ("pdf", "pptx"):
        r = found["sides"][side]
        assert r["bytes"] > 10_000 and r["pages"] > 5, side
        assert r["child_peak_mb"] > 0, side  # Chromium ran, in processes of its own


@pytest.mark.slow
def test_the_sample_company_is_reviewed_in_a_folder_removed_afterwards(work):
    report = run_bench(work, "--skip-scale", "--sides", "review")
    found = assert_timed(report, "sample", {"scorecard", "review"})
    assert found["quarter"] == "2025-Q2" and found["spec"] is None
    assert found["snapshot"]["highlights"][0].startswith("NPS fell")  # the planted drop
    assert found["load"]["rows"]["customers"] > 1_000
    assert not Path(found["root"]).exists()
    assert not list(work.glob("review_sample_*"))
