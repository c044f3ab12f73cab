"""Every customer's touchpoints in time order: the events, with completed orders, survey
responses and tickets merged in as touchpoints of their own.

`merge_steps` is pure (frames in, frame out) and decides:

- an event's stage: its own `stage` where that names one of the stages, else the
  touchpoint map's (`JourneySettings.stage_of`), else none;
- an order is the touchpoint `Purchase` (stage `purchase_stage`) at the end of its day, a
  ticket `Support ticket` (stage `ticket_stage`) when opened: where the events already hold
  a touchpoint of that stage for the customer on the same day (a checkout event, a support
  contact), the order or ticket is the same moment seen twice and stays out of the paths
  (`in_path` false) while still counting as a ticket;
- a survey response is the touchpoint `Survey` in the stage the customer was in when
  answering (the latest earlier event or order);
- `context_stage` and `context_touchpoint`: where the customer was at each step (its own
  stage and touchpoint for events and orders, the latest earlier event's or order's for
  responses and tickets): what satisfaction and tickets are attributed to.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from analytics import definitions as rules
from analytics.journeys.stages import PURCHASE, SURVEY, TICKET, JourneySettings
from analytics.warehouse import QueryGateway, Warehouse

STEPS_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "at": pl.Datetime("us"),
        "touchpoint": pl.String(),
        "stage": pl.String(),
        "source": pl.String(),  # event, order, survey, ticket
        "in_path": pl.Boolean(),
        "context_stage": pl.String(),
        "context_touchpoint": pl.String(),
        "nps": pl.Int64(),
        "csat": pl.Int64(),
    }
)
SOURCES = ("event", "order", "survey", "ticket")
END_OF_DAY = timedelta(days=1) - timedelta(seconds=1)


def merge_steps(
    events: pl.DataFrame,
    orders: pl.DataFrame,
    surveys: pl.DataFrame,
    tickets: pl.DataFrame,
    settings: JourneySettings,
) -> pl.DataFrame:
    """The steps (`STEPS_SCHEMA`): each customer's together, in time order.

    `events`: customer_id, at, touchpoint, stage (may be null); `orders`: customer_id, day
    (completed orders only); `surveys`: customer_id, at, nps, csat; `tickets`: customer_id,
    at.
    """
    events = events.cast({"touchpoint": pl.String, "stage": pl.String})
    known = {s.lower(): s for s in settings.stages}
    mapped = {k: v for k, v in settings.touchpoint_stages.items()}
    own = pl.col("stage").str.strip_chars().str.to_lowercase()
    by_touchpoint = (
        pl.col("touchpoint")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(mapped, default=None, return_dtype=pl.String)
    )
    staged = events.select(
        "customer_id",
        pl.col("at").cast(pl.Datetime("us")),
        "touchpoint",
        stage=pl.when(own.is_in(list(known)))
        .then(own.replace_strict(known, default=None, return_dtype=pl.String))
        .otherwise(by_touchpoint),
        source=pl.lit("event"),
        in_path=pl.lit(True),
    )

    # Customers as integer codes (first seen, first): joins and sorts of millions of steps
    # run several times faster on them than on the ids' text.
    code = pl.col("customer_id").cast(pl.Categorical).to_physical().alias("_customer")
    staged = staged.with_columns(code)

    def echoes(rows: pl.DataFrame, stage: str) -> pl.DataFrame:
        """`rows` with `in_path`: false where the events hold `stage` that day already."""
        seen = (
            staged.filter(pl.col("stage") == stage)
            .select("_customer", _day=pl.col("at").dt.date(), _seen=pl.lit(True))
            .unique()
        )
        return (
            rows.with_columns(code, _day=pl.col("at").dt.date())
            .join(seen, on=["_customer", "_day"], how="left")
            .with_columns(in_path=pl.col("_seen").is_null())
            .drop("_day", "_seen")
        )

    bought = echoes(
        orders.select(
            "customer_id",
            at=pl.col("day").cast(pl.Datetime("us")) + END_OF_DAY,
            touchpoint=pl.lit(PURCHASE),
            stage=pl.lit(settings.purchase_stage),
            source=pl.lit("order"),
        ),
        settings.purchase_stage,
    )
    asked = echoes(
        tickets.select(
            "customer_id",
            at=pl.col("at").cast(pl.Datetime("us")),
            touchpoint=pl.lit(TICKET),
            stage=pl.lit(settings.ticket_stage),
            source=pl.lit("ticket"),
        ),
        settings.ticket_stage,
    )
    answered = surveys.select(
        "customer_id",
        at=pl.col("at").cast(pl.Datetime("us")),
        touchpoint=pl.lit(SURVEY),
        stage=pl.lit(None, dtype=pl.String),
        source=pl.lit("survey"),
        in_path=pl.lit(True),
        nps=pl.col("nps").cast(pl.Int64),
        csat=pl.col("csat").cast(pl.Int64),
    ).with_columns(code)
    order = {s: i for i, s in enumerate(SOURCES)}
    ordered = (
        pl.concat([staged, bought, answered, asked], how="diagonal")
        .with_columns(rank=pl.col("source").replace_strict(order, return_dtype=pl.Int8))
        .sort("_customer", "at", "rank")
    )
    # Where each customer was: the latest event or order in the paths at or before each
    # step (one pass down the sorted steps; a customer's first reaction has none).
    moving = pl.col("source").is_in(["event", "order"])
    mover = moving & pl.col("in_path")
    last = pl.when(mover).then(pl.col("_customer")).forward_fill()
    since = last == pl.col("_customer")

    def where(column: str) -> pl.Expr:
        previous = pl.when(since).then(pl.when(mover).then(pl.col(column)).forward_fill())
        return pl.when(moving).then(pl.col(column)).otherwise(previous)

    return (
        ordered.with_columns(context_stage=where("stage"), context_touchpoint=where("touchpoint"))
        .with_columns(
            stage=pl.when(pl.col("source") == "survey")
            .then(pl.col("context_stage"))
            .otherwise(pl.col("stage"))
        )
        .select(STEPS_SCHEMA.names())
        .cast(STEPS_SCHEMA)
    )


def read_steps(
    gateway: QueryGateway, warehouse: Warehouse, settings: JourneySettings
) -> pl.DataFrame:
    """The steps of every customer in the warehouse (read through `gateway` as it is)."""

    def read(dataset: str, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        if warehouse.version(dataset) is None:  # never loaded: no rows
            return pl.DataFrame(schema=schema)
        return gateway.query(sql)

    at = pl.Datetime("us")
    events = read(
        "events",
        "SELECT customer_id, occurred_at AS at, touchpoint, stage FROM events "
        "WHERE customer_id IS NOT NULL AND touchpoint IS NOT NULL",
        {"customer_id": pl.String(), "at": at, "touchpoint": pl.String(), "stage": pl.String()},
    )
    orders = read(
        "orders",
        f"SELECT DISTINCT customer_id, order_date AS day FROM orders "
        f"WHERE customer_id IS NOT NULL AND {rules.completed_sql()}",
        {"customer_id": pl.String(), "day": pl.Date()},
    )
    surveys = read(
        "surveys",
        "SELECT customer_id, responded_at AS at, nps, csat FROM surveys "
        "WHERE customer_id IS NOT NULL",
        {"customer_id": pl.String(), "at": at, "nps": pl.Int64(), "csat": pl.Int64()},
    )
    tickets = read(
        "tickets",
        "SELECT customer_id, opened_at AS at FROM tickets WHERE customer_id IS NOT NULL",
        {"customer_id": pl.String(), "at": at},
    )
    return merge_steps(events, orders, surveys, tickets, settings)


SOURCE_DATASETS = ("events", "orders", "surveys", "tickets")
