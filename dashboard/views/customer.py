"""Customer 360: the single customer behind a number — profile, value to date, orders, and every
survey answer, ticket and touchpoint event on one timeline.

The customer comes from the URL (`/customer?customer=C00042`), so drill-downs and pasted links
open it directly; without one (or with an unknown id) the page searches for customers.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard import format as fmt
from dashboard.charts.customer import orders_figure
from dashboard.components import charts as draw
from dashboard.components import customer, drill

SEARCH_LIMIT = 50

warehouse = data.warehouse(data.settings())
if warehouse.is_empty():
    st.title("Customer 360")
    customer.empty_state()
    st.stop()

customer_id = (drill.param("customer") or "").strip()
profile = data.customer_profile(warehouse, customer_id) if customer_id else None

if profile is None:
    st.title("Customer 360")
    if customer_id:
        st.warning(
            f"No customer has the id {fmt.plain_text(customer_id[:80])} in any dataset. "
            "Search for them below.",
            icon=":material/person_off:",
        )
    text = st.text_input(
        "Find a customer",
        key="customer_search",
        placeholder="Customer id, name or e-mail",
        icon=":material/search:",
    )
    results = data.customer_search(warehouse, text or "", SEARCH_LIMIT)
    chosen = customer.results_table(
        results,
        searched=bool((text or "").strip()),
        limit=SEARCH_LIMIT,
        key=drill.chart_key("customer_results"),
    )
    if chosen is not None:
        drill.go_to(customer=chosen)
        st.rerun()
    st.stop()

if not drill.customer_breadcrumb(profile.display_name) and st.button(
    "Back to search", icon=":material/arrow_back:", type="tertiary"
):
    drill.go_to(customer=None)
    st.rerun()

customer.header(profile)
customer.cards(profile)
customer.segment_cards(
    *data.customer_segments(warehouse, data.value_settings(), profile.customer_id)
)

st.subheader("Orders")
orders = data.customer_orders(warehouse, profile.customer_id)
if orders.is_empty():
    st.caption("No orders yet.")
else:
    draw.show(orders_figure(orders), key="customer_orders")

st.subheader("Timeline")
st.caption(
    "Orders, survey answers with their comments, tickets and touchpoint events, newest first: "
    "everything on record for this customer."
)
customer.timeline(data.customer_timeline(warehouse, profile.customer_id))
