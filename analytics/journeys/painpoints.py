"""The journey map's measures per stage and touchpoint, and the pain points ranked by them.

For every group, stage and touchpoint of that stage (and the stage as a whole):

- drop-off: the share of the customers who reached the stage (or touched the touchpoint
  there) that never reached the next stage of the ordered funnel (none for the last stage);
- dissatisfaction: the share of detractors among the NPS answers given at the stage (or
  right after the touchpoint: the survey's context), with mean NPS and CSAT beside it;
- tickets: tickets opened at the stage (or right after the touchpoint) per customer there.

A pain point's score weighs the three (`WEIGHTS`, documented in docs/journeys.md). When
groups are compared, each measure counts by how much it exceeds everyone else's at the same
place (a stage every group loses customers at is nobody's pain in particular); for a single
group, as it is; a touchpoint no one else uses is compared with everyone else at its stage.
Places with fewer than `MIN_CUSTOMERS` customers are not ranked, and dissatisfaction and
mean scores count from `MIN_ANSWERS` answers on. Each pain
point says why it ranks where it does, largest part first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from analytics import definitions as rules
from analytics.journeys.funnel import in_groups

WEIGHTS: dict[str, float] = {"drop_off": 0.5, "dissatisfaction": 0.3, "tickets": 0.2}
MIN_CUSTOMERS = 20
MIN_ANSWERS = 20  # NPS answers a place needs before its dissatisfaction counts
RATES = ("drop_off", "dissatisfaction", "ticket_rate")
TICKET_CAP = 1.0  # tickets per customer counted up to this
SENTIMENT_UNIT = 10_000  # sentiment (4 decimals, as VADER gives it) summed as integers

MEASURES_SCHEMA = pl.Schema(
    {
        "group": pl.String(),
        "stage": pl.String(),
        "touchpoint": pl.String(),  # null: the stage as a whole
        "customers": pl.Int64(),
        "continued": pl.Int64(),
        "answers": pl.Int64(),
        "detractors": pl.Int64(),
        "nps_sum": pl.Int64(),
        "csat_answers": pl.Int64(),
        "csat_sum": pl.Int64(),
        "comments": pl.Int64(),
        "sentiment_sum": pl.Int64(),  # in ten-thousandths: integer sums add up exactly
        "tickets": pl.Int64(),
    }
)
PAIN_SCHEMA = pl.Schema(
    {
        "group": pl.String(),
        "rank": pl.Int64(),
        "stage": pl.String(),
        "touchpoint": pl.String(),
        "score": pl.Float64(),
        "reason": pl.String(),
        "customers": pl.Int64(),
        "drop_off": pl.Float64(),
        "dissatisfaction": pl.Float64(),
        "ticket_rate": pl.Float64(),
        "avg_nps": pl.Float64(),
        "avg_csat": pl.Float64(),
        "avg_sentiment": pl.Float64(),
    }
)
_COUNTS = [c for c in MEASURES_SCHEMA.names() if c not in ("group", "stage", "touchpoint")]


def places(steps: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the measures read from the steps: each customer's touchpoints per stage
    (customer_id, stage, touchpoint; once each) and their survey answers and tickets where
    they were (customer_id, stage, touchpoint: the context; answers, detractors, nps_sum,
    csat_answers, csat_sum, tickets)."""
    touched = (
        steps.filter(pl.col("in_path") & (pl.col("source") == "event"))
        .select("customer_id", "stage", "touchpoint")
        .unique()
    )
    detractor = pl.col("nps") <= rules.DETRACTOR_TO
    surveys = steps.filter(pl.col("source") == "survey").select(
        "customer_id",
        stage="context_stage",
        touchpoint="context_touchpoint",
        answers=pl.col("nps").is_not_null().cast(pl.Int64),
        detractors=detractor.fill_null(False).cast(pl.Int64),
        nps_sum=pl.col("nps").fill_null(0),
        csat_answers=pl.col("csat").is_not_null().cast(pl.Int64),
        csat_sum=pl.col("csat").fill_null(0),
        comments=pl.col("sentiment").is_not_null().cast(pl.Int64),
        sentiment_sum=(pl.col("sentiment").fill_null(0.0) * SENTIMENT_UNIT).round().cast(pl.Int64),
        tickets=pl.lit(0, pl.Int64),
    )
    tickets = steps.filter(pl.col("source") == "ticket").select(
        "customer_id",
        stage="context_stage",
        touchpoint="context_touchpoint",
        tickets=pl.lit(1, pl.Int64),
    )
    reactions = pl.concat([surveys, tickets], how="diagonal").with_columns(
        pl.col(
            "answers", "detractors", "nps_sum", "csat_answers", "csat_sum", "comments"
        ).fill_null(0),
        pl.col("sentiment_sum").fill_null(0),
    )
    return touched, reactions


