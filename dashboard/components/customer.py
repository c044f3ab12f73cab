"""Customer 360 pieces: the search results, the profile header and cards, the timeline table.

Text from the data (names, e-mails, comments) is shown as table cells or escaped Markdown,
never as markup.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from analytics import definitions as rules
from analytics.customer360 import CustomerProfile
from dashboard import format as fmt

KINDS = {"order": "Orders", "survey": "Surveys", "ticket": "Tickets", "event": "Events"}
_NPS_COLOURS = {"promoter": "green", "passive": "gray", "detractor": "red"}


def empty_state() -> None:
    st.info(
        "No data is loaded yet. Load customers and orders on the Data page to look up a "
        "customer here.",
        icon=":material/upload_file:",
    )
    st.page_link("views/data.py", label="Go to the Data page", icon=":material/arrow_forward:")


def results_table(results: pl.DataFrame, *, searched: bool, limit: int, key: str) -> str | None:
    """The customers found; returns the id of the row the reader selected, if any."""
    if results.is_empty():
        st.info("No customer matches. Search by customer id (or its start), name or e-mail.")
        return None
    if not searched:
        st.caption(f"The {fmt.count(results.height)} customers with the highest revenue.")
    elif results.height >= limit:
        st.caption(f"The first {fmt.count(limit)} matches; type more to narrow them down.")
    else:
        st.caption(f"{fmt.rows(results.height, 'customer')} found.")
    event = st.dataframe(
        results,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        placeholder=fmt.MISSING,
        column_config={
            "customer_id": st.column_config.TextColumn("Customer"),
            "name": "Name",
            "email": "E-mail",
            "country": "Country",
            "region": "Region",
            "plan": "Plan",
            "orders": st.column_config.NumberColumn("Orders", format="%d"),
            "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
            "last_order": st.column_config.DateColumn("Last order", format="D MMM YYYY"),
        },
    )
    rows = event["selection"]["rows"] if event else []
    return str(results["customer_id"][rows[0]]) if rows else None


def header(profile: CustomerProfile) -> None:
    st.title(fmt.plain_text(profile.display_name))
    # "Singapore, Singapore" reads as a mistake: a city-state is named once.
    place = ", ".join(dict.fromkeys(p for p in (profile.city, profile.country) if p))
    facts = [
        profile.customer_id if profile.name else None,
        place or None,
        profile.region,
        f"{profile.plan} plan" if profile.plan else None,
        f"acquired via {profile.acquisition_channel}" if profile.acquisition_channel else None,
        f"customer since {fmt.day(profile.signup_date)}" if profile.signup_date else None,
    ]
    known = [f for f in facts if f]
    if known:
        st.caption(fmt.plain_text(" · ".join(known)))
    contact = [c for c in (profile.email, profile.phone) if c]
    if contact:
        st.caption(fmt.plain_text(" · ".join(contact)))
    if not profile.in_crm:
        st.caption(
            "Not in the customers dataset: known only from their orders, surveys, tickets or "
            "events, so there are no profile details."
        )


def cards(profile: CustomerProfile) -> None:
    """Six cards in two rows of three, so that full numbers and dates never get cut off."""
    columns = [*st.columns(3), *st.columns(3)]
    columns[0].metric(
        "Revenue to date",
        fmt.kpi_value(profile.revenue, "currency"),
        help=f"Gross amount of the {fmt.rows(profile.orders, 'completed order')}: "
        f"{fmt.money_exact(profile.revenue)}. Returns and cancellations are excluded.",
        border=True,
        height="stretch",
    )
    not_counted = [
        f"{n} {what}"
        for n, what in (
            (profile.returned_orders, "returned"),
            (profile.cancelled_orders, "cancelled"),
        )
        if n
    ]
    columns[1].metric(
        "Orders",
        fmt.count(profile.orders),
        delta=" · ".join(not_counted) or None,
        delta_color="orange",
        delta_arrow="off",
        help="Completed orders. Returned and cancelled orders are not counted.",
        border=True,
        height="stretch",
    )
    columns[2].metric(
        "Average order",
        fmt.kpi_value(profile.aov, "currency"),
        help="Revenue to date divided by completed orders.",
        border=True,
        height="stretch",
    )
    since = profile.days_since_last_order
    columns[3].metric(
        "Last order",
        fmt.day(profile.last_order),
        delta=fmt.days_ago(since) if since is not None else None,
        delta_color="gray",
        delta_arrow="off",
        help=f"Last completed order; days counted to {fmt.day(profile.as_of)}, the latest day "
        "with data.",
        border=True,
        height="stretch",
    )
    value, group, colour, nps_help = _nps(profile)
    columns[4].metric(
        "Latest NPS",
        value,
        delta=group,
        delta_color=colour,
        delta_arrow="off",
        help=nps_help,
        border=True,
        height="stretch",
    )
    columns[5].metric(
        "Tickets",
        fmt.count(profile.tickets),
        delta=f"{profile.tickets_open} open" if profile.tickets_open else None,
        delta_color="orange",
        delta_arrow="off",
        help=f"Support tickets: {profile.tickets_open} open, {profile.tickets_resolved} resolved.",
        border=True,
        height="stretch",
    )


def _nps(profile: CustomerProfile) -> tuple[str, str | None, str, str]:
    """Value, delta (the NPS group), delta colour and help of the Latest NPS card."""
    answered = f"{fmt.rows(profile.responses, 'survey response')} in all."
    if profile.latest_nps is None or profile.latest_nps_at is None:
        return fmt.MISSING, None, "gray", f"No answer with an NPS score. {answered}"
    group = rules.nps_group(profile.latest_nps)
    colour = _NPS_COLOURS[group]
    when = fmt.day(profile.latest_nps_at.date())
    return str(profile.latest_nps), group, colour, f"Answered on {when}. {answered}"


def timeline(frame: pl.DataFrame) -> None:
    """Every record, newest first, narrowed to the kinds the reader picks."""
    counts = dict(frame.group_by("kind").len().iter_rows())
    present = [k for k in KINDS if counts.get(k)]
    if not present:
        st.caption("No orders, survey answers, tickets or events yet.")
        return
    chosen = st.pills(
        "Show",
        present,
        selection_mode="multi",
        default=present,
        format_func=lambda k: f"{KINDS[k]} ({fmt.count(counts[k])})",
        key="timeline_kinds",
    )
    st.dataframe(
        frame.filter(pl.col("kind").is_in(chosen)),
        hide_index=True,
        # The title starts with the kind, so the kind column itself is not shown.
        column_order=("at", "title", "detail", "amount", "score"),
        placeholder="",
        column_config={
            "at": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm", width=130),
            "title": st.column_config.TextColumn("What", width=290),
            "detail": st.column_config.TextColumn(
                "Details",
                width=360,
                help="The survey comment, the ticket's status, the product ordered, or the "
                "channel of an event.",
            ),
            "amount": st.column_config.NumberColumn("Amount", format="dollar", width=80),
            "score": st.column_config.NumberColumn(
                "Score", format="%d", help="NPS (0–10) of a survey answer, CSAT (1–5) of a ticket."
            ),
        },
    )


def segment_cards(row: dict[str, Any] | None, history: pl.DataFrame, earlier: bool = False) -> None:
    """The customer's segment, cluster and lifetime value, and how their segment changed;
    `earlier`: they are of the data before the latest load (which says so)."""
    if row is None:
        return
    if earlier:
        st.caption(
            "Segment, cluster and value as of the data before the latest load, which added "
            "rows: the update for the new data is being prepared.",
            help="Reload the page in a minute or two to see it.",
        )
    columns = st.columns(3)
    moves = [s for s in dict.fromkeys(history["rfm_segment"].to_list())] if history.height else []
    earlier = history.filter(pl.col("rfm_segment") != row["rfm_segment"]).tail(1)
    columns[0].metric(
        "RFM segment",
        row["rfm_segment"],
        delta=f"was {earlier['rfm_segment'][0]} in {earlier['quarter'][0]}"
        if earlier.height
        else None,
        delta_color="gray",
        delta_arrow="off",
        help="Recency, frequency and monetary scores "
        + (
            f"R {row['r']} · F {row['f']} · M {row['m']}"
            if row["r"] is not None
            else "(no order yet)"
        )
        + ". Segments by quarter end: "
        + (" → ".join(moves) if moves else "none yet")
        + ".",
        border=True,
        height="stretch",
    )
    columns[1].metric(
        "Behavioural cluster",
        row.get("cluster_name") or "—",
        help="The cluster of customers who buy like this one (Segments page, Profiles).",
        border=True,
        height="stretch",
    )
    value = row.get("clv")
    alive = row.get("p_alive_now")
    columns[2].metric(
        "Expected value, next year",
        fmt.kpi_value(value, "currency") if value is not None else "—",
        delta=f"P(alive) {alive:.0%}" if alive is not None else None,
        delta_color="gray",
        delta_arrow="off",
        help="Lifetime value over the horizon (BG/NBD and Gamma-Gamma), and the chance "
        "that the customer still buys.",
        border=True,
        height="stretch",
    )
    if history.height > 1:
        st.caption(
            "Segment by quarter end: " + " · ".join(f"{q} {s}" for q, s in history.tail(6).rows())
        )
