"""What moved in a quarter, against the quarter before: the regions, acquisition channels
and segments whose NPS and revenue moved most, the detractor themes and ticket categories
that grew, how customers migrated between segments, the journey pain points that worsened
and the customers at risk with the most value (docs/review.md).

Each part is a small table (the page, the exports and `report --format json` show it as
is); a part whose derived build is missing (no segmentation, journeys or feedback yet) is
left out and `Derived.missing` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics import feedback, journeys, segments, stats
from analytics import kpis as kpi_module
from analytics.errors import ConfigError
from analytics.feedback import views as feedback_views
from analytics.filters import Filters, scoped_rows
from analytics.journeys import views as journey_views
from analytics.periods import parse_period, period_end, period_label, shift
from analytics.warehouse import QueryGateway

SIGNIFICANT = 0.05
MOVER_DIMENSIONS = ("region", "acquisition_channel", "segment")
MOVER_KPIS = ("nps", "revenue")
PER_KPI = 3  # groups shown per dimension and KPI
PAIN_POINTS = 5
AT_RISK = 10
DEFAULT_VALUE = segments.ValueSettings()

CATEGORY_SCHEMA = pl.Schema(
    {
        "category": pl.String(),
        "tickets": pl.Int64(),
        "share": pl.Float64(),
        "share_previous": pl.Float64(),
        "change": pl.Float64(),
        "p_value": pl.Float64(),
    }
)
PAIN_CHANGE_SCHEMA = pl.Schema(
    {
        "stage": pl.String(),
        "touchpoint": pl.String(),
        "customers": pl.Int64(),
        "score": pl.Float64(),
        "score_previous": pl.Float64(),
        "change": pl.Float64(),
        "drop_off": pl.Float64(),
        "drop_off_previous": pl.Float64(),
        "drop_off_p": pl.Float64(),
        "dissatisfaction": pl.Float64(),
        "dissatisfaction_previous": pl.Float64(),
        "reason": pl.String(),
    }
)


@dataclass(frozen=True)
class Derived:
    """The derived builds a review reads, for the versions its gateway reads (pinned or
    current): None where a build is missing."""

    feedback: feedback.StoredFeedback | None
    segmentation: segments.Segmentation | None
    journeys: journeys.StoredJourneys | None

    @classmethod
    def of(
        cls,
        gateway: QueryGateway,
        value: segments.ValueSettings = DEFAULT_VALUE,
        *,
        build: bool = False,
    ) -> Derived:
        """The builds of `gateway`'s versions (the segmentation's with lifetime value
        counted as `value` says); with `build`, the missing ones are built first (a review
        replayed as of versions whose builds are no longer kept)."""
        warehouse = gateway.warehouse
        at = gateway.versions() if gateway.pinned else None
        if build:
            feedback.refresh(warehouse, at=at)
            segments.refresh(warehouse, value=value, at=at)
            journeys.refresh(warehouse, at=at)
        return cls(
            feedback.current(warehouse, at=at),
            segments.current(warehouse, value, at=at),
            journeys.current(warehouse, at=at),
        )

    @classmethod
    def earlier(
        cls, gateway: QueryGateway, value: segments.ValueSettings = DEFAULT_VALUE
    ) -> tuple[QueryGateway, Derived] | None:
        """While the builds of the current data are made after an append: `gateway` pinned
        to the data before it, and that data's builds, when all three are kept for the same
        versions of the datasets they share (the journeys, built last, set them); None
        otherwise (a review then waits for the current builds)."""
        warehouse = gateway.warehouse
        try:
            trail = journeys.earlier(warehouse)
            if trail is None:
                return None
            pins = dict(trail.meta["versions"])
            for build in (
                segments.earlier(warehouse, value, like=pins),
                feedback.earlier(warehouse, like=pins),
            ):
                if build is None:
                    return None
                pins |= build.meta["versions"]
        except ConfigError:  # settings broken by hand: nothing stands in
            return None
        pinned = gateway.at_versions(pins)
        found = cls.of(pinned, value)
        return None if found.missing else (pinned, found)

    @property
    def missing(self) -> list[str]:
        """What the review leaves out, and why."""
        notes = []
        if self.feedback is None:
            notes.append("themes: the feedback analysis of this data is not built")
        if self.segmentation is None:
            notes.append("segments, migration and customers at risk: no segmentation is built")
        if self.journeys is None:
            notes.append("journey pain points: the journeys of this data are not built")
        return notes


def movers(
    gateway: QueryGateway, quarter: str, filters: Filters, derived: Derived
) -> dict[str, pl.DataFrame]:
    """Every part of what moved in `quarter`, by name (the JSON keys of `report`)."""
    found: dict[str, pl.DataFrame] = {}
    for dimension in MOVER_DIMENSIONS:
        if dimension == "segment" and derived.segmentation is None:
            continue
        try:
            found[dimension] = groups_that_moved(gateway, quarter, filters, dimension)
        except ConfigError:  # a dimension the data cannot break down by
            continue
    if derived.feedback is not None:
        found["themes"] = themes_that_grew(gateway, derived.feedback, quarter, filters)
    found["ticket_categories"] = ticket_categories(gateway, quarter, filters)
    if derived.segmentation is not None:
        found["segment_migration"] = migration(gateway, derived.segmentation, quarter, filters)
        found["customers_at_risk"] = segments.fading_customers(
            gateway, derived.segmentation, filters, limit=AT_RISK
        )
    if derived.journeys is not None:
        found["pain_points"] = worsened_pain_points(gateway, derived.journeys, quarter, filters)
    return found


def _window(quarter: str, filters: Filters) -> Filters:
    start = parse_period(quarter, "quarter")
    return filters.with_range(shift(start, "quarter", -1), period_end(start, "quarter"))


def previous_quarter(quarter: str) -> str:
    return period_label(shift(parse_period(quarter, "quarter"), "quarter", -1), "quarter")


def groups_that_moved(
    gateway: QueryGateway, quarter: str, filters: Filters, dimension: str
) -> pl.DataFrame:
    """Per KPI of `MOVER_KPIS`, the `PER_KPI` groups of `dimension` whose value moved most
    from the quarter before (largest change first, significant or not: the table says);
    groups whose value rests on fewer than `stats.SMALL_SAMPLE` answers are left out (a
    few answers swing a score by tens of points)."""
    table = kpi_module.trend(
        gateway, MOVER_KPIS, _window(quarter, filters), "quarter", by=dimension
    )
    return (
        table.filter(
            (pl.col("period") == quarter)
            & pl.col("hidden").is_null()
            & pl.col("delta").is_not_null()
            & ~pl.col("small_sample").fill_null(False)
        )
        .with_columns(size=pl.col("delta").abs())
        .sort(["kpi", "size", "group"], descending=[False, True, False])
        .group_by("kpi", maintain_order=True)
        .head(PER_KPI)
        .select("kpi", "group", "value", "previous", "delta", "delta_p", "delta_significant")
    )


def themes_that_grew(
    gateway: QueryGateway, stored: feedback.StoredFeedback, quarter: str, filters: Filters
) -> pl.DataFrame:
    """The detractor themes whose share of detractor comments grew, most first."""
    return (
        feedback_views.theme_table(gateway, stored, filters, quarter=quarter, group="detractor")
        .filter((pl.col("change") > 0) & (pl.col("theme") != feedback_views.OTHER_ID))
        .select("theme", "label", "comments", "share", "share_previous", "change", "p_value")
    )


def ticket_categories(gateway: QueryGateway, quarter: str, filters: Filters) -> pl.DataFrame:
    """Each ticket category's share of the quarter's tickets against the quarter before
    (`CATEGORY_SCHEMA`; p_value: pooled two-proportion z-test); categories with fewer
    tickets than a viewer's minimum in either quarter are left out."""
    this = parse_period(quarter, "quarter")
    before = shift(this, "quarter", -1)
    rows, params = scoped_rows("tickets", filters, since=before, until=period_end(this, "quarter"))
    counted = gateway.query(
        f"SELECT category, opened_at >= $this AS now, count(*) AS tickets FROM ({rows}) "
        "WHERE category IS NOT NULL GROUP BY ALL",
        params | {"this": this},
    )
    if counted.is_empty():
        return pl.DataFrame(schema=CATEGORY_SCHEMA)
    wide = (
        counted.pivot("now", index="category", values="tickets")
        .rename({"true": "tickets", "false": "previous"}, strict=False)
        .with_columns(pl.col("tickets", "previous").fill_null(0).cast(pl.Int64))
    )
    total, total_before = int(wide["tickets"].sum()), int(wide["previous"].sum())
    minimum = gateway.access.min_group
    return (
        wide.with_columns(
            share=pl.col("tickets") / max(total, 1),
            share_previous=pl.col("previous") / max(total_before, 1),
        )
        .with_columns(
            change=pl.col("share") - pl.col("share_previous"),
            p_value=pl.Series(
                [
                    stats.proportion_change_p((b, total_before), (a, total))
                    for a, b in wide.select("tickets", "previous").iter_rows()
                ],
                dtype=pl.Float64,
            ),
        )
        .filter((pl.col("tickets") >= minimum) & (pl.col("previous") >= minimum))
        .select(CATEGORY_SCHEMA.names())
        .sort("change", descending=True)
    )


