"""The quarterly review as files to take away: one self-contained HTML file (charts inline
and interactive, a presentation mode, nothing fetched from the network), a paginated PDF
(title page, page numbers, vector charts) and a PPTX deck (one slide per section, editable
titles, messages and tables, the charts as high-resolution images).

All three are drawn from the same HTML, which the system Chromium (driven by Playwright)
prints to PDF and photographs chart by chart for the deck: the three files show the same
charts, those of the Review page drawn with Plotly (`figures`), which works without
Streamlit. `analytics.review.files` reaches `render` through the `touchpoint.review_files`
entry point, so the command line writes the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio
import plotly.offline
import polars as pl

from analytics.errors import ConfigError
from analytics.review import Review
from analytics.review import story as review_story
from analytics.review.files import FORMATS
from dashboard.review_files import figures
from dashboard.review_tables import table, tones

MEDIA_TYPES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
Progress = Callable[[float, str], None]
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Page:
    """One section as the files show it."""

    section: review_story.Section
    figure: dict[str, Any] | None  # Plotly's JSON of the chart
    table: pl.DataFrame | None
    tones: list[list[str]] | None = None  # per table cell: "good", "bad" or ""


def pages(review: Review) -> list[Page]:
    found = []
    for section in review_story.sections(review):
        drawn = figures.figure(section, review.quarter)
        figure = None if drawn is None else drawn.to_plotly_json()
        shown, marks = table(section), tones(section)
        found.append(
            Page(section, figure, shown, None if shown is None else _cell_tones(shown, marks))
        )
    return found


def render(
    review: Review, file_format: str, *, audience: str, progress: Progress | None = None
) -> bytes:
    """The review as a file of `file_format` (`FORMATS`); `audience` says whose view of the
    data it is (e.g. "ana (analyst)")."""
    report = progress or (lambda done, what: None)
    if file_format not in FORMATS:
        raise ConfigError(f"{file_format!r} is not a review file format: {', '.join(FORMATS)}.")
    report(0.05, "Drawing the charts")
    drawn = pages(review)
    report(0.25, "Writing the HTML")
    document = html_document(review, drawn, audience=audience)
    if file_format == "html":
        report(1.0, "Done")
        return document.encode("utf-8")
    from dashboard.review_files import chromium, deck

    if file_format == "pdf":
        report(0.4, "Printing the PDF with Chromium")
        data = chromium.pdf(document, footer=review_story.title(review))
    else:
        report(0.4, "Drawing the slides' charts with Chromium")
        images = chromium.chart_images(document, [p.section.key for p in drawn if p.figure])
        report(0.8, "Writing the slides")
        data = deck.pptx(review, drawn, images, audience=audience)
    report(1.0, "Done")
    return data


def _cell_tones(shown: pl.DataFrame, marks: pl.DataFrame | None) -> list[list[str]]:
    """Every cell's tone ("good", "bad" or ""), row by row, as the table's columns go."""
    return [
        [
            "" if marks is None or column not in marks.columns else marks[column][i]
            for column in shown.columns
        ]
        for i in range(shown.height)
    ]


def file_name(review: Review, file_format: str) -> str:
    return f"touchpoint-review-{review.quarter}.{file_format}"


def html_document(review: Review, drawn: list[Page], *, audience: str) -> str:
    """The review as one self-contained HTML document."""
    charts = [
        {"id": f"chart-{p.section.key}", "figure": p.figure} for p in drawn if p.figure is not None
    ]
    sections = [
        {
            "key": p.section.key,
            "title": p.section.title,
            "message": p.section.message,
            "points": p.section.points,
            "has_chart": p.figure is not None,
            "table": None
            if p.table is None
            else {"columns": p.table.columns, "rows": p.table.rows(), "tones": p.tones},
            "link": p.section.link,
        }
        for p in drawn
    ]
    return _TEMPLATES.get_template("review.html.j2").render(
        title=review_story.title(review),
        subtitle=review_story.subtitle(review),
        prepared=f"{date.today():%d %b %Y}",
        audience=audience,
        versions=review_story.versions_text(review),
        sections=sections,
        charts=_script_json(charts),
        plotly_js=_script_text(plotly.offline.get_plotlyjs()),
    )


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (no `</` can end it early)."""
    return pio.json.to_json_plotly(value).replace("</", "<\\/")


def _script_text(code: str) -> str:
    return code.replace("</script", "<\\/script")