def measures(
    steps: pl.DataFrame, reach: pl.DataFrame, groups: pl.DataFrame, stages: Sequence[str]
) -> pl.DataFrame:
    """Counts per group, stage and touchpoint (`MEASURES_SCHEMA`; touchpoint null for the
    stage as a whole) of the funnel's customers (`reach` from `funnel.reached`)."""
    return measures_of(counts(steps, reach, groups, stages), stages)


def counts(
    steps: pl.DataFrame, reach: pl.DataFrame, groups: pl.DataFrame, stages: Sequence[str]
) -> Counts:
    """`measures`' `Counts`."""
    touched, reactions = places(steps)
    return counts_from(touched, reactions, reach, groups, stages)


def measures_from(
    touched: pl.DataFrame,
    reactions: pl.DataFrame,
    reach: pl.DataFrame,
    groups: pl.DataFrame,
    stages: Sequence[str],
) -> pl.DataFrame:
    """`measures` from the steps' `places`."""
    return measures_of(counts_from(touched, reactions, reach, groups, stages), stages)


def counts_from(
    touched: pl.DataFrame,
    reactions: pl.DataFrame,
    reach: pl.DataFrame,
    groups: pl.DataFrame,
    stages: Sequence[str],
) -> Counts:
    """`measures_from`'s `Counts`."""
    reach = with_continued(reach, stages)
    touched, reactions = placed(touched, reactions, reach)
    return counts_placed(reach, touched, reactions, groups)


def with_continued(reach: pl.DataFrame, stages: Sequence[str]) -> pl.DataFrame:
    """`reach` with `continued`: 1 when the customer reached the next stage too, 0 when not,
    null at the last stage."""
    nexts = reach.select("customer_id", step=pl.col("step") - 1, continued=pl.lit(1))
    return reach.join(nexts, on=["customer_id", "step"], how="left").with_columns(
        pl.when(pl.col("step") < len(stages)).then(pl.col("continued").fill_null(0))
    )


