"""The quarterly review: the quarter's scorecard against the quarter before and the same
quarter last year, highlights written from the data, and the movers behind them, pinned to
the data versions it was computed from (docs/review.md).

Highlights are short factual sentences, each backed by its numbers and a link to the view
that shows it. Only a significant change (p < 0.05) is called a change:

- KPIs with an interval use the KPI's own test (`kpis.trend`); counts (orders, customers,
  tickets) an exact test of two Poisson counts (`stats.count_change_p`); revenue has no
  test and is never called a change;
- a change in NPS or CSAT names what explains it where the data shows it: the detractor
  theme that grew most significantly (feedback) and the ticket category whose share grew
  most significantly;
- they are ordered as a customer review reads (`STORY_ORDER`: loyalty, satisfaction,
  retention, value, then activity); a quarter with nothing significant says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from analytics import kpis, rollups, stats
from analytics.errors import ConfigError
from analytics.feedback import views as feedback_views
from analytics.filters import Filters
from analytics.periods import parse_period, period_end, period_label, period_start, shift
from analytics.review.movers import (
    SIGNIFICANT,
    Derived,
    movers,
    previous_quarter,
    ticket_categories,
)
from analytics.warehouse import QueryGateway

EVERYONE = Filters()
STORY_ORDER: tuple[str, ...] = (
    "nps", "csat", "retention_rate", "revenue", "active_customers", "new_customers", "orders",
    "aov", "tickets",
)  # fmt: skip
COUNT_UNITS = ("count",)

_FROM_TREND = (
    "value", "ci_low", "ci_high", "n", "previous", "delta", "delta_p", "delta_significant",
    "year_ago", "yoy_delta", "yoy_p", "yoy_significant", "hidden",
)  # fmt: skip
SCORECARD_SCHEMA = pl.Schema(
    {"kpi": pl.String(), "label": pl.String(), "unit": pl.String(), "better": pl.String()}
    | {column: kpis.TREND_SCHEMA[column] for column in _FROM_TREND}
)


@dataclass(frozen=True)
class Highlight:
    rank: int
    text: str
    kpi: str | None
    significant: bool
    link: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "text": self.text,
            "kpi": self.kpi,
            "significant": self.significant,
            "link": self.link,
        }


@dataclass(frozen=True)
class Review:
    quarter: str
    data_versions: dict[str, int | None]
    scorecard: pl.DataFrame
    highlights: list[Highlight]
    movers: dict[str, pl.DataFrame]
    trend: pl.DataFrame  # the headline KPIs per quarter, from a year before to the quarter
    filters: Filters = EVERYONE
    left_out: list[str] = field(default_factory=list)  # parts not computed, and why

    @property
    def previous(self) -> str:
        return previous_quarter(self.quarter)

    @property
    def replay(self) -> str:
        """The versions as `report --as-of-versions` takes them, to reproduce this review."""
        return ",".join(f"{k}={v}" for k, v in self.data_versions.items() if v is not None)


def last_complete_quarter(gateway: QueryGateway) -> str:
    """The last quarter the data covers to its end (the one before the latest, when the
    latest has not ended yet), as `2025-Q2`."""
    bounds = rollups.data_range(gateway, ["orders", "surveys", "tickets"])
    if bounds is None:
        raise ConfigError("There is no data to review yet. Load some first.")
    last = bounds[1]
    start = period_start(last, "quarter")
    if last < period_end(start, "quarter"):
        start = shift(start, "quarter", -1)
    return period_label(start, "quarter")


def quarterly_review(
    gateway: QueryGateway,
    quarter: str | None = None,
    filters: Filters = EVERYONE,
    *,
    derived: Derived | None = None,
) -> Review:
    """The review of `quarter` (default: the last complete one) within `filters`'
    dimensions, from the data versions `gateway` reads (pinned, for a replay, or current)
    and the derived builds of those versions (`derived`, by default the ones kept)."""
    quarter = quarter or last_complete_quarter(gateway)
    start = parse_period(quarter, "quarter")
    derived = derived or Derived.of(gateway)
    year_ago = shift(start, "quarter", -4)
    window = filters.with_range(year_ago, period_end(start, "quarter"))
    trend = kpis.trend(gateway, kpis.HEADLINE, window, "quarter")
    card = _scorecard(trend.filter(pl.col("period") == quarter))
    causes = _causes(gateway, quarter, filters, derived)
    return Review(
        quarter=quarter,
        data_versions=gateway.versions(),
        scorecard=card,
        highlights=_highlights(card, quarter, causes),
        movers=movers(gateway, quarter, filters, derived),
        trend=trend,
        filters=filters,
        left_out=derived.missing,
    )


def _scorecard(rows: pl.DataFrame) -> pl.DataFrame:
    """The quarter's headline KPIs, counts given their exact test where the KPI has none."""
    records = []
    for row in rows.iter_rows(named=True):
        item = kpis.kpi(row["kpi"])
        record = {k: row.get(k) for k in SCORECARD_SCHEMA.names()}
        record |= {"label": item.label, "unit": item.unit, "better": item.better}
        if item.unit in COUNT_UNITS and row["value"] is not None:
            for prefix, before in (("delta", row["previous"]), ("yoy", row["year_ago"])):
                p = None if before is None else stats.count_change_p(before, row["value"])
                record[f"{prefix}_p"] = p
                record[f"{prefix}_significant"] = None if p is None else p < SIGNIFICANT
        records.append(record)
    order = {k: i for i, k in enumerate(STORY_ORDER)}
    return (
        pl.DataFrame(records, schema=SCORECARD_SCHEMA, orient="row")
        .with_columns(_order=pl.col("kpi").replace_strict(order, default=len(order)))
        .sort("_order")
        .drop("_order")
    )


