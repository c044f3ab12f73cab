"""The Overview's scorecard: one card per headline KPI, honest about uncertainty."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from analytics.filters import Filters
from analytics.kpis import KPI_BY_KEY
from dashboard import format as fmt

CARDS_PER_ROW = 3


def cards(table: pl.DataFrame, filters: Filters, grain: str) -> None:
    """Cards in rows of three: value, change against the previous period (grey when not
    significant), a sparkline, the 95 % interval beneath, and a link to explore the KPI."""
    rows = table.to_dicts()
    for offset in range(0, len(rows), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, row in zip(columns, rows[offset : offset + CARDS_PER_ROW], strict=False):
            with column.container(border=True):
                _card(row, filters, grain)


def _card(row: dict[str, Any], filters: Filters, grain: str) -> None:
    item = KPI_BY_KEY[row["kpi"]]
    delta = fmt.kpi_delta(row["delta"], row["prev_value"], item.unit)
    spark = [v for v in row["spark"] if v is not None]
    st.metric(
        item.label,
        "Hidden" if row["hidden"] else fmt.kpi_value(row["value"], item.unit),
        delta=delta,
        delta_color=_delta_colour(row, item.better),
        delta_description=_delta_text(row),
        help=_help(row, item.definition),
        chart_data=spark if len(spark) > 1 else None,
        chart_type="line",
    )
    if item.has_interval or row["hidden"]:
        st.caption(_interval_line(row, item.unit))
    else:
        st.caption("Total for the period")
    params = {**filters.to_query(), "kpi": item.key, "grain": grain, "at": row["period"]}
    st.page_link(
        "views/kpis.py", label="Explore", icon=":material/arrow_forward:", query_params=params
    )


def _delta_colour(row: dict[str, Any], better: str) -> str:
    if row["delta_significant"] is False:
        return "off"
    return "normal" if better == "up" else "inverse"


def _delta_text(row: dict[str, Any]) -> str | None:
    if row["delta"] is None:
        return None
    if row["delta_significant"] is None:
        return "vs previous period"
    return "significant" if row["delta_significant"] else "not significant"


def _interval_line(row: dict[str, Any], unit: str) -> str:
    if row["hidden"]:
        return f"Hidden: {row['hidden']}."
    if row["value"] is None:
        return "No data in this period."
    text = f"95% CI {fmt.interval(row['ci_low'], row['ci_high'], unit)} · n = {fmt.count(row['n'])}"
    if row["small_sample"]:
        text += " · small sample"
    return text


def _help(row: dict[str, Any], definition: str) -> str:
    parts = [definition]
    if row["delta_p"] is not None:
        parts.append(f"Change against the previous period: p = {row['delta_p']:.3f} (two-sided).")
    return "\n\n".join(parts)
