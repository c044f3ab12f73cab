"""docs/metrics.md documents every KPI, generated from the registry."""

from __future__ import annotations

from pathlib import Path

from analytics import kpis

ROOT = Path(__file__).resolve().parents[2]


def test_metrics_page_matches_the_registry():
    page = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert page == kpis.render_markdown(), (
        "docs/metrics.md is stale: run `python -m analytics metrics --write docs/metrics.md`"
    )


def test_every_kpi_has_a_row_with_its_definition():
    page = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    for item in kpis.KPIS:
        assert f"| {item.label} | `{item.key}` |" in page
        assert item.definition in page
        assert len(item.definition) > 30, f"{item.key} needs a definition written for managers"