def migration(
    gateway: QueryGateway, segmentation: segments.Segmentation, quarter: str, filters: Filters
) -> pl.DataFrame:
    """How customers moved between RFM segments from the end of the quarter before to the
    end of `quarter` (`segments.MIGRATION_SCHEMA` plus `hidden`); empty when the
    segmentation does not cover both quarters."""
    labels = set(segments.quarter_labels(gateway, segmentation))
    before = previous_quarter(quarter)
    if quarter not in labels or before not in labels:
        return pl.DataFrame(schema=segments.MIGRATION_SCHEMA | {"hidden": pl.String()})
    return segments.segment_migration(gateway, segmentation, before, quarter, filters)


def worsened_pain_points(
    gateway: QueryGateway,
    stored: journeys.StoredJourneys,
    quarter: str,
    filters: Filters,
) -> pl.DataFrame:
    """The journey places whose pain score rose most from the quarter before
    (`PAIN_CHANGE_SCHEMA`, at most `PAIN_POINTS`), with the drop-off change's two-proportion
    test: the customers who reached a place within each quarter are compared."""
    start = parse_period(quarter, "quarter")
    before = shift(start, "quarter", -1)
    now = journey_views.pain_table(
        gateway, stored, filters.with_range(start, period_end(start, "quarter"))
    )
    then = journey_views.pain_table(
        gateway, stored, filters.with_range(before, period_end(before, "quarter"))
    )
    keys = ["stage", "touchpoint"]
    joined = now.join(
        then.select(
            *keys,
            pl.col("customers").alias("customers_previous"),
            pl.col("score").alias("score_previous"),
            pl.col("drop_off").alias("drop_off_previous"),
            pl.col("dissatisfaction").alias("dissatisfaction_previous"),
        ),
        on=keys,
        how="inner",
        nulls_equal=True,
    ).with_columns(change=pl.col("score") - pl.col("score_previous"))
    worse = joined.filter(pl.col("change") > 0).sort(
        ["change", "stage", "touchpoint"], descending=[True, False, False], nulls_last=True
    )
    p_values = [
        None
        if row["drop_off"] is None or row["drop_off_previous"] is None
        else stats.proportion_change_p(
            (
                round(row["drop_off_previous"] * row["customers_previous"]),
                row["customers_previous"],
            ),
            (round(row["drop_off"] * row["customers"]), row["customers"]),
        )
        for row in worse.iter_rows(named=True)
    ]
    return (
        worse.with_columns(drop_off_p=pl.Series(p_values, dtype=pl.Float64))
        .head(PAIN_POINTS)
        .select(PAIN_CHANGE_SCHEMA.names())
        .cast(PAIN_CHANGE_SCHEMA)
    )
