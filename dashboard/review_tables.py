"""The quarterly review's tables as people read them (text cells, numbers formatted), the same
on the Review page, in presentation mode and in the exported files."""

from __future__ import annotations

from typing import Any

import polars as pl

from analytics.review.story import Section
from dashboard import format as fmt

UP, DOWN = "▲", "▼"


def table(section: Section) -> pl.DataFrame | None:
    """The section's table, or None when it has none."""
    if section.data is None:
        return None
    if section.chart == "scorecard":
        return scorecard(section.data)
    if section.chart == "at_risk":
        return at_risk(section.data)
    return None


def scorecard(card: pl.DataFrame) -> pl.DataFrame:
    """One row per headline KPI: the quarter's value and interval, the change from the
    quarter before and from a year before, each marked ▲▼ when significant."""
    rows = []
    for row in card.iter_rows(named=True):
        unit = row["unit"]
        hidden = row["hidden"] is not None
        rows.append(
            {
                "KPI": row["label"],
                "Value": "hidden" if hidden else fmt.kpi_value(row["value"], unit),
                "95 % interval": "" if hidden else _interval(row),
                "vs quarter before": "" if hidden else _change(row, "delta", "previous", "delta"),
                "vs a year before": "" if hidden else _change(row, "yoy_delta", "year_ago", "yoy"),
            }
        )
    return pl.DataFrame(
        rows,
        schema=dict.fromkeys(
            ["KPI", "Value", "95 % interval", "vs quarter before", "vs a year before"], pl.String
        ),
    )


GOOD, BAD = "good", "bad"
CHANGE_COLUMNS = {"vs quarter before": "delta", "vs a year before": "yoy"}


def tones(section: Section) -> pl.DataFrame | None:
    """For the scorecard: per row and change column, "good" or "bad" where the change is
    significant (a fall is good for a KPI where lower is better), else ""."""
    if section.chart != "scorecard" or section.data is None:
        return None
    rows = []
    for row in section.data.iter_rows(named=True):
        marks = {}
        for column, prefix in CHANGE_COLUMNS.items():
            delta = row["delta" if prefix == "delta" else "yoy_delta"]
            if row["hidden"] is None and row[f"{prefix}_significant"] and delta:
                marks[column] = GOOD if (delta > 0) == (row["better"] == "up") else BAD
            else:
                marks[column] = ""
        rows.append(marks)
    return pl.DataFrame(rows, schema=dict.fromkeys(CHANGE_COLUMNS, pl.String))


def _interval(row: dict[str, Any]) -> str:
    if row["ci_low"] is None:
        return ""
    return fmt.interval(row["ci_low"], row["ci_high"], row["unit"])


def _change(row: dict[str, Any], delta: str, before: str, prefix: str) -> str:
    text = fmt.kpi_delta(row[delta], row[before], row["unit"])
    if text is None:
        return fmt.MISSING
    text = text.replace("-", "−", 1)
    if row[f"{prefix}_significant"]:
        return f"{UP if row[delta] > 0 else DOWN} {text}"
    return f"{text} (noise)" if row[f"{prefix}_p"] is not None else text


def at_risk(people: pl.DataFrame) -> pl.DataFrame:
    """The customers at risk: who, their segment, what they spent, how their chance of
    still buying fell, and the value at risk."""
    return pl.DataFrame(
        [
            {
                "Customer": f"{row['name'] or row['customer_id']} ({row['customer_id']})",
                "Country": row["country"] or "",
                "Segment": row["rfm_segment"] or "",
                "Spent": fmt.money(row["revenue"] or 0),
                "Chance of buying": f"{row['p_alive_before']:.0%} → {row['p_alive_now']:.0%}",
                "Value at risk": fmt.money(row["value_at_risk"] or 0),
            }
            for row in people.iter_rows(named=True)
        ],
        schema=dict.fromkeys(
            ["Customer", "Country", "Segment", "Spent", "Chance of buying", "Value at risk"],
            pl.String,
        ),
    )
