"""The review as a PowerPoint deck (python-pptx): a title slide, then one 16:9 slide per
section with its title, its message and points as editable text, its chart as a
high-resolution image and its table as a native (editable) table; the view that shows more
goes in the speaker notes."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import polars as pl
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from analytics.review import Review
from analytics.review import story as review_story

if TYPE_CHECKING:
    from pptx.presentation import Presentation as Deck
    from pptx.slide import Slide
    from pptx.text.text import TextFrame

    from dashboard.review_files import Page

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
INK = RGBColor(0x1F, 0x29, 0x33)
MUTED = RGBColor(0x52, 0x60, 0x6D)
TITLE_ONLY = 5
MAX_TABLE_ROWS = 12
TONES = {"good": RGBColor(0x00, 0x7A, 0x5A), "bad": RGBColor(0xC0, 0x39, 0x2B)}
LINE_18, LINE_14 = Inches(0.34), Inches(0.27)  # a line of text at 18 and 14 points


def pptx(review: Review, pages: list[Page], images: dict[str, bytes], *, audience: str) -> bytes:
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    _cover(deck, review, audience)
    for page in pages:
        _slide(deck, page, images.get(page.section.key))
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _cover(deck: Deck, review: Review, audience: str) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = review_story.title(review)
    subtitle = slide.placeholders[1]
    subtitle.text = (
        f"{review_story.subtitle(review)}\nFor {audience}\n"
        f"Data: {review_story.versions_text(review)}"
    )
    for paragraph in subtitle.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(18)
            run.font.color.rgb = MUTED


def _slide(deck: Deck, page: Page, image: bytes | None) -> None:
    section = page.section
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    title = slide.shapes.title
    title.text = section.title
    title.left, title.top, title.width, title.height = (
        MARGIN,
        Inches(0.3),
        WIDTH - 2 * MARGIN,
        Inches(0.8),
    )
    title.text_frame.paragraphs[0].runs[0].font.size = Pt(30)
    top = Inches(1.15)
    text_height = _lines(section.message, 95) * LINE_18 + sum(
        _lines(point, 120) * LINE_14 for point in section.points
    )
    box = slide.shapes.add_textbox(MARGIN, top, WIDTH - 2 * MARGIN, Emu(text_height))
    frame = box.text_frame
    frame.word_wrap = True
    _paragraph(frame, section.message, size=18, first=True)
    for point in section.points:
        _paragraph(frame, f"• {point}", size=14, colour=MUTED)
    top = Emu(top + text_height + Inches(0.25))
    room = Emu(HEIGHT - top - Inches(0.3))
    if image is not None:
        _picture(slide, image, top, room)
    elif page.table is not None:
        _table(slide, page.table, page.tones or [], top, room)
    if section.link:
        slide.notes_slide.notes_text_frame.text = (
            f"{section.message}\n\nIn Touchpoint: {section.link}"
        )


def _paragraph(
    frame: TextFrame, text: str, *, size: int, colour: RGBColor = INK, first: bool = False
) -> None:
    paragraph = frame.paragraphs[0] if first else frame.add_paragraph()
    run = paragraph.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.color.rgb = colour


def _lines(text: str, per_line: int) -> int:
    """Lines `text` takes at about `per_line` characters a line."""
    return max(1, math.ceil(len(text) / per_line))


def _picture(slide: Slide, image: bytes, top: Emu, room: Emu) -> None:
    """The chart, as large as the room under the text allows, centred."""
    picture = slide.shapes.add_picture(io.BytesIO(image), MARGIN, top)
    width, height = picture.width, picture.height
    scale = min((WIDTH - 2 * MARGIN) / width, room / height)
    picture.width, picture.height = Emu(int(width * scale)), Emu(int(height * scale))
    picture.left = Emu((WIDTH - picture.width) // 2)


def _table(slide: Slide, frame: pl.DataFrame, tones: list[list[str]], top: Emu, room: Emu) -> None:
    """A native table: the header, then at most `MAX_TABLE_ROWS` rows, significant changes
    coloured as on the page."""
    rows = frame.rows()[:MAX_TABLE_ROWS]
    shape = slide.shapes.add_table(
        len(rows) + 1,
        len(frame.columns),
        MARGIN,
        top,
        Emu(WIDTH - 2 * MARGIN),
        Emu(min(room, Inches(0.4) * (len(rows) + 1))),
    )
    table = shape.table
    for j, name in enumerate(frame.columns):
        table.cell(0, j).text = name
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            table.cell(i, j).text = str(value)
    for i in range(len(rows) + 1):
        for j in range(len(frame.columns)):
            tone = tones[i - 1][j] if 0 < i <= len(tones) else ""
            for paragraph in table.cell(i, j).text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(13)
                    if tone in TONES:
                        run.font.color.rgb = TONES[tone]
                        run.font.bold = True
