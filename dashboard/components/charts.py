"""Drawing the pages' charts (`charts/base.Chart`) with `st.echarts_chart`, and reading clicks.

Drawn as SVG: sharp at any zoom and in print, one element per mark (which the browser tests
click), and as quick as a canvas up to a few thousand marks; a chart with more (the segments'
projection) asks for the canvas (`Chart.canvas`)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.charts.base import Chart
from dashboard.charts.selection import picked


def show(chart: Chart, *, key: str | None = None, where: Any = None, themed: bool = True) -> None:
    """Draw the chart (in `where`, a column or container, or the page); not `themed`, the
    option's own styling applies alone (a slide's large type)."""
    (where or st).echarts_chart(
        chart.option,
        height=chart.height,
        key=key,
        renderer="canvas" if chart.canvas else "svg",
        theme="streamlit" if themed else None,
    )


def clicks(chart: Chart, *, key: str, where: Any = None) -> list[str] | None:
    """Draw a chart whose marks drill; the payload of the mark just clicked, or None."""
    event = (where or st).echarts_chart(
        chart.option,
        height=chart.height,
        key=key,
        on_select="rerun",
        renderer="canvas" if chart.canvas else "svg",
    )
    return picked(event, chart)
