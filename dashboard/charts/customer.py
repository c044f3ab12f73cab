"""Customer 360 charts: pure functions, frame in, `Chart` out (no Streamlit here)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from dashboard import format as fmt
from dashboard.charts import base
from dashboard.charts.base import Chart

# Okabe-Ito blue and orange (the theme's first two categorical colours); grey for orders that
# never became revenue.
STATUS_COLOURS = {"completed": "#0072b2", "returned": "#e69f00", "cancelled": "#8a939c"}
HEIGHT = 300
# The plot's width the bars are sized for (the page's full width, less the axis labels).
_PLOT_PIXELS = 1000


def orders_figure(orders: pl.DataFrame) -> Chart:
    """One bar per order at its date, as tall as its amount, coloured by status.

    `orders` needs `order_id`, `order_date`, `amount`, `status` and `product` (as returned by
    `analytics.customer360.customer_orders`). Bars are a fixed share of the time span wide
    (at least a day), so that a few orders years apart stay visible; orders on the same day
    overlap rather than stand side by side.
    """
    if orders.is_empty():
        return Chart(base.option(series=[]), height=HEIGHT)
    dates: list[date] = orders["order_date"].to_list()
    first, last = min(dates), max(dates)
    span_days = max((last - first).days, 30)
    pad = timedelta(days=max(span_days * 0.03, 15))
    shown_days = (last - first + 2 * pad).days or 1
    width_days = max(1.0, span_days / 150)
    bar_pixels = max(2, round(_PLOT_PIXELS * width_days / shown_days))
    series: list[dict[str, Any]] = []
    for status, colour in STATUS_COLOURS.items():
        rows = orders.filter(pl.col("status") == status)
        if rows.is_empty():
            continue
        series.append(
            {
                "type": "bar",
                "name": status.capitalize(),
                "itemStyle": {"color": colour},
                "barWidth": bar_pixels,
                "barGap": "-100%",  # overlaid, as the statuses never share an order
                "data": [
                    {
                        # A date-only string: ECharts reads it as local midnight, the day itself.
                        "value": [row["order_date"].isoformat(), row["amount"]],
                        "tooltip": base.tooltip(*_hover(row)),
                    }
                    for row in rows.iter_rows(named=True)
                ],
            }
        )
    option = base.option(
        legend={**base.legend(), "left": 0},
        xAxis={
            "type": "time",
            "min": (first - pad).isoformat(),
            "max": (last + pad).isoformat(),
        },
        # The axis title beside the axis, as the legend takes the top.
        yAxis={
            **base.value_axis(None, "currency"),
            "name": "Order amount",
            "nameLocation": "middle",
            "nameRotate": 90,
        },
        series=series,
    )
    # The grid keeps room for the axis title too (the default keeps it for the labels only).
    option["grid"] = {**option["grid"], "top": 36, "containLabel": False,
                      "outerBoundsMode": "same", "outerBoundsContain": "all"}  # fmt: skip
    return Chart(option, height=HEIGHT)


def _hover(row: dict[str, Any]) -> list[str]:
    """Tooltip lines; values from the data are escaped, braces included (ECharts would read
    `{a}` in a tooltip as a template)."""
    lines = [
        f"Order {_text(row['order_id'])}",
        f"{row['order_date']:%d %b %Y} · {_text(row['status'])}",
        fmt.money_exact(row["amount"]),
    ]
    if row.get("product"):
        lines.append(_text(row["product"]))
    return lines


def _text(value: object) -> str:
    return base.escaped(value).replace("{", "&#123;").replace("}", "&#125;")
