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

import shutil
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from analytics import definitions as rules
from analytics.feedback.sentiment import score_texts
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
        "sentiment": pl.Float64(),  # of a survey response's comment (-1 to 1), else null
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
    (completed orders only); `surveys`: customer_id, at, nps, csat, sentiment (of the
    comment; may be absent); `tickets`: customer_id,
    at. `customer_id` is text or an integer key, the same in all four (and in the steps).
    """
    # Millions of steps are sorted, joined and filled on integers: customers as codes (an
    # integer key as it is, text as categories), touchpoints and stages as categories.
    ids = events.schema["customer_id"]
    customer = (
        pl.col("customer_id")
        if ids.is_integer()
        else pl.col("customer_id").cast(pl.String).cast(pl.Categorical)
    )
    text = pl.Categorical()
    staged = _staged(events.select(customer, "at", "touchpoint", "stage"), settings).select(
        "customer_id",
        pl.col("at").cast(pl.Datetime("us")),
        "touchpoint",
        "stage",
        "_order",
        source=pl.lit("event", dtype=_SOURCE),
    )
    code = pl.col("customer_id").to_physical()

    def lit(value: str | None) -> pl.Expr:
        return pl.lit(value, dtype=pl.String).cast(text)

    bought = orders.select(
        customer,
        at=pl.col("day").cast(pl.Datetime("us")) + END_OF_DAY,
        touchpoint=lit(PURCHASE),
        stage=lit(settings.purchase_stage),
        source=pl.lit("order", dtype=_SOURCE),
    )
    asked = tickets.select(
        customer,
        at=pl.col("at").cast(pl.Datetime("us")),
        touchpoint=lit(TICKET),
        stage=lit(settings.ticket_stage),
        source=pl.lit("ticket", dtype=_SOURCE),
    )
    answered = surveys.select(
        customer,
        at=pl.col("at").cast(pl.Datetime("us")),
        touchpoint=lit(SURVEY),
        stage=lit(None),
        source=pl.lit("survey", dtype=_SOURCE),
        nps=pl.col("nps").cast(pl.Int64),
        csat=pl.col("csat").cast(pl.Int64),
        sentiment=(
            pl.col("sentiment").cast(pl.Float64)
            if "sentiment" in surveys.columns
            else pl.lit(None, pl.Float64)
        ),
    )
    # Sources in `SOURCES` order within the same moment (the enum's codes), then events by
    # touchpoint name: the same steps in any order give the same journeys.
    ordered = (
        pl.concat([staged, bought, answered, asked], how="diagonal")
        .sort(code, "at", pl.col("source").to_physical(), pl.col("_order").fill_null(0))
        .drop("_order")
    )
    # An order or ticket on a day the customer's events hold its stage already (a checkout,
    # a support contact) is that moment seen twice: out of the paths. The nearest event of
    # the stage before and after it, found by filling down and up the sorted steps, tell.
    same_day = code.cast(pl.Int64) * 1_000_000 + pl.col("at").dt.epoch("d") + 500_000

    def echo(source: str, stage: str) -> pl.Expr:
        marked = pl.when((pl.col("source") == "event") & (pl.col("stage") == stage))
        before = marked.then(same_day).forward_fill() == same_day
        after = marked.then(same_day).backward_fill() == same_day
        return (pl.col("source") == source) & (before.fill_null(False) | after.fill_null(False))

    ordered = ordered.with_columns(
        in_path=~(echo("order", settings.purchase_stage) | echo("ticket", settings.ticket_stage))
    )
    # Where each customer was: the latest event or order in the paths at or before each
    # step, its stage and touchpoint as they are (a stage may be none), taken from its row
    # (one pass down the sorted steps; a customer's first reaction has none).
    moving = pl.col("source").is_in(["event", "order"])
    mover = moving & pl.col("in_path")
    last = pl.when(mover).then(code).forward_fill()
    since = last == code
    latest = pl.when(mover).then(pl.int_range(pl.len(), dtype=pl.UInt32)).forward_fill()

    def where(column: str) -> pl.Expr:
        previous = pl.when(since).then(pl.col(column).gather(latest))
        return pl.when(moving).then(pl.col(column)).otherwise(previous)

    schema = STEPS_SCHEMA | {"customer_id": ids}
    return (
        ordered.with_columns(context_stage=where("stage"), context_touchpoint=where("touchpoint"))
        .with_columns(
            stage=pl.when(pl.col("source") == "survey")
            .then(pl.col("context_stage"))
            .otherwise(pl.col("stage"))
        )
        .select(schema.names())
        .cast(schema)
    )


_SOURCE = pl.Enum(SOURCES)


def _staged(events: pl.DataFrame, settings: JourneySettings) -> pl.DataFrame:
    """`events` (customer_id, at, touchpoint, stage as exported) with touchpoint and stage as
    categories, the stage decided once per distinct touchpoint and exported stage (not once
    per event; `stage_rules`), and `_order`: the rank of the touchpoint and exported stage
    by name."""
    text = pl.Categorical()
    events = events.select(
        "customer_id",
        "at",
        pl.col("touchpoint").cast(pl.String).cast(text),
        exported=pl.col("stage").cast(pl.String).cast(text),
    )
    decided = stage_rules(events.select("touchpoint", "exported").unique(), settings).select(
        "touchpoint",
        "exported",
        pl.col("stage").cast(text),
        _order=pl.struct(
            pl.col("touchpoint").cast(pl.String), pl.col("exported").cast(pl.String)
        ).rank("dense"),
    )
    return events.join(decided, on=["touchpoint", "exported"], how="left", nulls_equal=True).drop(
        "exported"
    )


DECIDED_BY = ("export", "map", "none")  # where a touchpoint's stage comes from


def stage_rules(pairs: pl.DataFrame, settings: JourneySettings) -> pl.DataFrame:
    """The stage of each touchpoint and exported stage (`pairs`: touchpoint, exported) with
    `stage` and `decided_by`: the export's own stage where it names one of the stages
    (compared case-insensitively), else the touchpoint map's, else none; with the
    settings' `map_first`, the map's first."""
    known = {s.lower(): s for s in settings.stages}
    own = pl.col("exported").cast(pl.String).str.strip_chars().str.to_lowercase()
    mapped = (
        pl.col("touchpoint")
        .cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(dict(settings.touchpoint_stages), default=None, return_dtype=pl.String)
    )
    exported = own.replace_strict(known, default=None, return_dtype=pl.String)
    first, then = (mapped, exported) if settings.map_first else (exported, mapped)
    names = ("map", "export") if settings.map_first else ("export", "map")
    return pairs.with_columns(
        stage=pl.coalesce(first, then),
        decided_by=pl.when(first.is_not_null())
        .then(pl.lit(names[0]))
        .when(then.is_not_null())
        .then(pl.lit(names[1]))
        .otherwise(pl.lit("none")),
    )


def touchpoint_stages(
    gateway: QueryGateway, warehouse: Warehouse, settings: JourneySettings
) -> pl.DataFrame:
    """Every touchpoint in the events, with the stages their export gives them: touchpoint,
    exported (null: none), events, customers, stage (what the journeys use) and decided_by
    (`DECIDED_BY`); most events first. What an analyst reviews to map the touchpoints.
    Counted once per data version by the journeys' build (`touchpoint_counts`) for those
    who see every event; counted here for the others, or while the build is not there."""
    if warehouse.version("events") is None:
        return pl.DataFrame(
            schema={"touchpoint": pl.String(), "exported": pl.String(), "events": pl.Int64(),
                    "customers": pl.Int64(), "stage": pl.String(), "decided_by": pl.String()}
        )  # fmt: skip
    counts = _stored_touchpoint_counts(gateway, warehouse, settings)
    counted = touchpoint_counts(gateway) if counts is None else counts
    return stage_rules(counted, settings).sort(
        ["events", "touchpoint", "exported"], descending=[True, False, False]
    )


def touchpoint_counts(gateway: QueryGateway) -> pl.DataFrame:
    """Every touchpoint and exported stage in the events as `gateway` sees them: touchpoint,
    exported, events, customers."""
    return gateway.query(
        "SELECT touchpoint, stage AS exported, count(*) AS events, "
        "count(DISTINCT customer_id) AS customers FROM events "
        "WHERE touchpoint IS NOT NULL GROUP BY ALL"
    ).with_columns(pl.col("events", "customers").cast(pl.Int64))


def _stored_touchpoint_counts(
    gateway: QueryGateway, warehouse: Warehouse, settings: JourneySettings
) -> pl.DataFrame | None:
    """The build's `touchpoint_counts` of the data `gateway` reads, when it sees every event
    and the build is there."""
    if gateway.access.limits:  # some rows are not theirs: count what they see
        return None
    from analytics.journeys import store  # the build reads steps: it imports this module

    stored = store.current(warehouse, settings, at=gateway.versions() if gateway.pinned else None)
    return None if stored is None else pl.read_parquet(stored.path("touchpoints"))


def within(steps: pl.LazyFrame, start: date | None, end: date | None) -> pl.LazyFrame:
    """The steps from the beginning of day `start` to the end of day `end` (None: open)."""
    if start is not None:
        steps = steps.filter(pl.col("at") >= datetime.combine(start, time.min))
    if end is not None:
        steps = steps.filter(pl.col("at") < datetime.combine(end + timedelta(days=1), time.min))
    return steps


def read_steps(
    gateway: QueryGateway,
    warehouse: Warehouse,
    settings: JourneySettings,
    *,
    keys: Path | None = None,
) -> pl.DataFrame:
    """The steps of every customer in the warehouse (read through `gateway` as it is); with
    `keys` (a `write_customer_keys` file), customers as their key rather than their id (what
    the stored journeys hold: millions of integers are far lighter to sort and join than
    text)."""
    params = {} if keys is None else {"keys": str(keys)}
    frames = {
        name: gateway.query(sql, params) if sql else _empty(schema)
        for name, (sql, schema) in _sources(warehouse, keys).items()
    }
    return _merged(frames, settings, _known_scores(warehouse))


BATCH_ROWS = 6_000_000  # source rows a full build merges at once, at most: bounds its memory


def steps_in_batches(
    gateway: QueryGateway,
    warehouse: Warehouse,
    settings: JourneySettings,
    keys: Path,
    scratch: Path,
    rows: int | None = None,
) -> Iterator[pl.DataFrame]:
    """The steps `read_steps(..., keys=keys)` makes, in batches of whole customers in key
    order (each batch's steps sorted as `merge_steps` sorts them): one batch per `rows`
    (default `BATCH_ROWS`) rows of the sources, each of as many customers as the next.
    Each source is first written keyed, once, to a file per batch under `scratch` (a new
    folder inside the warehouse, removed after): the batches then read their own rows, and
    a build of any size merges a few million steps at a time."""
    sources = _sources(warehouse, keys)
    present = [name for name, (sql, _) in sources.items() if sql]
    counted = gateway.query(
        " UNION ALL ".join(f"SELECT count(*) AS n FROM {name}" for name in present) or "SELECT 0"
    )
    wanted = max(1, -(-int(counted.to_series().sum()) // (rows or BATCH_ROWS)))
    customers = pl.scan_parquet(keys).select(pl.len()).collect().item()
    if wanted == 1 or customers <= 1:  # one batch: merged from the rows as read
        return iter([read_steps(gateway, warehouse, settings, keys=keys)])
    size = -(-customers // wanted)  # customers per batch
    count = -(-customers // size)

    def frames() -> Iterator[pl.DataFrame]:
        scratch.mkdir(parents=True)
        try:
            for name in present:
                gateway.write_parquet(
                    f"SELECT *, customer_id // {size} AS batch FROM ({sources[name][0]})",
                    scratch / name,
                    params={"keys": str(keys)},
                    partition_by="batch",
                )
            known = _known_scores(warehouse)
            for batch in range(count):
                read = {
                    name: _batch_rows(scratch / name / f"batch={batch}", schema)
                    for name, (_, schema) in sources.items()
                }
                yield _merged(read, settings, known)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return frames()


def _sources(warehouse: Warehouse, keys: Path | None) -> dict[str, tuple[str, pl.Schema]]:
    """Each source's query (empty when the dataset was never loaded) and schema: its rows as
    `merge_steps` takes them; customers as their key in `keys` (bound as `$keys`), if given."""
    ids = pl.String() if keys is None else pl.UInt32()
    customer = "d.customer_id" if keys is None else "k.key AS customer_id"
    joined = "" if keys is None else " JOIN read_parquet($keys) k USING (customer_id)"
    at = pl.Datetime("us")
    wanted: dict[str, tuple[str, str, dict[str, pl.DataType]]] = {
        "events": (
            "occurred_at AS at, touchpoint, stage",
            " AND touchpoint IS NOT NULL",
            {"at": at, "touchpoint": pl.String(), "stage": pl.String()},
        ),
        "orders": (
            "order_date AS day",
            f" AND {rules.completed_sql()} GROUP BY ALL",
            {"day": pl.Date()},
        ),
        "surveys": (
            "responded_at AS at, nps, csat, comment",
            "",
            {"at": at, "nps": pl.Int64(), "csat": pl.Int64(), "comment": pl.String()},
        ),
        "tickets": ("opened_at AS at", "", {"at": at}),
    }
    return {
        name: (
            f"SELECT {customer}, {columns} FROM {name} d{joined} "
            f"WHERE d.customer_id IS NOT NULL{where}"
            if warehouse.version(name) is not None
            else "",
            pl.Schema({"customer_id": ids, **schema}),
        )
        for name, (columns, where, schema) in wanted.items()
    }


def _empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _batch_rows(folder: Path, schema: pl.Schema) -> pl.DataFrame:
    """A batch's rows of one source (`steps_in_batches`): none when it has no file."""
    if not folder.is_dir():
        return _empty(schema)
    return pl.read_parquet(folder / "*.parquet", hive_partitioning=False)


def _known_scores(warehouse: Warehouse) -> pl.DataFrame | None:
    # A comment's sentiment depends on its text alone: texts the feedback analysis scored
    # are not scored again (imported here: reading journeys needs no feedback store).
    from analytics.feedback.store import known_scores

    return known_scores(warehouse)


def _merged(
    frames: dict[str, pl.DataFrame], settings: JourneySettings, known: pl.DataFrame | None
) -> pl.DataFrame:
    """`merge_steps` of the sources' rows (`_sources`), the comments scored (`known`: texts
    scored before, `_known_scores`)."""
    surveys = frames["surveys"]
    sentiment = score_texts(surveys["comment"], known=known)
    surveys = surveys.with_columns(sentiment=sentiment).drop("comment")
    return merge_steps(frames["events"], frames["orders"], surveys, frames["tickets"], settings)


def write_customer_keys(
    gateway: QueryGateway,
    warehouse: Warehouse,
    target: Path,
    *,
    names: Sequence[str] = (),
    also: Path | None = None,
) -> None:
    """Write every customer id in the journeys' datasets (or in datasets `names`) with its
    key (customer_id, key: 0, 1, ... in id order) to the Parquet file `target` inside the
    warehouse; with `also` (an earlier such file), the ids it holds too."""
    ids = customer_ids_sql(warehouse, names or SOURCE_DATASETS)
    if also is not None:
        quoted = str(also).replace("'", "''")
        ids = f"SELECT customer_id FROM read_parquet('{quoted}') UNION {ids}"
    gateway.write_parquet(
        "SELECT customer_id, CAST(row_number() OVER (ORDER BY customer_id) - 1 AS UINTEGER) "
        f"AS key FROM ({ids}) ORDER BY key",
        target,
    )


def customer_ids_sql(warehouse: Warehouse, names: Sequence[str]) -> str:
    """SQL of the distinct customer ids in datasets `names` (those loaded)."""
    present = [name for name in names if warehouse.version(name) is not None]
    return (
        " UNION ".join(
            f"SELECT DISTINCT customer_id FROM {name} WHERE customer_id IS NOT NULL"
            for name in present
        )
        or "SELECT CAST(NULL AS VARCHAR) AS customer_id WHERE false"
    )


SOURCE_DATASETS = ("events", "orders", "surveys", "tickets")
