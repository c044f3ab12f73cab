"""Drill-down pieces shared by pages: the URL-held drill path, its breadcrumb, and the list
of customers behind a number (selecting one opens Customer 360)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import streamlit as st

from analytics.drill import ANONYMOUS, DrillResult
from analytics.exports import safe_csv_bytes
from analytics.kpis import KPI_BY_KEY
from dashboard import format as fmt
from dashboard import state
from dashboard.components import downloads

NONCE = "drill_nonce"


def param(name: str) -> str | None:
    """A drill parameter from the URL (None when absent or empty)."""
    value = st.query_params.get(name)
    return value or None


def go_to(**params: str | None) -> None:
    """Set (or, with None, remove) drill parameters and forget chart selections."""
    for name, value in params.items():
        if value is None:
            st.query_params.pop(name, None)
        else:
            st.query_params[name] = value
    st.session_state[NONCE] = st.session_state.get(NONCE, 0) + 1


def chart_key(name: str) -> str:
    """A chart key that changes whenever the drill path does, so an old click is not replayed."""
    return f"{name}_{st.session_state.get(NONCE, 0)}"


def breadcrumb(steps: Sequence[tuple[str, dict[str, str | None]]]) -> None:
    """The drill path in one row: every step but the last is a button that goes back to it."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for index, (label, params) in enumerate(steps):
            if index:
                st.markdown(":material/chevron_right:", width="content")
            if index == len(steps) - 1:
                st.markdown(f"**{fmt.plain_text(label)}**", width="content")
            elif st.button(label, key=f"crumb_{index}", type="tertiary"):
                go_to(**params)
                st.rerun()


def customer_table(result: DrillResult, key: str, *, origin: dict[str, str]) -> None:
    """The customers behind a value, largest contribution first; a selected row opens
    Customer 360 with `origin` in its link so the breadcrumb can lead back."""
    if result.hidden:
        st.caption(f"No customer list: {result.hidden}.")
        return
    frame = result.customers
    shown = fmt.rows(frame.height, "customer")
    if result.total > frame.height:
        st.caption(
            f"Showing the {shown} with the largest contributions of {fmt.count(result.total)}. "
            "Search to find others."
        )
    else:
        st.caption(f"{fmt.rows(result.total, 'customer')}. Select one to open Customer 360.")
    front = ["customer_id", "name", "region", "country", "contribution"]
    frame = frame.select(
        [c for c in front if c in frame.columns] + [c for c in frame.columns if c not in front]
    )
    event = st.dataframe(
        frame,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config=_columns(frame, result),
    )
    rows = event["selection"]["rows"] if event else []
    if rows:
        customer = frame["customer_id"][rows[0]]
        if customer != ANONYMOUS:
            st.switch_page("views/customer.py", query_params={**origin, "customer": customer})
        st.info("These responses were given without a customer id.")
    if not state.account().can("export_customers"):
        return  # customer-level exports are for analysts
    st.download_button(
        "Download customers (CSV)",
        safe_csv_bytes(frame),
        file_name=f"touchpoint-{result.kpi.key}-customers.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click=downloads.record,
        args=(f"touchpoint-{result.kpi.key}-customers.csv", frame.height),
    )


def _columns(frame: pl.DataFrame, result: DrillResult) -> dict[str, object]:
    unit = result.kpi.unit
    if result.contribution_total is None:
        contribution_help = "Medians are not sums: no per-customer contribution."
    else:
        total = fmt.kpi_value(result.contribution_total, unit)
        contribution_help = f"What this customer adds to the value; all add up to {total}."
    config: dict[str, object] = {
        "customer_id": st.column_config.TextColumn("Customer"),
        "name": "Name",
        "region": "Region",
        "country": "Country",
        "segment": "RFM segment",
        "orders": st.column_config.NumberColumn("Orders", format="%d"),
        "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
        "returned": st.column_config.NumberColumn("Returned", format="%d"),
        "orders_to_date": st.column_config.NumberColumn("Orders to date", format="%d"),
        "previous_orders": st.column_config.NumberColumn("Orders, period before", format="%d"),
        "responses": st.column_config.NumberColumn("Responses", format="%d"),
        "nps_answers": st.column_config.NumberColumn("NPS answers", format="%d"),
        "promoters": st.column_config.NumberColumn("Promoters", format="%d"),
        "detractors": st.column_config.NumberColumn("Detractors", format="%d"),
        "csat_answers": st.column_config.NumberColumn("CSAT answers", format="%d"),
        "satisfied": st.column_config.NumberColumn("Satisfied (4–5)", format="%d"),
        "ces_answers": st.column_config.NumberColumn("CES answers", format="%d"),
        "ces_sum": None,
        "tickets": st.column_config.NumberColumn("Tickets", format="%d"),
        "rated": st.column_config.NumberColumn("Rated", format="%d"),
        "revenue_to_date": st.column_config.NumberColumn("Revenue to date", format="dollar"),
        "first_order": st.column_config.DateColumn("First order"),
        "is_new": st.column_config.CheckboxColumn("New"),
        "mean_nps": st.column_config.NumberColumn("Mean NPS", format="%.1f"),
        "first_response_hours": st.column_config.NumberColumn("First response (h)", format="%.1f"),
        "resolution_hours": st.column_config.NumberColumn("Resolution (h)", format="%.1f"),
        "latest_comment": st.column_config.TextColumn("Latest comment", width="large"),
        "contribution": st.column_config.NumberColumn(
            "Contribution",
            format={"currency": "dollar", "count": "%.0f"}.get(unit, "%.2f"),
            help=contribution_help,
        ),
    }
    return {c: v for c, v in config.items() if c in frame.columns}


def customer_breadcrumb(customer_label: str) -> bool:
    """On Customer 360 reached by a drill: the path back (KPI › period › group › customer),
    each step reopening the KPIs page there. False when the customer was not drilled to."""
    key = param("kpi")
    if key not in KPI_BY_KEY:
        return False
    grain, at, group, split = param("grain"), param("at"), param("group"), param("split")
    base = {"kpi": key} | ({"grain": grain} if grain else {})
    steps: list[tuple[str, dict[str, str]]] = [
        (f"{KPI_BY_KEY[key].label} by {grain or 'month'}", base)
    ]
    if at:
        steps.append((at, base | {"at": at}))
    if at and group and split:
        steps.append((group, base | {"at": at, "group": group, "split": split}))
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for index, (label, target) in enumerate(steps):
            if index:
                st.markdown(":material/chevron_right:", width="content")
            if st.button(label, key=f"customer_crumb_{index}", type="tertiary"):
                st.switch_page("views/kpis.py", query_params=target)
        st.markdown(":material/chevron_right:", width="content")
        st.markdown(f"**{fmt.plain_text(customer_label)}**", width="content")
    return True