def placed(
    touched: pl.DataFrame, reactions: pl.DataFrame, reach: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The touchpoints (with `continued`) and reactions at stages the customers reached in
    the funnel: what `measures_placed` counts (stored per data version for all dates)."""
    at = reach.select("customer_id", "stage", "continued")
    return (
        touched.join(at, on=["customer_id", "stage"]),
        reactions.join(at.select("customer_id", "stage"), on=["customer_id", "stage"], how="semi"),
    )


@dataclass(frozen=True)
class Counts:
    """What the measures count, before a place's reactions are put beside its customers: per
    stage (group, stage) and per touchpoint (group, stage, touchpoint), the customers there
    and how many continued (`stages`, `touchpoints`), and their reactions' sums
    (`stage_reactions`, `touchpoint_reactions`). Every column is a sum over customers: the
    counts of customers no two share add up (`added`). A reaction at a touchpoint nobody
    counted touched stays here, and is left out of the measures (`measures_of`), so added
    counts give what counting everyone at once gives."""

    stages: pl.DataFrame
    stage_reactions: pl.DataFrame
    touchpoints: pl.DataFrame
    touchpoint_reactions: pl.DataFrame

    def frames(self) -> tuple[pl.DataFrame, ...]:
        return (self.stages, self.stage_reactions, self.touchpoints, self.touchpoint_reactions)

    def clear(self) -> Counts:
        """The counts of nobody, with these columns."""
        return Counts(*(frame.clear() for frame in self.frames()))


_STAGE, _TOUCHPOINT = ["group", "stage"], ["group", "stage", "touchpoint"]
_KEYS = (_STAGE, _STAGE, _TOUCHPOINT, _TOUCHPOINT)  # of each of `Counts.frames`
_REACTIONS = ("answers", "detractors", "nps_sum", "csat_answers", "csat_sum", "comments",
              "sentiment_sum", "tickets")  # fmt: skip


def counts_placed(
    reach: pl.DataFrame,
    touched: pl.DataFrame,
    reactions: pl.DataFrame,
    groups: pl.DataFrame,
) -> Counts:
    """The `Counts` of `with_continued`'s reach and `placed`'s touchpoints and reactions:
    one join on the customer per frame."""
    people = in_groups(reach, groups)
    touched = in_groups(touched, groups)
    reactions = in_groups(reactions, groups)
    named = pl.col("group").cast(pl.String)

    def place(keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        who = people if "touchpoint" not in keys else touched
        base = who.group_by(keys).agg(customers=pl.len(), continued=pl.col("continued").sum())
        said = reactions.group_by(keys).agg(pl.col(c).sum() for c in _REACTIONS)
        return base.with_columns(named), said.with_columns(named)

    return Counts(*place(_STAGE), *place(_TOUCHPOINT))


def measures_placed(
    reach: pl.DataFrame,
    touched: pl.DataFrame,
    reactions: pl.DataFrame,
    groups: pl.DataFrame,
    stages: Sequence[str],
) -> pl.DataFrame:
    """`measures` from `with_continued`'s reach and `placed`'s touchpoints and reactions."""
    return measures_of(counts_placed(reach, touched, reactions, groups), stages)


def added(many: Sequence[Counts]) -> Counts:
    """The `Counts` of several sets of customers (no two sharing one), added up: the counts
    of all of them at once."""
    if len(many) == 1:
        return many[0]
    summed = []
    for keys, frames in zip(_KEYS, zip(*(c.frames() for c in many), strict=True), strict=True):
        both = pl.concat(frames)
        sums = [c for c in both.columns if c not in keys]
        summed.append(both.group_by(keys).agg(pl.col(sums).sum()))
    return Counts(*summed)


def measures_of(counted: Counts, stages: Sequence[str]) -> pl.DataFrame:
    """The measures (`MEASURES_SCHEMA`) of `counted`: every place with customers, its
    reactions beside them, in order (by group, then the funnel's stages, the stage as a
    whole before its touchpoints, and those by name)."""
    whole = counted.stages.join(counted.stage_reactions, on=_STAGE, how="left")
    parts = counted.touchpoints.join(counted.touchpoint_reactions, on=_TOUCHPOINT, how="left")
    order = {s: i for i, s in enumerate(stages, start=1)}
    return (
        pl.concat([whole.with_columns(touchpoint=pl.lit(None, pl.String)), parts], how="diagonal")
        .with_columns(pl.col(_COUNTS).fill_null(0))
        .with_columns(_order=pl.col("stage").replace_strict(order, default=0))
        .sort("group", "_order", pl.col("touchpoint").is_not_null(), "touchpoint")
        .select(MEASURES_SCHEMA.names())
        .cast(MEASURES_SCHEMA)
    )


def pain_points(
    table: pl.DataFrame,
    stages: Sequence[str],
    *,
    min_customers: int = MIN_CUSTOMERS,
    min_answers: int = MIN_ANSWERS,
) -> pl.DataFrame:
    """Every place of `measures` ranked by pain per group (`PAIN_SCHEMA`, rank 1 = worst)."""
    compared = table["group"].n_unique() > 1
    keys = ["stage", "touchpoint"]
    totals = table.group_by(keys).agg(pl.col(_COUNTS).sum().name.suffix("_all"))
    rest = table.join(totals, on=keys, how="left", nulls_equal=True).with_columns(
        [(pl.col(f"{c}_all") - pl.col(c)).alias(f"{c}_rest") for c in _COUNTS]
    )
    last = stages[-1]

    def rates(suffix: str) -> list[pl.Expr]:
        def col(name: str) -> pl.Expr:
            return pl.col(f"{name}{suffix}")

        return [
            pl.when((col("customers") > 0) & (pl.col("stage") != last))
            .then(1 - col("continued") / col("customers"))
            .alias(f"drop_off{suffix}"),
            pl.when(col("answers") >= min_answers)
            .then(col("detractors") / col("answers"))
            .alias(f"dissatisfaction{suffix}"),
            pl.when(col("customers") > 0)
            .then(col("tickets") / col("customers"))
            .alias(f"ticket_rate{suffix}"),
        ]

    # A touchpoint no one else uses is compared with everyone else at its stage.
    stage_rest = (
        rest.filter(pl.col("touchpoint").is_null())
        .with_columns(*rates("_rest"))
        .select("group", "stage", *(pl.col(f"{r}_rest").alias(f"{r}_stage") for r in RATES))
    )
    measured = (
        rest.with_columns(*rates(""), *rates("_rest"))
        .join(stage_rest, on=["group", "stage"], how="left")
        .with_columns(
            [
                pl.when(pl.col("customers_rest") > 0)
                .then(pl.col(f"{r}_rest"))
                .otherwise(pl.col(f"{r}_stage"))
                .alias(f"{r}_rest")
                for r in RATES
            ]
        )
    ).with_columns(
        # Means of a handful of answers would read as a verdict: shown from `min_answers` on.
        avg_nps=pl.when(pl.col("answers") >= min_answers).then(
            pl.col("nps_sum") / pl.col("answers")
        ),
        avg_csat=pl.when(pl.col("csat_answers") >= min_answers).then(
            pl.col("csat_sum") / pl.col("csat_answers")
        ),
        avg_sentiment=pl.when(pl.col("comments") >= min_answers).then(
            pl.col("sentiment_sum") / pl.col("comments") / SENTIMENT_UNIT
        ),
    )
    parts = {}
    for name, rate in (
        ("drop_off", "drop_off"),
        ("dissatisfaction", "dissatisfaction"),
        ("tickets", "ticket_rate"),
    ):
        value = pl.col(rate).fill_null(0.0)
        if name == "tickets":
            value = value.clip(upper_bound=TICKET_CAP)
        if compared:
            other = pl.col(f"{rate}_rest").fill_null(0.0)
            if name == "tickets":
                other = other.clip(upper_bound=TICKET_CAP)
            value = (value - other).clip(lower_bound=0.0)
        parts[name] = WEIGHTS[name] * value
    scored = (
        measured.filter(pl.col("customers") >= min_customers)
        .with_columns(**{f"part_{k}": v for k, v in parts.items()})
        .with_columns(score=pl.sum_horizontal(f"part_{k}" for k in parts))
    )
    rows = []
    stage_order = {s: i for i, s in enumerate(stages)}
    for record in scored.iter_rows(named=True):
        record["reason"] = _reason(record, stages, compared)
        record["_order"] = stage_order.get(record["stage"], len(stages))
        rows.append(record)
    if not rows:
        return pl.DataFrame(schema=PAIN_SCHEMA)
    ranked = (
        pl.DataFrame(rows, infer_schema_length=None)
        .sort(
            ["group", "score", "_order", "touchpoint"],
            descending=[False, True, False, False],
            nulls_last=False,
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("group"))
    )
    return ranked.select(PAIN_SCHEMA.names()).cast(PAIN_SCHEMA)


def _reason(record: dict[str, object], stages: Sequence[str], compared: bool) -> str:
    """Why a place ranks where it does: its parts, largest first, with everyone else's
    value beside each when groups are compared."""
    place = record["stage"] if record["touchpoint"] is None else f"{record['touchpoint']}"
    stage = str(record["stage"])
    after = list(stages)[list(stages).index(stage) + 1] if stage != stages[-1] else None
    clauses: list[tuple[float, str]] = []

    def versus(rate: str, fmt: str) -> str:
        other = record.get(f"{rate}_rest")
        return f" (everyone else: {format(other, fmt)})" if compared and other is not None else ""

    drop = record["drop_off"]
    if isinstance(drop, float) and after is not None:
        clauses.append(
            (
                float(record["part_drop_off"]),  # type: ignore[arg-type]
                f"{drop:.0%} of the {record['customers']:,} customers at {place} never "
                f"reached {after}{versus('drop_off', '.0%')}",
            )
        )
    unhappy = record["dissatisfaction"]
    if isinstance(unhappy, float):
        clauses.append(
            (
                float(record["part_dissatisfaction"]),  # type: ignore[arg-type]
                f"{unhappy:.0%} of {record['answers']:,} NPS answers here are detractors"
                f"{versus('dissatisfaction', '.0%')}",
            )
        )
    tickets = record["ticket_rate"]
    if isinstance(tickets, float) and record["tickets"]:
        clauses.append(
            (
                float(record["part_tickets"]),  # type: ignore[arg-type]
                f"{tickets:.2f} tickets per customer{versus('ticket_rate', '.2f')}",
            )
        )
    if not clauses:
        return "No drop-off, answers or tickets here."
    clauses.sort(key=lambda c: -c[0])
    return "; ".join(text for _, text in clauses) + "."