@dataclass(frozen=True)
class _Causes:
    theme: dict[str, Any] | None  # the detractor theme that grew most, significantly
    category: dict[str, Any] | None  # the ticket category whose share grew most


def _causes(gateway: QueryGateway, quarter: str, filters: Filters, derived: Derived) -> _Causes:
    theme = None
    stored = derived.feedback
    if stored is not None:
        table = feedback_views.theme_table(
            gateway, stored, filters, quarter=quarter, group="detractor"
        )
        grown = table.filter(
            (pl.col("theme") != feedback_views.OTHER_ID)
            & (pl.col("change") > 0)
            & (pl.col("p_value") < SIGNIFICANT)
        )
        if not grown.is_empty():
            theme = grown.row(0, named=True)
    categories = ticket_categories(gateway, quarter, filters)
    grown_categories = categories.filter(
        (pl.col("change") > 0) & (pl.col("p_value") < SIGNIFICANT)
    ).sort("change", descending=True)
    category = None if grown_categories.is_empty() else grown_categories.row(0, named=True)
    return _Causes(theme, category)


def _highlights(card: pl.DataFrame, quarter: str, causes: _Causes) -> list[Highlight]:
    previous = previous_quarter(quarter)
    found: list[Highlight] = []
    for row in card.iter_rows(named=True):
        if row["hidden"] is not None or not row["delta_significant"]:
            continue
        text = _sentence(row, previous)
        if row["kpi"] in ("nps", "csat"):
            text += _explained(row, causes)
        elif row["kpi"] == "tickets" and causes.category is not None:
            text += _category_clause(causes.category)
        found.append(
            Highlight(
                rank=len(found) + 1,
                text=text + ".",
                kpi=row["kpi"],
                significant=True,
                link=f"/kpis?kpi={row['kpi']}&grain=quarter&at={quarter}",
                numbers={
                    k: row[k]
                    for k in ("value", "previous", "delta", "delta_p", "ci_low", "ci_high")
                },
            )
        )
    if not found:
        found.append(
            Highlight(
                rank=1,
                text=f"No headline KPI changed significantly from {previous} to {quarter}: "
                "every movement is within what sampling noise explains.",
                kpi=None,
                significant=False,
                link=f"/?grain=quarter&at={quarter}",
            )
        )
    return found


def _sentence(row: dict[str, Any], previous: str) -> str:
    unit, delta = row["unit"], row["delta"]
    verb = "rose" if delta > 0 else "fell"
    word = "rise" if delta > 0 else "drop"
    if unit in ("score", "percent"):
        points = "points" if unit == "score" else "percentage points"
        text = (
            f"{row['label']} {verb} {abs(delta):.1f} {points} to {row['value']:.1f} "
            f"(95 % CI {row['ci_low']:.1f} to {row['ci_high']:.1f}) from {row['previous']:.1f} "
            f"in {previous}, a significant {word} ({_p(row['delta_p'])})"
        )
    else:
        relative = delta / row["previous"] if row["previous"] else None
        amount = f"{abs(relative):.0%}" if relative is not None else _amount(abs(delta), unit)
        text = (
            f"{row['label']} {verb} {amount} to {_amount(row['value'], unit)} from "
            f"{_amount(row['previous'], unit)} in {previous}, a significant {word} "
            f"({_p(row['delta_p'])})"
        )
    return text


def _explained(row: dict[str, Any], causes: _Causes) -> str:
    """What the data shows behind a change in NPS or CSAT: for a drop, the detractor theme
    that grew and the ticket category that grew."""
    if row["delta"] >= 0:
        return ""
    parts = []
    if causes.theme is not None:
        subject = causes.theme["label"].split(" · ")[0]
        parts.append(
            f"detractor comments about {subject} rose from "
            f"{causes.theme['share_previous']:.0%} to {causes.theme['share']:.0%}"
        )
    if causes.category is not None:
        parts.append(_category_clause(causes.category).removeprefix("; "))
    return "".join(f"; {p}" for p in parts)


def _category_clause(category: dict[str, Any]) -> str:
    return (
        f"; {category['category']} tickets rose from {category['share_previous']:.0%} to "
        f"{category['share']:.0%} of tickets"
    )


def _amount(value: float, unit: str) -> str:
    if unit == "currency":
        return f"${value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _p(value: float | None) -> str:
    if value is None:
        return "no test"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def review_json(review: Review) -> dict[str, Any]:
    """The review as the `report --format json` object."""
    return {
        "quarter": review.quarter,
        "data_versions": review.data_versions,
        "scorecard": review.scorecard.to_dicts(),
        "highlights": [h.record() for h in review.highlights],
        "movers": {name: frame.to_dicts() for name, frame in review.movers.items()},
    }
