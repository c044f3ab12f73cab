"""The Overview's headline cards and its empty state."""

from __future__ import annotations

import streamlit as st

from analytics.overview import Headline
from dashboard import format as fmt


def cards(h: Headline) -> None:
    """Six cards in two rows of three, so that full-width numbers never crowd each other."""
    first, second = st.columns(3), st.columns(3)
    first[0].metric(
        "Customers",
        fmt.count(h.customers),
        help=f"Rows in the customers dataset, one per customer_id: {fmt.count(h.customers)}.",
        border=True,
    )
    first[1].metric(
        "Orders",
        fmt.count(h.orders),
        help=(
            f"Completed orders: {fmt.count(h.orders)}. Returned and cancelled orders are "
            "not counted."
        ),
        border=True,
    )
    first[2].metric(
        "Revenue",
        fmt.money(h.revenue),
        help=(
            f"Gross amount of the {fmt.count(h.orders)} completed orders: "
            f"{fmt.money_exact(h.revenue)}. Returns and cancellations are excluded."
        ),
        border=True,
    )
    second[0].metric(
        "Survey responses",
        fmt.count(h.responses),
        help=f"Survey responses loaded, each with an NPS, CSAT or CES score: "
        f"{fmt.count(h.responses)}.",
        border=True,
    )
    second[1].metric("NPS", fmt.score(h.nps), help=_nps_help(h), border=True)
    second[2].metric("CSAT", fmt.percent(h.csat), help=_csat_help(h), border=True)


def _nps_help(h: Headline) -> str:
    if h.nps is None:
        return "No survey response has an NPS score yet."
    return (
        "Net Promoter Score: % promoters (9–10) minus % detractors (0–6), from −100 to 100. "
        f"Based on {fmt.count(h.nps_n)} responses with an NPS score."
    )


def _csat_help(h: Headline) -> str:
    if h.csat is None:
        return "No survey response has a CSAT score yet."
    return (
        "Customer satisfaction: share of CSAT answers scoring 4 or 5 on the 1–5 scale. "
        f"Based on {fmt.count(h.csat_n)} responses with a CSAT score."
    )


def empty_state() -> None:
    st.info(
        "No data is loaded yet. Upload your customer, order and survey exports on the Data page "
        "and the headline numbers appear here.",
        icon=":material/upload_file:",
    )
    st.page_link("views/data.py", label="Go to the Data page", icon=":material/arrow_forward:")
