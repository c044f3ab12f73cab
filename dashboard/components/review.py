"""The Review page's parts: a section of the story, presentation mode (one section per
full-screen slide, large type, keyboard and next/previous navigation) and the files to
take away (made on request with a progress bar, each download audited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import streamlit as st
import streamlit.components.v2 as components

from analytics.errors import ConfigError
from analytics.review import Review
from analytics.review import story as review_story
from analytics.review.story import Section
from dashboard import format as fmt
from dashboard import review_files, state
from dashboard.charts import review as review_charts
from dashboard.components import charts, downloads
from dashboard.review_tables import BAD, GOOD, table, tones

VIEWS = {
    "/": "views/overview.py",
    "/kpis": "views/kpis.py",
    "/segments": "views/segments.py",
    "/journeys": "views/journeys.py",
    "/feedback": "views/feedback.py",
}
FILE_LABELS = {"html": "HTML (interactive)", "pdf": "PDF", "pptx": "PowerPoint"}
SLIDE = "slide"

PRESENTING_CSS = """
<style>
section[data-testid="stSidebar"], header[data-testid="stHeader"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"] { display: none; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding: 2.2rem 4.5rem 1rem; }
[data-testid="stMain"] h1 { font-size: 3.4rem; }
[data-testid="stMain"] h2 { font-size: 2.7rem; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li {
  font-size: 1.6rem; line-height: 1.4; }
[data-testid="stMain"] [data-testid="stTable"] td,
[data-testid="stMain"] [data-testid="stTable"] th { font-size: 1.25rem; }
.st-key-review_nav { position: fixed; left: 0; right: 0; bottom: 0; z-index: 100;
  padding: .7rem 4.5rem; background: rgba(255, 255, 255, .94);
  border-top: 1px solid rgba(49, 51, 63, .12); }
.st-key-review_cover { padding-top: 18vh; }
[data-testid="stMainBlockContainer"] { padding-bottom: 6rem; }
</style>
"""

# Clickers send Page Down / Page Up: they press the Next / Previous buttons. Full screen is
# the browser's own (the Fullscreen API needs the page's document, hence a v2 component).
_KEYS_JS = """
export default function ({ parentElement }) {
  const button = parentElement.querySelector("button");
  button.onclick = () => {
    if (document.fullscreenElement) { document.exitFullscreen(); }
    else if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => {});
    }
  };
  if (!window.__touchpointClicker) {
    window.__touchpointClicker = true;
    document.addEventListener("keydown", (event) => {
      const which = { PageDown: "review_next", PageUp: "review_previous" }[event.key];
      const target = which && document.querySelector(`.st-key-${which} button`);
      if (target) { event.preventDefault(); target.click(); }
    });
  }
}
"""
_FULL_SCREEN = components.component(
    "touchpoint.full_screen",
    html='<button type="button" title="Full screen (the browser\'s Esc leaves it)">'
    "Full screen</button>",
    css="button { font: inherit; font-size: 1rem; width: 100%; min-height: 2.5rem;"
    " padding: .35rem .9rem; border-radius: .5rem; cursor: pointer;"
    " border: 1px solid rgba(49, 51, 63, .2); background: white; color: inherit; }",
    js=_KEYS_JS,
)


def section(found: Review, part: Section, *, large: bool = False) -> None:
    """One section: its title, message, points, chart or table, and where to see more."""
    st.header(part.title, divider=None if large else "gray")
    st.markdown(fmt.plain_text(part.message))
    if part.points:
        st.markdown("\n".join(f"{i}. {fmt.plain_text(p)}" for i, p in enumerate(part.points, 1)))
    drawn = review_charts.chart(part, found.quarter, large=large)
    if drawn is not None:
        key = f"review_{part.key}_{'large' if large else 'page'}"
        charts.show(drawn, key=key, themed=not large)  # a slide: its own large type
    shown = table(part)
    if shown is not None:
        if large:
            st.table(_toned(shown.head(10), tones(part), index=True))
        elif part.chart == "at_risk" and part.data is not None:
            _customers(shown, part.data["customer_id"].to_list())
        else:
            st.dataframe(_toned(shown, tones(part)), hide_index=True)
    if part.link and not large:
        _view_link(part.link)


TONE_COLOURS = {GOOD: "color: #007a5a; font-weight: 600", BAD: "color: #c0392b; font-weight: 600"}


def _toned(shown: pl.DataFrame, marks: pl.DataFrame | None, *, index: bool = False) -> Any:
    """The table, its significant changes coloured: green where better, red where worse."""
    frame = shown.to_pandas()
    if index:
        frame = frame.set_index(shown.columns[0])
    if marks is None:
        return frame
    styles = marks.to_pandas().replace({k: v for k, v in TONE_COLOURS.items()})
    styles.index = frame.index

    def style(column: Any) -> list[str]:
        if column.name in styles.columns:
            return list(styles[column.name])
        return [""] * len(column)

    return frame.style.apply(style)


def _customers(shown: pl.DataFrame, ids: list[str]) -> None:
    """The customers at risk; selecting one opens their Customer 360."""
    st.caption("Select a customer to open Customer 360.")
    event = st.dataframe(
        shown, key="review_at_risk", on_select="rerun", selection_mode="single-row",
        hide_index=True,
    )  # fmt: skip
    rows = event["selection"]["rows"] if event else []
    if rows:
        st.switch_page("views/customer.py", query_params={"customer": ids[rows[0]]})


def _view_link(link: str) -> None:
    parts = urlsplit(link)
    page = VIEWS.get(parts.path)
    if page is None:
        return
    params = state.filters().to_query() | dict(parse_qsl(parts.query))
    st.page_link(page, label="See more", icon=":material/arrow_forward:", query_params=params)


def presenting() -> bool:
    return st.query_params.get("present") == "1"


def start_presenting() -> None:
    st.query_params["present"] = "1"
    st.query_params[SLIDE] = "1"


def presentation(found: Review, parts: list[Section]) -> None:
    """The slide the URL names (`slide`, from 1; the title slide first)."""
    st.html(PRESENTING_CSS)
    count = len(parts) + 1
    try:
        at = min(max(int(st.query_params.get(SLIDE, "1")), 1), count)
    except ValueError:
        at = 1
    if at == 1:
        with st.container(key="review_cover"):
            st.title(review_story.title(found))
            st.markdown(fmt.plain_text(review_story.subtitle(found)))
            st.caption(f"Data: {review_story.versions_text(found)}")
    else:
        section(found, parts[at - 2], large=True)
    nav = st.container(key="review_nav")
    previous, counter, following, screen, leave = nav.columns(
        [2, 2, 2, 2, 2], vertical_alignment="center"
    )
    if previous.button(
        "Previous", icon=":material/arrow_back:", key="review_previous", shortcut="Left",
        disabled=at == 1, width="stretch",
    ):  # fmt: skip
        _go(at - 1)
    counter.markdown(f"**{at} / {count}**", text_alignment="center")
    if following.button(
        "Next", icon=":material/arrow_forward:", key="review_next", shortcut="Right",
        disabled=at == count, type="primary", width="stretch",
    ):  # fmt: skip
        _go(at + 1)
    with screen:
        _FULL_SCREEN(key="review_full_screen")
    if leave.button("Leave", icon=":material/close:", key="review_leave", shortcut="Esc"):
        st.query_params.pop("present", None)
        st.query_params.pop(SLIDE, None)
        st.rerun()


def _go(slide: int) -> None:
    st.query_params[SLIDE] = str(slide)
    st.rerun()


@st.fragment
def files(found: Review) -> None:
    """The review as a file: made when asked (with progress), then offered for download;
    each download is noted in the audit log."""
    account = state.account()
    audience = f"{account.name} ({account.role})"
    chosen = st.segmented_control(
        "File", list(FILE_LABELS), format_func=FILE_LABELS.__getitem__, default="pdf",
        key="review_format",
    ) or "pdf"  # fmt: skip
    made = st.session_state.setdefault("review_files", {})
    token = (found.quarter, repr(found.filters), repr(found.data_versions), chosen, audience)
    if st.button("Make the file", icon=":material/description:", key="review_make"):
        bar = st.progress(0.0, text="Starting…")
        try:
            content = review_files.render(
                found,
                chosen,
                audience=audience,
                progress=lambda done, what: bar.progress(done, what),
            )
        except ConfigError as problem:
            bar.empty()
            st.error(str(problem), icon=":material/error:")
            return
        bar.empty()
        made.clear()
        made[token] = content
    if token in made:
        name = review_files.file_name(found, chosen)
        st.download_button(
            f"Download {name}",
            made[token],
            name,
            review_files.MEDIA_TYPES[chosen],
            icon=":material/download:",
            type="primary",
            key="review_download",
            on_click=downloads.record,
            args=(name,),
        )
