"""The Feedback page's Dictionary tab: the themes found in the comments, and for analysts the
theme dictionary (theme -> keywords, winning for the comments it matches) and the number of
themes to find, kept in the warehouse (audited) and applied in the background."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import streamlit as st

from analytics.errors import ConfigError
from analytics.feedback import StoredFeedback
from analytics.feedback import store as feedback_store
from analytics.feedback.settings import FeedbackSettings, parse_keywords
from analytics.warehouse import Warehouse
from dashboard import data

AUTOMATIC = "Automatic"


def dictionary_tab(warehouse: Warehouse, stored: StoredFeedback, *, can_edit: bool) -> None:
    settings = data.feedback_settings(warehouse)
    found = [t for t in stored.meta["themes"] if t["source"] == "discovered"]
    chosen = "chosen by coherence" if settings.k is None else f"at most {settings.k}, as set"
    st.markdown(f"**{len(found)} themes found in the comments** ({chosen}):")
    st.dataframe(
        pl.DataFrame(
            {
                "Theme": [t["label"] for t in found],
                "Strongest words": [", ".join(t["top_terms"][:8]) for t in found],
            }
        ),
        hide_index=True,
    )
    if stored.meta["model"].get("no_themes"):
        st.info(stored.meta["model"]["no_themes"])
    if not can_edit:
        if settings.dictionary:
            st.caption("Dictionary themes: " + ", ".join(settings.dictionary))
        st.caption("Analysts keep a theme dictionary that wins for the comments it matches.")
        return
    with st.form("feedback_dictionary"):
        st.markdown(
            "**Theme dictionary**: a theme and its keywords (comma-separated, matched as whole "
            "words in any case). It wins for the comments it matches; the first theme listed "
            "wins when several match."
        )
        edited = st.data_editor(
            pl.DataFrame(
                {
                    "Theme": list(settings.dictionary),
                    "Keywords": [", ".join(w) for w in settings.dictionary.values()],
                },
                schema={"Theme": pl.String, "Keywords": pl.String},
            ),
            num_rows="dynamic",
            hide_index=True,
            key="feedback_dictionary_editor",
            column_config={
                "Theme": st.column_config.TextColumn(required=True),
                "Keywords": st.column_config.TextColumn(width="large", required=True),
            },
        )
        options = [AUTOMATIC, *[str(k) for k in range(2, 31)]]
        k = st.selectbox(
            "Themes to find in the comments",
            options,
            index=0 if settings.k is None else options.index(str(settings.k)),
        )
        save = st.form_submit_button("Save and analyse again", type="primary")
    if not save:
        return
    try:
        wanted = _chosen(settings, pl.DataFrame(edited), k)
    except ConfigError as exc:
        st.error(f"Nothing was changed: {exc}", icon=":material/error:")
        return
    what = {"dictionary": ", ".join(wanted.dictionary), "themes": k}
    if data.change_settings(
        warehouse, lambda who: feedback_store.change_settings(warehouse, wanted, who, what)
    ):
        st.rerun()
    st.info("Those are the settings already in use: nothing to change.")


def _chosen(settings: FeedbackSettings, edited: pl.DataFrame, k: str) -> FeedbackSettings:
    dictionary: dict[str, tuple[str, ...]] = {}
    for theme, words in edited.select("Theme", "Keywords").iter_rows():
        name = (theme or "").strip()
        if not name and not (words or "").strip():
            continue  # an empty row
        if not name:
            raise ConfigError(f"The keywords {words!r} have no theme name.")
        if name in dictionary:
            raise ConfigError(f"The theme '{name}' is listed twice.")
        keywords = parse_keywords(words or "")
        if not keywords:
            raise ConfigError(f"The theme '{name}' has no keywords.")
        dictionary[name] = keywords
    return replace(settings, dictionary=dictionary, k=None if k == AUTOMATIC else int(k))
