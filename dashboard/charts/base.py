"""What the pages' charts share: an ECharts option with its height and its drill payloads.

The pages draw with Apache ECharts, built into Streamlit (`st.echarts_chart`): a new tab draws
its first ECharts chart in about 0.2 s, against about 1 s for Plotly, whose 4.7 MB script takes
0.7 s to start in every tab (bench/browser_pages.py; README, Benchmarks). The quarterly
review's figures stay Plotly (`charts/review.py`): its files (HTML, PDF, PowerPoint) need a
renderer that works without Streamlit, and they show the page's very charts.

A chart function is pure (frame in, `Chart` out, no `st.*`). A clickable mark's payload (the
period, group or segment it stands for, as text) is kept in `Chart.drill` by series and data
index, not sent to the browser: a selection names the series and the index, and
`selection.picked` looks the payload up here.

Tooltips are HTML built here; every value from the data is escaped (`html.escape`). ECharts
does not run JavaScript from an option, so tooltips are whole strings per mark.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Option = dict[str, Any]

# Okabe-Ito, colour-blind safe, then more distinct hues for many segments.
PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999999",
    "#7f3c8d",
    "#11a579",
    "#3969ac",
)
# ColorBrewer's sequential Blues (Plotly's "Blues"): light for low, dark for high.
BLUES = (
    "#f7fbff",
    "#deebf7",
    "#c6dbef",
    "#9ecae1",
    "#6baed6",
    "#4292c6",
    "#2171b5",
    "#08519c",
    "#08306b",
)
LINE_COLOUR = "#0072b2"
SELECTED_COLOUR = "#d55e00"  # Okabe-Ito vermillion: the reader's current choice
MUTED = "#9ab8d3"
TEXT_COLOUR = "#56606b"
HEIGHT = 380


def segment_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per segment, in the given (stable) order: a segment looks the same on every
    chart (the review's too) and after every load."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


@dataclass(frozen=True)
class Chart:
    """An ECharts option, the height to draw it at, and each clickable mark's payload:
    `drill[series index][data index]`, or `drill[(series index, "edge")][link index]` for a
    sankey's links (None where a mark has none). Drawn as SVG (one element per mark, sharp
    in print), or on a canvas when it has thousands of marks (`canvas`)."""

    option: Option
    height: int = HEIGHT
    drill: dict[int | tuple[int, str], list[list[str] | None]] = field(default_factory=dict)
    canvas: bool = False

    def payload(self, series: int, index: int, data_type: str = "main") -> list[str] | None:
        marks = self.drill.get(series if data_type == "main" else (series, data_type))
        if marks is None or not 0 <= index < len(marks):
            return None
        return marks[index]


def option(**parts: Any) -> Option:
    """An option with the pages' defaults: no entry animation (a page is read, not watched),
    item tooltips kept inside the chart, labels inside the grid. `parts` add or override."""
    return {
        "animation": False,
        "grid": {"left": 12, "right": 24, "top": 40, "bottom": 12, "containLabel": True},
        "tooltip": {"trigger": "item", "confine": True},
        **parts,
    }


def legend(shown: bool = True) -> dict[str, Any]:
    """A legend across the top, or none."""
    return {"show": shown, "top": 0, "type": "scroll"}


def tooltip(*lines: str) -> dict[str, str]:
    """A mark's own tooltip: the lines as given (already escaped), the first in bold."""
    head, *rest = lines
    return {"formatter": "<br>".join([f"<b>{head}</b>", *rest])}


def escaped(value: object) -> str:
    return html.escape(str(value))


def axis_label(unit: str | None) -> dict[str, str]:
    """Tick labels in the unit: `$1,200`, `35%`, `4.2 h` (ECharts adds the thousands
    separators to `{value}`)."""
    template = {"currency": "${value}", "percent": "{value}%", "hours": "{value} h"}
    return {"formatter": template.get(unit or "", "{value}")}


def category_axis(labels: list[str], name: str | None = None, **more: Any) -> dict[str, Any]:
    """A category axis of `labels` (plain text: ECharts draws axis labels as text, not HTML),
    titled `name` below its middle; `more` adds or overrides."""
    axis: dict[str, Any] = {"type": "category", "data": labels}
    if name:
        axis |= {"name": name, "nameLocation": "middle", "nameGap": 28}
    return axis | more


def value_axis(name: str | None = None, unit: str | None = None, **more: Any) -> dict[str, Any]:
    """A value axis labelled in `unit`, titled `name` above its top; `more` adds or
    overrides (`nameLocation="middle"` for a horizontal axis, for one)."""
    axis: dict[str, Any] = {"type": "value", "axisLabel": axis_label(unit)}
    if name:
        axis |= {"name": name, "nameLocation": "end", "nameTextStyle": {"align": "left"}}
    return axis | more
