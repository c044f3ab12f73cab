"""Feedback: what customers write about, how it feels, what moves the scores, and the
comments themselves, each opening its Customer 360.

In the URL: `ftab` (the open tab), `fgroup` (NPS group), `fquarter` (the quarter compared with
the one before), `fperiod`, `ftarget` (the drivers' score), `fsearch`, `ftheme` and `ftone`
(verbatims). A click on a theme's bar opens the Verbatims tab on that theme."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from analytics.feedback import views as feedback_views
from analytics.periods import period_label, period_start, shift
from dashboard import data, state
from dashboard import format as fmt
from dashboard.charts import feedback as charts
from dashboard.components import charts as draw
from dashboard.components import drill, empty, url
from dashboard.components.feedback_dictionary import dictionary_tab

GROUPS = {"all": "Everyone", "detractor": "Detractors", "passive": "Passives",
          "promoter": "Promoters", "tickets": "Tickets"}  # fmt: skip
COMMENTS_OF = {"all": "all comments", "detractor": "detractors' comments",
               "passive": "passives' comments", "promoter": "promoters' comments",
               "tickets": "ticket texts"}  # fmt: skip
TONES = {"any": "Any", "negative": "Negative", "neutral": "Neutral", "positive": "Positive"}
TARGETS = {"nps": "NPS", "csat": "CSAT", "ces": "CES (lower effort)"}
OPEN_VERBATIMS = "feedback_open_verbatims"  # a theme was clicked: open the Verbatims tab
BUILDING = (
    "Analysing the comments of the current data: sentiment and themes are computed once per "
    "load, in the background. This page fills in by itself when they are ready."
)

warehouse = data.warehouse(data.settings())
filters = state.filters()
st.title("Feedback")
empty.stop_unless_data(warehouse)
built = empty.built_or_stop(
    lambda: data.feedback_built(warehouse),
    BUILDING,
    "Analysing…",
    earlier=lambda: data.earlier_feedback(warehouse),
    shown="These are the comment themes",
)
if built.meta["comments"] == 0:
    st.info("No survey comments are loaded yet: load a survey export with comments.")
    st.stop()

latest = period_start(datetime.fromisoformat(str(built.meta["last"])).date(), "quarter")
quarters = [period_label(shift(latest, "quarter", -i), "quarter") for i in range(8)]
left, middle = st.columns(2)
group = url.choice(
    left.selectbox, "Comments of", list(GROUPS), key="fgroup", default="all",
    format_func=GROUPS.__getitem__,
)  # fmt: skip
quarter = url.choice(
    middle.selectbox, "Quarter against the one before", quarters, key="fquarter",
    default=quarters[0],
)  # fmt: skip
chosen_group = None if group == "all" else group
st.caption(
    f"{fmt.count(built.meta['comments'])} comments in all. Themes are found in the comments "
    "themselves and named by their strongest words; sentiment runs from −1 (negative) to 1 "
    "(docs/feedback.md)."
)


def _p_value(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


# Only the open tab runs and is drawn (choosing another reruns the page). A tab is opened
# from the code by its key before the tabs are drawn, so a clicked theme reruns first.
if st.session_state.pop(OPEN_VERBATIMS, False):
    st.session_state["ftab"] = "Verbatims"
themes_tab, sentiment_tab, drivers_tab, verbatims_tab, dictionary = st.tabs(
    ["Themes", "Sentiment", "Key drivers", "Verbatims", "Dictionary"],
    key="ftab",
    bind="query-params",
)

with themes_tab:
    if themes_tab.open:
        table = data.feedback_themes(warehouse, filters, quarter, chosen_group)
        if table["comments"].fill_null(0).sum() == 0:
            st.info("No comments in the chosen filters and quarter.")
        else:
            growing = table.filter(
                (pl.col("theme") != feedback_views.OTHER_ID)
                & (pl.col("change") > 0)
                & (pl.col("p_value") < 0.05)
            )
            if not growing.is_empty():
                top = growing.row(0, named=True)
                st.markdown(
                    f"**Growing fastest in {quarter}:** {top['label']}, "
                    f"{fmt.percent(100 * top['share'])} of {COMMENTS_OF[group]} "
                    f"against {fmt.percent(100 * top['share_previous'])} the quarter before "
                    f"(p = {top['p_value']:.2g})."
                )
            opened = draw.clicks(
                charts.theme_shares(table, compared=True), key=drill.chart_key("feedback_shares")
            )
            note = fmt.hidden_note(table["hidden"].to_list())
            st.caption("Click a theme's bar to read its comments." + (f" {note}" if note else ""))
            if opened:
                drill.go_to(ftheme=opened[0])
                st.session_state[OPEN_VERBATIMS] = True
                st.rerun()
            examples = data.feedback_examples(warehouse, filters, chosen_group)
            shown = table.filter(
                (pl.col("comments").fill_null(1) > 0) | (pl.col("share_previous").fill_null(0) > 0)
            ).join(examples, on="theme", how="left", maintain_order="left")
            st.dataframe(
                shown.select(
                    pl.col("label").alias("Theme"),
                    pl.col("top_terms").list.head(5).list.join(", ").alias("Words"),
                    pl.col("comments").alias("Comments"),
                    pl.col("share").mul(100).alias("Share"),
                    pl.col("change").mul(100).alias("Change (pts)"),
                    pl.col("p_value")
                    .map_elements(_p_value, return_dtype=pl.String)
                    .fill_null(fmt.MISSING)
                    .alias("p-value"),
                    pl.col("sentiment").alias("Sentiment"),
                    pl.col("nps").alias("NPS"),
                    pl.col("examples")
                    .list.eval(pl.lit("“") + pl.element() + pl.lit("”"))
                    .list.join("  ")
                    .fill_null("")
                    .alias("Examples"),
                ),
                hide_index=True,
                column_config={
                    "Words": st.column_config.TextColumn(width="medium"),
                    "Examples": st.column_config.TextColumn(width="large"),
                    "Comments": st.column_config.NumberColumn(format="localized"),
                    "Share": st.column_config.NumberColumn(format="%.1f%%"),
                    "Change (pts)": st.column_config.NumberColumn(format="%+.1f"),
                    "Sentiment": st.column_config.NumberColumn(format="%.2f"),
                    "NPS": st.column_config.NumberColumn(format="%.1f"),
                },
            )
            st.markdown(f"**Themes quarter by quarter** ({COMMENTS_OF[group]})")
            draw.show(
                charts.theme_trend(
                    data.feedback_trend(warehouse, filters, "quarter", chosen_group)
                ),
                key="feedback_trend",
            )
            st.caption(
                "A filled marker: the change from the quarter before is significant (p < 0.05)."
            )
            st.markdown("**What each NPS group talks about** (all dates in the filters)")
            draw.show(
                charts.theme_heatmap(data.feedback_groups(warehouse, filters)),
                key="feedback_groups",
            )

with sentiment_tab:
    if sentiment_tab.open:
        period = url.choice(
            st.segmented_control, "Period", ["month", "quarter"], key="fperiod", default="month",
            format_func=str.capitalize,
        )  # fmt: skip
        trend = data.feedback_sentiment(warehouse, filters, period or "month")
        if trend.is_empty():
            st.info("No comments in the chosen filters and date range.")
        else:
            draw.show(charts.sentiment_chart(trend), key="feedback_sentiment")
            st.caption(
                "NPS counts every response with a score; sentiment, the responses with a comment."
            )

with drivers_tab:
    if drivers_tab.open:
        target = url.choice(
            st.segmented_control, "Explain", list(TARGETS), key="ftarget", default="nps",
            format_func=TARGETS.__getitem__,
        )  # fmt: skip
        drivers, r2, n, why = data.feedback_drivers(warehouse, filters, target or "nps")
        if drivers is None:
            st.info(why or "No key drivers in the chosen filters.")
        else:
            labels = [feedback_views.driver_label(d) for d in drivers["driver"].to_list()]
            st.markdown(
                f"The drivers explain **{fmt.percent(100 * r2)}** of the variation in "
                f"{TARGETS[target or 'nps']} across **{fmt.count(n)}** responses "
                "(relative weights)."
            )
            draw.show(charts.driver_quadrant(drivers, labels), key="feedback_quadrant")
            st.dataframe(
                drivers.select(
                    pl.Series("Driver", labels),
                    pl.col("importance").alias("Importance"),
                    pl.col("performance").alias("Performance"),
                    (
                        pl.col("quadrant").str.to_uppercase().str.slice(0, 1)
                        + pl.col("quadrant").str.slice(1)
                    )
                    .fill_null(fmt.MISSING)
                    .alias("Quadrant"),
                ),
                hide_index=True,
                column_config={
                    "Importance": st.column_config.ProgressColumn(format="percent", max_value=1),
                    "Performance": st.column_config.NumberColumn(format="percent"),
                },
            )

with verbatims_tab:
    if verbatims_tab.open:
        one, two, three = st.columns([2, 1, 1])
        search = one.text_input("Search the comments", key="fsearch_box",
                                value=drill.param("fsearch") or "")  # fmt: skip
        theme_names = {t["id"]: t["label"] for t in built.meta["themes"]}
        theme_names[feedback_views.OTHER_ID] = feedback_views.OTHER_LABEL
        theme = url.choice(
            two.selectbox, "Theme", ["any", *theme_names], key="ftheme", default="any",
            format_func=lambda t: "Any" if t == "any" else theme_names[t],
        )  # fmt: skip
        tone = url.choice(
            three.selectbox, "Tone", list(TONES), key="ftone", default="any",
            format_func=TONES.__getitem__,
        )  # fmt: skip
        if search != (drill.param("fsearch") or ""):
            st.query_params["fsearch"] = search
        found, hidden = data.feedback_verbatims(
            warehouse, filters, search, None if theme == "any" else theme,
            None if tone == "any" else tone, chosen_group,
        )  # fmt: skip
        if hidden:
            st.info(f"These comments are hidden from you: {hidden}.")
        elif found.is_empty():
            st.info("No comments match.")
        else:
            st.caption(
                f"{fmt.rows(found.height, 'comment')}, newest first. Select one for its customer."
            )
            picked = st.dataframe(
                found.select(
                    pl.col("at").dt.date().alias("Date"),
                    pl.col("text").alias("Comment"),
                    pl.col("label").alias("Theme"),
                    pl.col("sentiment").alias("Sentiment"),
                    pl.col("nps").cast(pl.String).fill_null(fmt.MISSING).alias("NPS score"),
                    pl.col("customer_id").fill_null("anonymous").alias("Customer"),
                ),
                key=drill.chart_key("feedback_verbatims"),
                on_select="rerun",
                selection_mode="single-row",
                hide_index=True,
                column_config={
                    "Date": st.column_config.DateColumn(format="YYYY-MM-DD"),
                    "NPS score": st.column_config.TextColumn(width="small"),
                    "Comment": st.column_config.TextColumn(width="large"),
                    "Sentiment": st.column_config.NumberColumn(format="%.2f"),
                },
            )
            rows = picked["selection"]["rows"] if picked else []
            if rows:
                customer = found["customer_id"][rows[0]]
                if customer is None:
                    st.caption("That comment is anonymous: there is no customer to open.")
                else:
                    st.switch_page("views/customer.py", query_params={"customer": customer})

with dictionary:
    if dictionary.open:
        dictionary_tab(warehouse, built, can_edit=state.account().can("data"))
