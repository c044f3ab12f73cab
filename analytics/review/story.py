"""The review as a story in reading order: the sections the Review page shows, presentation
mode turns into slides and the exported files hold (HTML, PDF, PPTX), each with one message
written from the data, the data its chart draws and the view that shows more.

`sections(review)` is the one outline every form reads, so the page, the slides and the
files always tell the same story with the same charts (drawn by `dashboard.charts.review`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from analytics import kpis
from analytics.filters import DIMENSIONS
from analytics.review.core import Review
from analytics.review.movers import SIGNIFICANT
from analytics.segments.rfm import PROSPECTS, SEGMENT_ORDER

DIMENSION_LABELS = {
    "region": "region",
    "acquisition_channel": "acquisition channel",
    "segment": "segment",
}


@dataclass(frozen=True)
class Section:
    key: str  # stable: slide anchors, tests
    title: str
    message: str  # the one thing to take away, written from the data
    chart: str | None = None  # the figure `dashboard.charts.review` draws from `data`
    data: pl.DataFrame | None = None
    link: str | None = None  # the dashboard view that shows more
    points: list[str] = field(default_factory=list)  # bullet lines (highlights, notes)


def sections(review: Review) -> list[Section]:
    """The review's sections in reading order; parts without data are left out."""
    found = [_summary(review), _scorecard(review)]
    found += _highlight_sections(review)
    found += [
        s
        for s in (
            _groups(review),
            _themes(review),
            _tickets(review),
            _migration(review),
            _pain_points(review),
            _at_risk(review),
        )
        if s is not None
    ]
    found.append(_about(review))
    return found


def title(review: Review) -> str:
    return f"Quarterly review {review.quarter}"


def subtitle(review: Review) -> str:
    year_ago = f"{int(review.quarter[:4]) - 1}{review.quarter[4:]}"
    return f"Compared with {review.previous} and {year_ago} · {scope(review)}"


def scope(review: Review) -> str:
    """Whom the review covers: every customer, or the filters' choices."""
    chosen = review.filters.selections()
    if not chosen:
        return "all customers"
    return "; ".join(f"{DIMENSIONS[k].label} {', '.join(v)}" for k, v in chosen.items())


def versions_text(review: Review) -> str:
    shown = [f"{k} v{v}" for k, v in review.data_versions.items() if v is not None]
    return ", ".join(shown) or "no data"


def replay_command(review: Review) -> str:
    return (
        f"python -m analytics report --quarter {review.quarter} "
        f"--as-of-versions {review.replay} --format pdf"
    )


def _summary(review: Review) -> Section:
    changes = [h for h in review.highlights if h.significant]
    if changes:
        message = (
            f"{len(changes)} headline KPI{'s' if len(changes) != 1 else ''} changed "
            f"significantly from {review.previous}."
        )
    else:
        message = review.highlights[0].text
    return Section(
        key="summary",
        title="The quarter in brief",
        message=message,
        points=[h.text for h in changes],
        link=f"/?grain=quarter&at={review.quarter}",
    )


def _scorecard(review: Review) -> Section:
    return Section(
        key="scorecard",
        title="Scorecard",
        message=(
            f"The headline KPIs of {review.quarter} against {review.previous} and a year "
            f"before; ▲▼ mark changes significant at the {SIGNIFICANT:.0%} level, 95 % "
            "intervals where the KPI has one."
        ),
        chart="scorecard",
        data=review.scorecard,
        link=f"/?grain=quarter&at={review.quarter}",
    )


def _highlight_sections(review: Review) -> list[Section]:
    found = []
    for highlight in review.highlights:
        if not highlight.significant or highlight.kpi is None:
            continue
        trend = review.trend.filter(pl.col("kpi") == highlight.kpi)
        found.append(
            Section(
                key=f"kpi-{highlight.kpi}",
                title=kpis.kpi(highlight.kpi).label,
                message=highlight.text,
                chart="kpi_trend",
                data=trend,
                link=highlight.link,
            )
        )
    return found


def _groups(review: Review) -> Section | None:
    parts = []
    for dimension, label in DIMENSION_LABELS.items():
        frame = review.movers.get(dimension)
        if frame is not None and not frame.is_empty():
            parts.append(frame.with_columns(dimension=pl.lit(label)))
    if not parts:
        return None
    moved = pl.concat(parts, how="vertical_relaxed")
    nps = moved.filter((pl.col("kpi") == "nps") & pl.col("delta_significant").fill_null(False))
    if nps.is_empty():
        message = "No region, channel or segment moved NPS significantly."
    else:
        top = nps.sort(pl.col("delta").abs(), descending=True).row(0, named=True)
        verb = "fell" if top["delta"] < 0 else "rose"
        message = (
            f"NPS {verb} most in the {top['dimension']} {top['group']}: "
            f"{abs(top['delta']):.1f} points to {top['value']:.1f}."
        )
    return Section(
        key="groups",
        title="Where it moved",
        message=message,
        chart="groups",
        data=moved,
        link="/kpis?kpi=nps&grain=quarter&by=region",
    )


