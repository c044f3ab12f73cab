"""Journeys as users see them: the stored steps of the customers a user may see within the
sidebar's filters and date range, grouped by a customer dimension, turned into the funnel,
paths, journey map and pain points, with small groups hidden from viewers and a customer
list behind every number.

A customer's journey is their steps within the date range. Journeys compare customers, so
`by` is a customer dimension (region, country, plan, acquisition channel, RFM segment,
cluster); filters on a record dimension (sales channel, product category) narrow the
customers to those with such orders.

What nobody narrows is read from the build rather than computed: for a user who sees every
row, the funnel and the map's measures of all dates and of each quarter (`totals`); the
paths of all dates are counted from the stored positions of every customer's touchpoints.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from analytics import disclosure
from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS, NOT_SET, Filters, scoped_rows
from analytics.journeys import painpoints as pains
from analytics.journeys import paths as routes
from analytics.journeys import totals
from analytics.journeys.funnel import ALL, FUNNEL_SCHEMA, funnel, reached
from analytics.journeys.steps import within
from analytics.journeys.store import StoredJourneys
from analytics.segments import visible_customer_ids
from analytics.warehouse import QueryGateway

EVERYONE = Filters()
DEFAULT_PATHS = routes.PathOptions()
BY_DIMENSIONS = tuple(k for k, d in DIMENSIONS.items() if d.level == "customer")

MAP_SCHEMA = pl.Schema(
    {
        "group": pl.String(),
        "step": pl.Int64(),
        "stage": pl.String(),
        "customers": pl.Int64(),
        "conversion_to_next": pl.Float64(),
        "median_days_to_next": pl.Float64(),
        "touchpoints": pl.List(pl.Struct({"touchpoint": pl.String(), "customers": pl.Int64()})),
        "avg_nps": pl.Float64(),
        "avg_csat": pl.Float64(),
        "avg_sentiment": pl.Float64(),
        "dissatisfaction": pl.Float64(),
        "ticket_rate": pl.Float64(),
        "pain_score": pl.Float64(),
    }
)


def check_by(by: str | None) -> str | None:
    if by is not None and by not in BY_DIMENSIONS:
        raise ConfigError(f"Journeys compare customers by {', '.join(BY_DIMENSIONS)}; got '{by}'.")
    return by


def customer_groups(
    gateway: QueryGateway, stored: StoredJourneys, filters: Filters, by: str | None
) -> pl.DataFrame:
    """The customers this user may see within `filters` (customer_id) with their `group`:
    the value of `by`, or `ALL`."""
    check_by(by)
    dimensions_only = filters.with_range(None, None)
    if _everyone(gateway, filters):
        ids = pl.read_parquet(stored.path("customers"), columns=["customer_id"])
    else:
        last = datetime.fromisoformat(str(stored.meta["last"])).date()
        ids = pl.DataFrame(
            {"customer_id": visible_customer_ids(gateway, dimensions_only, last)},
            schema={"customer_id": pl.String},
        ).unique()
    if by is None:
        return ids.with_columns(group=pl.lit(ALL))
    rows, params = scoped_rows("customers", EVERYONE, by=by)
    values = gateway.query(f'SELECT customer_id, grp AS "group" FROM ({rows})', params)
    return ids.join(values.unique("customer_id"), on="customer_id", how="left").with_columns(
        pl.col("group").fill_null(NOT_SET)
    )


def journey_steps(
    stored: StoredJourneys, customers: pl.DataFrame, filters: Filters
) -> pl.DataFrame:
    """The stored steps of `customers` (keyed) within the filters' date range, in their
    stored order (each customer's in time order: what their paths follow)."""
    steps = within(pl.scan_parquet(stored.steps_path), filters.start, filters.end)
    chosen = customers.lazy().select("customer_id")
    return steps.join(chosen, on="customer_id", how="semi", maintain_order="left").collect()


def _all_dates(filters: Filters) -> bool:
    return filters.start is None and filters.end is None


def _keyed(stored: StoredJourneys, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each customer id replaced by the stored parts' integer key (joins on
    millions of rows run several times faster on integers than on text)."""
    index = pl.scan_parquet(stored.path("customers"))
    return (
        frame.lazy()
        .join(index, on="customer_id")
        .drop("customer_id")
        .rename({"key": "customer_id"})
        .collect()
    )


def _ids(stored: StoredJourneys, keys: pl.Series) -> list[str]:
    """The customer ids of stored keys."""
    index = pl.scan_parquet(stored.path("customers"))
    found = index.join(pl.LazyFrame({"key": keys}), on="key", how="semi").collect()
    return sorted(found["customer_id"].to_list())


def _part(
    stored: StoredJourneys,
    part: str,
    customers: pl.DataFrame | None,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """A stored part of the view of all dates (its `columns`, or all), for these (keyed)
    customers, or for all of them (None)."""
    scan = pl.scan_parquet(stored.path(part))
    if columns is not None:
        scan = scan.select("customer_id", *columns)
    if customers is not None:
        scan = scan.join(customers.lazy().select("customer_id"), on="customer_id", how="semi")
    return scan.collect()


def _everyone(gateway: QueryGateway, filters: Filters) -> bool:
    """Whether this user sees every customer with a journey within `filters`."""
    return not filters.with_range(None, None).selections() and not gateway.access.limits


def _held(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters,
    by: str | None,
    part: str,
) -> pl.DataFrame | None:
    """The build's table `part` (`totals.TABLES`) of this view, when the build holds it:
    nothing compared, nothing narrowed, every row visible, and a date range it holds."""
    if by is not None or not _everyone(gateway, filters):
        return None
    if not totals.holds(stored.meta.get("ranges", []), filters.start, filters.end):
        return None
    return totals.pick(pl.read_parquet(stored.path(part)), filters.start, filters.end)


def _reach(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters,
    by: str | None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """The funnel's reach, the groups and (for a date range) the steps they came from."""
    groups = _keyed(stored, customer_groups(gateway, stored, filters, by))
    if _all_dates(filters):
        return _part(stored, "reach", groups), groups, None
    steps = journey_steps(stored, groups, filters)
    return reached(steps, stored.settings.stages), groups, steps


def _measures(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters,
    by: str | None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The measures per group, stage and touchpoint, with the reach and groups."""
    reach, groups, steps = _reach(gateway, stored, filters, by)
    if steps is None:  # the stored parts are placed already
        touched, reactions = _part(stored, "touched", groups), _part(stored, "reactions", groups)
        table = pains.measures_placed(reach, touched, reactions, groups, stored.settings.stages)
    else:
        touched, reactions = pains.places(steps)
        table = pains.measures_from(touched, reactions, reach, groups, stored.settings.stages)
    return table, reach, groups


def _cut(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters,
    options: routes.PathOptions,
    *,
    ids: bool,
) -> pl.DataFrame:
    """The `paths.positions` the paths of these options are cut from (with customer_id
    when `ids`): stored for all dates, from the steps within a date range."""
    if _all_dates(filters):
        columns = routes.position_columns(options)
        if _everyone(gateway, filters):
            named = ["customer_id"] if ids else []
            return pl.read_parquet(stored.path("positions"), columns=[*named, *columns])
        keyed = _keyed(stored, customer_groups(gateway, stored, filters, None))
        return _part(stored, "positions", keyed, columns)
    customers = _keyed(stored, customer_groups(gateway, stored, filters, None))
    steps = journey_steps(stored, customers, filters)
    return routes.step_positions(steps, options, stored.settings.purchase_stage)


def _protected(gateway: QueryGateway, table: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """A per-group, per-stage table with `hidden`: why a row is hidden from this user (too
    few customers, or to protect such a row among the groups of its stage), its numbers
    blanked."""
    cells = disclosure.protect(
        table.with_columns(unit=pl.lit("customers")),
        count="customers",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("step",))],
    ).drop("unit")
    shown = [c for c in schema.names() if c not in ("group", "step", "stage")]
    return disclosure.blank(cells, shown)


def funnel_table(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters = EVERYONE,
    by: str | None = None,
) -> pl.DataFrame:
    """The ordered stage funnel per group (`funnel.FUNNEL_SCHEMA`) with `hidden`: why a row
    is hidden from this user (fewer customers than the minimum, or to protect one)."""
    table = _held(gateway, stored, filters, by, "funnels")
    if table is None:
        reach, groups, _ = _reach(gateway, stored, filters, by)
        table = funnel(reach, groups, stored.settings.stages)
    return _protected(gateway, table, FUNNEL_SCHEMA)


def pain_table(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters = EVERYONE,
    by: str | None = None,
) -> pl.DataFrame:
    """Pain points per group (`painpoints.PAIN_SCHEMA`). Places rest on at least
    `painpoints.MIN_CUSTOMERS` customers (and the viewer minimum, if larger)."""
    table = _held(gateway, stored, filters, by, "measures")
    if table is None:
        table, _, _ = _measures(gateway, stored, filters, by)
    floor = gateway.access.min_group
    return pains.pain_points(
        table,
        stored.settings.stages,
        min_customers=max(pains.MIN_CUSTOMERS, floor),
        min_answers=max(pains.MIN_ANSWERS, floor),
    )


def journey_map(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters = EVERYONE,
    by: str | None = None,
    *,
    touchpoints: int = 5,
) -> pl.DataFrame:
    """The journey map (`MAP_SCHEMA`): per group and stage, the customers there, their
    conversion to the next stage and the days it took, the `touchpoints` most used there,
    the satisfaction there (mean NPS and CSAT, detractor share), tickets per customer, and
    the stage's pain score. Hidden from viewers where fewer than the minimum are there."""
    stages = stored.settings.stages
    counted = _held(gateway, stored, filters, by, "measures")
    table = _held(gateway, stored, filters, by, "funnels")
    if counted is None or table is None:
        counted, reach, groups = _measures(gateway, stored, filters, by)
        table = funnel(reach, groups, stages)
    floor = gateway.access.min_group
    scored = pains.pain_points(
        counted, stages, min_customers=max(floor, 1), min_answers=max(pains.MIN_ANSWERS, floor)
    )
    used = (
        counted.filter(pl.col("touchpoint").is_not_null() & (pl.col("customers") >= max(floor, 1)))
        .sort(["group", "stage", "customers", "touchpoint"], descending=[False, False, True, False])
        .group_by("group", "stage", maintain_order=True)
        .agg(pl.struct("touchpoint", "customers").head(touchpoints).alias("touchpoints"))
    )
    whole = scored.filter(pl.col("touchpoint").is_null()).select(
        "group", "stage", "avg_nps", "avg_csat", "avg_sentiment", "dissatisfaction",
        "ticket_rate",
        pain_score="score",
    )  # fmt: skip
    following = table.select(
        "group",
        step=pl.col("step") - 1,
        conversion_to_next="conversion_from_previous",
        median_days_to_next="median_days_from_previous",
    )
    joined = (
        table.select("group", "step", "stage", "customers")
        .join(following, on=["group", "step"], how="left")
        .join(used, on=["group", "stage"], how="left")
        .join(whole, on=["group", "stage"], how="left")
    )
    return _protected(gateway, joined.select(MAP_SCHEMA.names()).cast(MAP_SCHEMA), MAP_SCHEMA)


def path_tables(
    gateway: QueryGateway,
    stored: StoredJourneys,
    filters: Filters = EVERYONE,
    options: routes.PathOptions = DEFAULT_PATHS,
    *,
    limit: int = 20,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The most common paths (`paths.PATHS_SCHEMA`) and their links (`paths.LINKS_SCHEMA`);
    for viewers, only those of at least the minimum customers."""
    counted = routes.path_counts(_cut(gateway, stored, filters, options, ids=False), options)
    floor = gateway.access.min_group
    paths = routes.path_table(counted, limit).filter(pl.col("customers") >= floor)
    links = routes.link_table(counted).filter(pl.col("customers") >= floor)
    return paths, links


def step_customers(
    gateway: QueryGateway,
    stored: StoredJourneys,
    stage: str,
    *,
    dropped: bool,
    filters: Filters = EVERYONE,
    by: str | None = None,
    group: str | None = None,
    touchpoint: str | None = None,
) -> list[str]:
    """The customers who reached `stage` (of `group`; who touched `touchpoint` there), or
    with `dropped` those of them who never reached the next stage. Empty for a viewer when
    they are fewer than the minimum."""
    reach, groups, steps = _reach(gateway, stored, filters, by)
    if group is not None:
        groups = groups.filter(pl.col("group") == group)
    reach = reach.join(groups, on="customer_id")
    if stage not in stored.settings.stages:
        raise ConfigError(f"Unknown stage '{stage}'. Stages: {', '.join(stored.settings.stages)}.")
    number = stored.settings.stages.index(stage) + 1
    there = reach.filter(pl.col("step") == number).select("customer_id")
    if touchpoint is not None:
        touched = pains.places(steps)[0] if steps is not None else _part(stored, "touched", groups)
        at_touchpoint = touched.filter(
            (pl.col("stage") == stage) & (pl.col("touchpoint") == touchpoint)
        ).select("customer_id")
        there = there.join(at_touchpoint, on="customer_id", how="semi")
    if dropped:
        went_on = reach.filter(pl.col("step") == number + 1).select("customer_id")
        there = there.join(went_on, on="customer_id", how="anti")
    ids = _ids(stored, there["customer_id"])
    return [] if 0 < len(ids) < gateway.access.min_group else ids


def path_customers(
    gateway: QueryGateway,
    stored: StoredJourneys,
    path: list[str],
    *,
    filters: Filters = EVERYONE,
    options: routes.PathOptions = DEFAULT_PATHS,
) -> list[str]:
    """The customers who took `path` (as `path_tables` shows it). Empty for a viewer when
    they are fewer than the minimum."""
    journeys = routes.customer_paths(_cut(gateway, stored, filters, options, ids=True), options)
    took = journeys.filter(pl.col("path") == pl.lit(path, dtype=pl.List(pl.String)))
    ids = _ids(stored, took["customer_id"])
    return [] if 0 < len(ids) < gateway.access.min_group else ids


def customer_rows(gateway: QueryGateway, ids: list[str], *, limit: int = 5_000) -> pl.DataFrame:
    """A drill list: these customers (the first `limit` by id) with name, country, plan and
    RFM segment, names masked for viewers by the gateway."""
    chosen = sorted(ids)[:limit]
    people = gateway.query(
        "SELECT customer_id, name, country, plan FROM customers WHERE customer_id = ANY($ids)",
        {"ids": chosen},
    )
    segment = gateway.query(
        "SELECT customer_id, segment FROM customer_segments WHERE customer_id = ANY($ids)",
        {"ids": chosen},
    )
    frame = pl.DataFrame({"customer_id": chosen}, schema={"customer_id": pl.String})
    return frame.join(people, on="customer_id", how="left").join(
        segment.rename({"segment": "rfm_segment"}), on="customer_id", how="left"
    )
