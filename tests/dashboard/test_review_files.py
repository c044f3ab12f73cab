"""The review's files hold what they should: the HTML needs no network, the PDF's pages
(rendered to PNG with pdftoppm) are not blank and carry the title and page numbers, the
PPTX read back with python-pptx has one slide per section with the expected titles and
editable text. PDF and PPTX need Debian's chromium (and pdftoppm, from poppler-utils):
without them those tests skip loudly, except in CI (TOUCHPOINT_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from pptx import Presentation

from analytics import derived, review
from analytics.errors import ConfigError
from analytics.review import files
from analytics.warehouse import QueryGateway
from dashboard import review_files
from dashboard.review_files import chromium

TITLES = [
    "Quarterly review 2025-Q2", "The quarter in brief", "Scorecard", "NPS", "CSAT",
    "Retention rate", "Active customers", "Orders", "Tickets", "Where it moved",
    "What detractors talk about more", "Why customers wrote in",
    "How customers moved between segments", "Journey pain points that worsened",
    "Customers at risk with the most value", "About this review",
]  # fmt: skip


def _need(tool: str) -> None:
    found = shutil.which(tool) if tool != "chromium" else _chromium()
    if found:
        return
    reason = f"REVIEW FILE TESTS NOT RUN: {tool} is not installed (make browser installs it)."
    if os.environ.get("TOUCHPOINT_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _chromium() -> str | None:
    try:
        return str(chromium.executable())
    except ConfigError:
        return None


@pytest.fixture(scope="module")
def incident(sample_warehouse) -> review.Review:
    derived.refresh(sample_warehouse)
    return review.quarterly_review(QueryGateway(sample_warehouse), "2025-Q2")


class _Links(HTMLParser):
    """Every attribute that could make a browser fetch something, and every script's
    source text kept apart from the markup."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.markup: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action") and value:
                self.references.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.markup.append(data)


@pytest.mark.slow
def test_the_html_file_is_whole_and_needs_no_network(incident):
    html = review_files.render(incident, "html", audience="ana (analyst)").decode("utf-8")
    links = _Links()
    links.feed(html)

    assert links.references == []  # no stylesheet, script, image or link to fetch
    text = " ".join(links.markup)
    assert not re.search(r"https?://", text)
    assert "url(" not in html.split("<script>")[0]  # no CSS fetches either
    assert "<title>Quarterly review 2025-Q2</title>" in html
    assert html.count('class="chart" id="chart-') == 11
    assert "Plotly.newPlot" in html and "ana (analyst)" in html
    assert incident.highlights[0].text.replace("<", "&lt;") in html


@pytest.mark.slow
def test_the_pdf_has_a_title_page_page_numbers_and_pages_that_are_not_blank(incident, tmp_path):
    _need("chromium")
    _need("pdftoppm")
    pdf = tmp_path / "review.pdf"
    pdf.write_bytes(review_files.render(incident, "pdf", audience="ana (analyst)"))

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(TITLES)
    for page in pages:
        with Image.open(page) as image:
            spread = ImageStat.Stat(image.convert("L")).stddev[0]
        assert spread > 5, f"{page.name} is blank"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    assert "Quarterly review 2025-Q2" in text[0] and "ana (analyst)" in text[0]
    assert f"Page 1 of {len(TITLES)}" in text[0]
    assert "NPS fell 16.5 points to 11.9" in text[3] and f"Page 4 of {len(TITLES)}" in text[3]


@pytest.mark.slow
def test_the_deck_has_a_slide_per_section_with_editable_titles_and_text(incident):
    _need("chromium")
    deck = Presentation(io.BytesIO(review_files.render(incident, "pptx", audience="ana")))

    slides = list(deck.slides)
    assert [s.shapes.title.text for s in slides] == TITLES
    nps = slides[3]
    texts = [shape.text_frame.text for shape in nps.shapes if shape.has_text_frame]
    assert incident.highlights[0].text in texts
    pictures = [shape for shape in nps.shapes if shape.shape_type == 13]  # a picture
    assert len(pictures) == 1 and pictures[0].image.content_type == "image/png"
    with Image.open(io.BytesIO(pictures[0].image.blob)) as chart:
        assert chart.size[0] >= 1800  # drawn at twice the CSS resolution
    scorecard = slides[2]
    (table,) = [shape.table for shape in scorecard.shapes if shape.has_table]
    assert [c.text for c in table.rows[0].cells] == [
        "KPI", "Value", "95 % interval", "vs quarter before", "vs a year before",
    ]  # fmt: skip
    assert table.cell(1, 0).text == "NPS" and table.cell(1, 1).text == "11.9"
    assert "kpis?kpi=nps" in nps.notes_slide.notes_text_frame.text


def test_without_chromium_pdf_says_what_to_install(incident, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("TOUCHPOINT_CHROMIUM", raising=False)
    with pytest.raises(ConfigError, match="Install Debian's chromium package"):
        review_files.render(incident, "pdf", audience="ana")
    monkeypatch.setenv("TOUCHPOINT_CHROMIUM", "/no/such/chromium")
    with pytest.raises(ConfigError, match="TOUCHPOINT_CHROMIUM names /no/such/chromium"):
        review_files.render(incident, "pptx", audience="ana")


def test_the_command_line_finds_the_renderer_through_its_entry_point():
    assert files.renderer() is review_files.render
    assert files.parse_versions("customers=3, orders=5") == {"customers": 3, "orders": 5}
    assert Path(review_files.__file__).with_name("review.html.j2").is_file()
