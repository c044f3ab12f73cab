"""The pages benchmark (bench/pages.py) on a company without touchpoint events: the Segments
page's sides build the segmentation they read, and the rollups' later parts only when another
side reads them; the Journeys page is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = ["--customers=400", "--orders=3000", "--surveys=300", "--tickets=100", "--events=0"]


def _run(tmp: Path, *only: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(BENCH / "pages.py"), *TINY, "--repeat=1",
               f"--work={tmp}", f"--out={tmp / 'pages.json'}", "--only", *only]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_the_segments_sides_run_without_events_after_building_the_segmentation(tmp_path):
    done = _run(tmp_path, "segment")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "pages.json").read_text())

    assert set(report["sides"]) == {
        "overview", "segments", "segments: migration", "segments: rfm grid",
        "segments: who to call", "segment members",
    }  # fmt: skip
    # The segmentation and the rollups' base parts; not the later ones, which no side reads.
    assert {"segments", "orders", "surveys", "tickets", "filter values"} == set(
        report["derived"]["parts"]
    )
    assert report["plan"]["segment"]


def test_a_kpis_side_beside_them_builds_every_rollup_part_after_the_segmentation(tmp_path):
    done = _run(tmp_path, "segments: rfm", "kpis week")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "pages.json").read_text())

    assert set(report["sides"]) == {"overview", "segments: rfm grid", "kpis week"}
    parts = list(report["derived"]["parts"])
    assert parts.index("segments") < parts.index("orders by segment")


def test_the_journeys_sides_are_refused_without_events(tmp_path):
    done = _run(tmp_path, "journeys")
    assert done.returncode == 2
    assert "--events must be at least 1" in done.stderr
    assert "segments: who to call" in done.stderr
