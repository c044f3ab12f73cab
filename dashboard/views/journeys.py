"""Journeys: how customers move through the stages, where they drop off and are unhappy, and
the paths they take. Every number drills to its customers and Customer 360.

In the URL: `jtab` (the open tab), `jby` (compare by), `jgroup` (the map's group), `jsteps`,
`janchor`, `jrepeats` and `jcolour` (paths); a clicked funnel bar, pain point or path opens
its customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from analytics.journeys import painpoints
from analytics.journeys.paths import PathOptions
from analytics.journeys.views import BY_DIMENSIONS
from dashboard import data, state
from dashboard import format as fmt
from dashboard.charts import journeys as charts
from dashboard.components import charts as draw
from dashboard.components import drill, empty, url
from dashboard.components import segments as parts
from dashboard.components.journey_stages import stages_tab as stages_panel

LABELS = {
    "none": "Nothing",
    "acquisition_channel": "Acquisition channel",
    "segment": "RFM segment",
    "cluster": "Cluster",
    "region": "Region",
    "country": "Country",
    "plan": "Plan",
}
COMPARE = {k: v for k, v in LABELS.items() if k == "none" or k in BY_DIMENSIONS}
ANCHORS = {
    "start": "From the start",
    "first_purchase": "After the first purchase",
    "no_purchase": "Ending without a purchase",
}
REPEATS = {"collapse": "Collapse repeats", "keep": "Keep repeats"}
DROPPED = "journey_dropped"  # the funnel bar whose customers are open: (compare by, payload)
MAX_SIDE_BY_SIDE = 6
BUILDING = (
    "Building the journeys of the current data: every customer's touchpoints are put in order "
    "once per load, in the background. This page fills in by itself when they are ready."
)

warehouse = data.warehouse(data.settings())
filters = state.filters()
st.title("Journeys")
empty.stop_unless_data(warehouse)
empty.built_or_stop(
    lambda: data.journeys_built(warehouse),
    BUILDING,
    "Building…",
    earlier=lambda: data.earlier_journeys(warehouse),
    shown="These are the journeys",
)
can_export = state.account().can("export_customers")
if (filters.start, filters.end) == data.bounds(warehouse):
    # The sidebar's full range is the orders', surveys' and tickets': journeys begin earlier
    # (awareness comes before the first order), so the full range means every touchpoint.
    filters = filters.with_range(None, None)

compare = url.choice(
    st.selectbox, "Compare by", list(COMPARE), key="jby", default="none",
    format_func=COMPARE.__getitem__,
)  # fmt: skip
by = None if compare == "none" else compare
st.caption(
    "Each customer's touchpoints in the date range, in order: events, with orders, survey "
    "answers and tickets merged in. A customer reaches a stage at its first touchpoint after "
    "reaching the stage before (docs/journeys.md)."
)

# Only the open tab runs and is drawn (choosing another reruns the page).
funnel_tab, map_tab, pain_tab, paths_tab, stages_tab = st.tabs(
    ["Funnel", "Journey map", "Pain points", "Paths", "Stages"], key="jtab", bind="query-params"
)


def _people(frame: pl.DataFrame, name: str, title: str) -> None:
    st.subheader(title)
    parts.customer_list(frame, name, can_export=can_export, order="customer id")


with funnel_tab:
    if funnel_tab.open:
        funnel = data.journey_funnel(warehouse, filters, by)
        if funnel.filter(pl.col("step") == 1)["customers"].fill_null(0).sum() == 0:
            st.info("No journeys in the chosen filters and date range.")
        else:
            sizes = funnel.filter(pl.col("step") == 1).sort(
                "customers", descending=True, nulls_last=True
            )
            shown_groups = sizes["group"].to_list()[:MAX_SIDE_BY_SIDE]
            if by and sizes.height > MAX_SIDE_BY_SIDE:
                st.caption(f"The {MAX_SIDE_BY_SIDE} largest of {sizes.height} groups.")
            shown = funnel.filter(pl.col("group").is_in(shown_groups))
            st.caption(
                "Customers reaching each stage; the label is the share of those who entered. "
                "Click a bar for the customers who stopped there."
            )
            remembered = st.session_state.get(DROPPED)
            picked = remembered[1] if remembered and remembered[0] == compare else None
            bar = draw.clicks(
                charts.funnel_chart(shown, selected=picked), key=drill.chart_key("journey_funnel")
            )
            if bar:
                # A click opens the bar's customers (a click on the open bar closes them), and
                # the chart is drawn afresh: ECharts keeps one selected bar per group, so the
                # next click would come back with this one as well.
                st.session_state[DROPPED] = None if bar == picked else (compare, bar)
                drill.go_to()
                st.rerun()
            note = fmt.hidden_note(funnel["hidden"].to_list())
            if note:
                st.caption(note)

            def days(value: float | None) -> str:
                return fmt.MISSING if value is None else f"{value:.1f}"

            def share(value: float | None) -> str:
                return fmt.MISSING if value is None else fmt.percent(100 * value)

            st.dataframe(
                pl.DataFrame(
                    {
                        "Group": shown["group"].to_list(),
                        "Stage": [s.capitalize() for s in shown["stage"].to_list()],
                        "Customers": [
                            "Hidden" if v is None else fmt.count(int(v)) for v in shown["customers"]
                        ],
                        "From the previous stage": [
                            share(v) for v in shown["conversion_from_previous"].to_list()
                        ],
                        "From the start": [
                            share(v) for v in shown["conversion_from_start"].to_list()
                        ],
                        "Median days": [
                            days(v) for v in shown["median_days_from_previous"].to_list()
                        ],
                        "90% within (days)": [
                            days(v) for v in shown["p90_days_from_previous"].to_list()
                        ],
                    }
                ).drop([] if by else ["Group"]),
                hide_index=True,
                height=min(36 * (shown.height + 1) + 3, 400),
            )
            st.markdown("**Time between stages**")
            st.caption(
                "Bar: the median days from the previous stage; tick: 90% of the customers got "
                "there within that many days."
            )
            draw.show(charts.timing_chart(shown), key="journey_timing")
            if picked:
                group, stage = picked
                _people(
                    data.journey_stage_customers(
                        warehouse, filters, by, group if by else None, stage, None, True
                    ),
                    f"dropped-{stage}",
                    f"Reached {stage}, never went further" + (f" · {group}" if by else ""),
                )

with map_tab:
    if map_tab.open:
        table = data.journey_map(warehouse, filters, by)
        groups = (
            table.filter(pl.col("step") == 1)
            .sort("customers", descending=True, nulls_last=True)["group"]
            .to_list()
        )
        group = (
            url.choice(st.selectbox, "Map of", groups, key="jgroup", default=groups[0])
            if by and groups
            else (groups[0] if groups else None)
        )
        stages = table.filter(pl.col("group") == group) if group is not None else table.head(0)
        if stages.is_empty() or not stages["customers"].fill_null(0).sum():
            st.info("No journeys in the chosen filters and date range.")
        else:
            st.caption(
                "Satisfaction of the answers given at each stage (from "
                f"{painpoints.MIN_ANSWERS} answers on)."
            )
            draw.show(charts.satisfaction_curve(stages), key="journey_satisfaction")
            names = [stage.capitalize() for stage in stages["stage"].to_list()]

            def line(values: list[object], shown: Callable[[Any], str]) -> list[str]:
                return [fmt.MISSING if v is None else shown(v) for v in values]

            grid = {
                "Customers": [
                    "Hidden" if v is None else fmt.count(int(v)) for v in stages["customers"]
                ],
                "On to the next stage": line(
                    stages["conversion_to_next"].to_list(), lambda v: fmt.percent(100 * v)
                ),
                "Median days to the next": line(
                    stages["median_days_to_next"].to_list(), lambda v: f"{v:.1f}"
                ),
                "Mean NPS answer": line(stages["avg_nps"].to_list(), lambda v: f"{v:.1f}"),
                "Comment sentiment": line(stages["avg_sentiment"].to_list(), lambda v: f"{v:+.2f}"),
                "Detractors": line(
                    stages["dissatisfaction"].to_list(), lambda v: fmt.percent(100 * v)
                ),
                "Tickets per customer": line(stages["ticket_rate"].to_list(), lambda v: f"{v:.2f}"),
                "Pain score": line(stages["pain_score"].to_list(), lambda v: f"{v:.2f}"),
            }
            rows = [
                {"": measure, **dict(zip(names, values, strict=True))}
                for measure, values in grid.items()
            ]
            st.dataframe(pl.DataFrame(rows), hide_index=True, use_container_width=True)
            st.markdown("**Touchpoints used at each stage** (customers)")
            for column, name, used in zip(
                st.columns(len(names)), names, stages["touchpoints"].to_list(), strict=True
            ):
                column.markdown(f"**{name}**")
                column.markdown(
                    "\n".join(
                        f"- {fmt.plain_text(t['touchpoint'])} ({fmt.count(t['customers'])})"
                        for t in used or []
                    )
                    or fmt.MISSING
                )
            st.caption(
                "Pain score: 0.5 × drop-off + 0.3 × detractor share + 0.2 × tickets per customer"
                + (
                    ", counting what exceeds everyone else's when groups are compared."
                    if by
                    else "."
                )
            )

with pain_tab:
    if pain_tab.open:
        pains = data.journey_pains(warehouse, filters, by)
        if pains.is_empty():
            st.info(
                f"No stage or touchpoint with {painpoints.MIN_CUSTOMERS} customers or more in the "
                "chosen filters."
            )
        else:
            top = pains.sort(["score", "group", "rank"], descending=[True, False, False]).head(15)
            st.caption(
                "The worst places first"
                + (" across the groups (rank: within its group)" if by else "")
                + ": drop-off to the next stage, detractor share and tickets (docs/journeys.md). "
                "Select one for the customers who stopped there."
            )
            chosen = st.dataframe(
                top.select(
                    "group",
                    "rank",
                    pl.col("stage").str.to_titlecase(),
                    pl.col("touchpoint").fill_null("(the whole stage)"),
                    "score",
                    "reason",
                ),
                key=drill.chart_key("journey_pains"),
                on_select="rerun",
                selection_mode="single-row",
                hide_index=True,
                column_config={
                    "group": "Group" if by else None,
                    "rank": st.column_config.NumberColumn("Rank", format="%d"),
                    "stage": "Stage",
                    "touchpoint": st.column_config.TextColumn(
                        "Touchpoint", help="Empty: the stage as a whole"
                    ),
                    "score": st.column_config.ProgressColumn(
                        "Score", format="%.2f", min_value=0.0, max_value=1.0
                    ),
                    "reason": st.column_config.TextColumn("Why", width="large"),
                },
            )
            rows = chosen["selection"]["rows"] if chosen else []
            if rows:
                place = top.row(rows[0], named=True)
                where = place["touchpoint"] or place["stage"]
                _people(
                    data.journey_stage_customers(
                        warehouse,
                        filters,
                        by,
                        place["group"] if by else None,
                        place["stage"],
                        place["touchpoint"],
                        True,
                    ),
                    f"pain-{where}",
                    f"At {where}, never went further" + (f" · {place['group']}" if by else ""),
                )

with paths_tab:
    if paths_tab.open:
        left, middle, right, far = st.columns([1, 2, 2, 2])
        steps = int(
            url.choice(
                left.selectbox, "Steps", [str(n) for n in range(2, 9)], key="jsteps", default="5"
            )
        )
        anchor = url.choice(
            middle.selectbox, "Paths", list(ANCHORS), key="janchor", default="start",
            format_func=ANCHORS.__getitem__,
        )  # fmt: skip
        repeats = url.choice(
            right.selectbox, "Repeats", list(REPEATS), key="jrepeats", default="collapse",
            format_func=REPEATS.__getitem__,
        )  # fmt: skip
        colour = url.choice(
            far.selectbox, "Colour links by", list(charts.LINK_MEASURES), key="jcolour",
            default="converted", format_func=charts.LINK_MEASURES.__getitem__,
        )  # fmt: skip
        options = PathOptions(steps=steps, anchor=anchor, collapse=repeats == "collapse")
        paths, links = data.journey_paths(warehouse, filters, options)
        if paths.is_empty():
            st.info("No paths in the chosen filters and date range.")
        else:
            st.caption(
                "Touchpoints used by fewer than 2% of the journeys are grouped as Other. "
                "Darker links: a higher "
                f"{charts.LINK_MEASURES[colour].lower()} (from the lowest shown to the highest)."
            )
            draw.show(charts.paths_sankey(links, colour), key="journey_sankey")
            st.caption(
                f"Links of fewer than {charts.THIN_LINK:.0%} of the journeys are left out of the "
                "chart; the table lists the most common whole paths."
            )
            shown = paths.with_columns(pl.col("path").list.join(" → "))
            picked_path = st.dataframe(
                shown,
                key=drill.chart_key("journey_paths"),
                on_select="rerun",
                selection_mode="single-row",
                hide_index=True,
                column_config={
                    "path": st.column_config.TextColumn("Path", width="large"),
                    "customers": st.column_config.NumberColumn("Customers", format="localized"),
                    "share": st.column_config.NumberColumn("Share of journeys", format="percent"),
                    "conversion": st.column_config.NumberColumn(
                        "Bought again" if anchor == "first_purchase" else "Bought",
                        format="percent",
                    ),
                },
            )
            rows = picked_path["selection"]["rows"] if picked_path else []
            if rows:
                path = tuple(paths["path"][rows[0]].to_list())
                _people(
                    data.journey_path_customers(warehouse, filters, options, path),
                    "path",
                    " → ".join(path),
                )

with stages_tab:
    if stages_tab.open:
        stages_panel(warehouse, can_edit=state.account().can("data"))