def _themes(review: Review) -> Section | None:
    themes = review.movers.get("themes")
    if themes is None:
        return None
    grown = themes.filter(pl.col("p_value") < SIGNIFICANT)
    if grown.is_empty():
        message = f"No detractor theme grew significantly from {review.previous}."
    else:
        top = grown.row(0, named=True)
        message = (
            f"Detractor comments about {top['label'].split(' · ')[0]} rose from "
            f"{top['share_previous']:.0%} to {top['share']:.0%} of detractor comments."
        )
    return Section(
        key="themes",
        title="What detractors talk about more",
        message=message,
        chart="themes",
        data=themes.head(6),
        link=f"/feedback?fgroup=detractor&fquarter={review.quarter}",
    )


def _tickets(review: Review) -> Section | None:
    categories = review.movers.get("ticket_categories")
    if categories is None or categories.is_empty():
        return None
    grown = categories.filter((pl.col("change") > 0) & (pl.col("p_value") < SIGNIFICANT))
    if grown.is_empty():
        message = (
            f"No ticket category grew significantly as a share of tickets from {review.previous}."
        )
    else:
        top = grown.row(0, named=True)
        message = (
            f"{top['category']} tickets rose from {top['share_previous']:.0%} to "
            f"{top['share']:.0%} of tickets ({top['tickets']:,} tickets)."
        )
    return Section(
        key="tickets",
        title="Why customers wrote in",
        message=message,
        chart="tickets",
        data=categories,
        link=f"/kpis?kpi=tickets&grain=quarter&at={review.quarter}",
    )


def _migration(review: Review) -> Section | None:
    table = review.movers.get("segment_migration")
    if table is None or table.is_empty():
        return None
    order = {name: i for i, name in enumerate(SEGMENT_ORDER)}
    counted = table.filter(pl.col("customers").is_not_null()).with_columns(
        a=pl.col("from_segment").replace_strict(order, default=len(order)),
        b=pl.col("to_segment").replace_strict(order, default=len(order)),
    )
    existing = counted.filter(pl.col("from_segment") != PROSPECTS)
    up = int(existing.filter(pl.col("b") < pl.col("a"))["customers"].sum())
    down = int(existing.filter(pl.col("b") > pl.col("a"))["customers"].sum())
    new = int(counted.filter(pl.col("from_segment") == PROSPECTS)["customers"].sum())
    flows = existing.filter(pl.col("from_segment") != pl.col("to_segment"))
    message = f"{up:,} customers moved to a better segment, {down:,} to a worse one"
    if new:
        message += f" and {new:,} bought for the first time"
    if not flows.is_empty():
        top = flows.sort("customers", descending=True).row(0, named=True)
        message += (
            f"; the largest move: {top['customers']:,} {top['from_segment']} became "
            f"{top['to_segment']}"
        )
    return Section(
        key="migration",
        title="How customers moved between segments",
        message=message + ".",
        chart="migration",
        data=table,
        link=f"/segments?stab=Migration&before={review.previous}&after={review.quarter}",
    )


def _pain_points(review: Review) -> Section | None:
    pains = review.movers.get("pain_points")
    if pains is None:
        return None
    if pains.is_empty():
        message = f"No journey pain point worsened from {review.previous}."
    else:
        top = pains.row(0, named=True)
        place = top["stage"] + (f" › {top['touchpoint']}" if top["touchpoint"] else "")
        message = (
            f"The pain point that worsened most: {place} (score "
            f"{top['score_previous']:.2f} to {top['score']:.2f}"
        )
        if top["dissatisfaction"] is not None and top["dissatisfaction_previous"] is not None:
            message += (
                f"; detractors among its answers {top['dissatisfaction_previous']:.0%} to "
                f"{top['dissatisfaction']:.0%}"
            )
        message += ")."
    return Section(
        key="pain_points",
        title="Journey pain points that worsened",
        message=message,
        chart="pain_points",
        data=pains,
        link="/journeys",
    )


def _at_risk(review: Review) -> Section | None:
    people = review.movers.get("customers_at_risk")
    if people is None:
        return None
    if people.is_empty():
        message = "No valuable customer's chance of still buying fell over the last month."
    else:
        message = (
            f"The {people.height} customers with the most value at risk hold "
            f"${people['value_at_risk'].sum():,.0f} of it: their chance of still buying "
            "fell over the data's last month."
        )
    return Section(
        key="at_risk",
        title="Customers at risk with the most value",
        message=message,
        chart="at_risk",
        data=people,
        link="/segments",
    )


def _about(review: Review) -> Section:
    points = [
        f"Computed from data versions {versions_text(review)}.",
        f"Reproduce it after new loads with: {replay_command(review)}",
        f"A change is called significant when p < {SIGNIFICANT}: KPI intervals and tests as on "
        "the KPIs page; counts by an exact Poisson test; revenue has no test.",
    ]
    points += [f"Left out: {note}." for note in review.left_out]
    return Section(
        key="about",
        title="About this review",
        message=f"Prepared {date.today():%d %b %Y} from the data versions below.",
        points=points,
    )
