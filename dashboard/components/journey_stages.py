"""The Journeys page's Stages tab: which stage every touchpoint belongs to and why, and for
analysts, the stage order and touchpoint map to change (kept in the warehouse, audited; the
journeys are rebuilt for them in the background)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import streamlit as st

from analytics.errors import ConfigError
from analytics.journeys import store as journey_store
from analytics.journeys.stages import DEFAULT_SETTINGS, JourneySettings
from analytics.warehouse import Warehouse
from dashboard import data
from dashboard import format as fmt

DECIDED = {
    "export": "The export's stage column",
    "map": "The touchpoint map",
    "none": "Nothing: in paths, at no stage",
}
UNMAPPED = "(not mapped)"


def stages_tab(warehouse: Warehouse, *, can_edit: bool) -> None:
    settings = data.journey_settings(warehouse)
    touchpoints = data.journey_touchpoints(warehouse)
    first = "the map first" if settings.map_first else "the exports' own stage column first"
    st.markdown("**Stages in order:** " + " → ".join(s.capitalize() for s in settings.stages))
    st.caption(
        f"An event's stage comes from {first}, then the other; touchpoints that neither names "
        "stay in the paths but count for no stage. Orders are the "
        f"{settings.purchase_stage} stage's 'Purchase', tickets the {settings.ticket_stage} "
        "stage's 'Support ticket'; survey answers sit in the stage the customer was in."
    )
    if touchpoints.is_empty():
        st.info("No touchpoint events are loaded yet: load an events export on the Data page.")
        return
    st.dataframe(
        pl.DataFrame(
            {
                "Touchpoint": touchpoints["touchpoint"],
                "Stage in the export": touchpoints["exported"].fill_null(fmt.MISSING),
                "Events": touchpoints["events"],
                "Customers": touchpoints["customers"],
                "Stage used": touchpoints["stage"].fill_null(fmt.MISSING).str.to_titlecase(),
                "Decided by": touchpoints["decided_by"].replace_strict(DECIDED),
            }
        ),
        hide_index=True,
        height=min(36 * (touchpoints.height + 1) + 3, 420),
        column_config={
            "Events": st.column_config.NumberColumn(format="localized"),
            "Customers": st.column_config.NumberColumn(format="localized"),
        },
    )
    if can_edit:
        _editor(warehouse, settings, touchpoints)
    else:
        st.caption("Analysts change the stages and the touchpoint map.")


def _editor(warehouse: Warehouse, settings: JourneySettings, touchpoints: pl.DataFrame) -> None:
    names = touchpoints["touchpoint"].unique(maintain_order=True).to_list()
    with st.expander("Change the stages", icon=":material/edit:"), st.form("journey_stages"):
        order = st.text_input(
            "Stages in order (comma-separated)",
            ", ".join(settings.stages),
            help="Renaming a stage in place keeps its touchpoints; a removed stage's touchpoints "
            "become unmapped. Orders and tickets keep their stages.",
        )
        map_first = st.toggle(
            "The map overrides the exports' stage column",
            value=settings.map_first,
            help="Off: an export's own stage wins and the map fills in where it has none.",
        )
        edited = st.data_editor(
            pl.DataFrame(
                {
                    "Touchpoint": names,
                    "Map to": [settings.stage_of(n) or UNMAPPED for n in names],
                }
            ),
            column_config={
                "Touchpoint": st.column_config.TextColumn(disabled=True),
                "Map to": st.column_config.SelectboxColumn(
                    options=[UNMAPPED, *settings.stages], required=True
                ),
            },
            hide_index=True,
            key="journey_stage_map",
        )
        left, right = st.columns(2)
        save = left.form_submit_button("Save and rebuild the journeys", type="primary")
        reset = right.form_submit_button("Back to the defaults")
    if not (save or reset):
        return
    try:
        if reset:
            chosen, what = DEFAULT_SETTINGS, {"reset": True}
        else:
            chosen, what = _chosen(settings, order, map_first, pl.DataFrame(edited))
    except ConfigError as exc:
        st.error(f"Nothing was changed: {exc}", icon=":material/error:")
        return
    if data.change_settings(
        warehouse, lambda who: journey_store.change_settings(warehouse, chosen, who, what)
    ):
        st.rerun()
    st.info("Those are the stages already in use: nothing to change.")


def _chosen(
    settings: JourneySettings, order: str, map_first: bool, edited: pl.DataFrame
) -> tuple[JourneySettings, dict[str, object]]:
    """The settings the form asks for, and what changed (for the audit log)."""
    stages = tuple(s.strip().lower() for s in order.split(",") if s.strip())
    changes: dict[str, str | None] = {}
    for touchpoint, target in edited.select("Touchpoint", "Map to").iter_rows():
        wanted = None if target in (None, UNMAPPED) else str(target)
        if wanted != settings.stage_of(touchpoint):
            changes[touchpoint] = wanted
    chosen = replace(settings.mapped(changes).with_stages(stages), map_first=map_first)
    what: dict[str, object] = {
        "set": "; ".join(f"{t}={s or UNMAPPED}" for t, s in changes.items()),
        "order": ",".join(stages),
        "map_first": map_first,
    }
    return chosen, what
