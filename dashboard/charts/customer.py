"""Customer 360 figures: pure functions, frame in, `go.Figure` out (no Streamlit here)."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl

from dashboard import format as fmt

# Okabe-Ito blue and orange (the theme's first two categorical colours); grey for orders that
# never became revenue.
STATUS_COLOURS = {"completed": "#0072b2", "returned": "#e69f00", "cancelled": "#8a939c"}
_DAY_MS = 24 * 3600 * 1000


def orders_figure(orders: pl.DataFrame) -> go.Figure:
    """One bar per order at its date, as tall as its amount, coloured by status.

    `orders` needs `order_id`, `order_date`, `amount`, `status` and `product` (as returned by
    `analytics.customer360.customer_orders`). Bars are a fixed share of the time span wide,
    so that a few orders years apart stay visible.
    """
    figure = go.Figure()
    if orders.is_empty():
        return figure
    dates: list[date] = orders["order_date"].to_list()
    first, last = min(dates), max(dates)
    span_days = max((last - first).days, 30)
    width = max(1.0, span_days / 150) * _DAY_MS
    for status, colour in STATUS_COLOURS.items():
        rows = orders.filter(pl.col("status") == status)
        if rows.is_empty():
            continue
        figure.add_trace(
            go.Bar(
                x=rows["order_date"].to_list(),
                y=rows["amount"].to_list(),
                width=[width] * rows.height,
                name=status.capitalize(),
                marker={"color": colour},
                hovertext=[_hover(row) for row in rows.iter_rows(named=True)],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    pad = timedelta(days=max(span_days * 0.03, 15))
    figure.update_xaxes(range=[first - pad, last + pad], title=None)
    figure.update_yaxes(title="Order amount", tickformat="$,.0f", rangemode="tozero")
    figure.update_layout(
        barmode="overlay",
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    return figure


def _hover(row: dict[str, Any]) -> str:
    """Hover text; values from the data are escaped (Plotly renders a subset of HTML)."""
    lines = [
        f"<b>Order {html.escape(str(row['order_id']))}</b>",
        f"{row['order_date']:%d %b %Y} · {html.escape(str(row['status']))}",
        fmt.money_exact(row["amount"]),
    ]
    if row.get("product"):
        lines.append(html.escape(str(row["product"])))
    return "<br>".join(lines)
