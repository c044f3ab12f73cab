"""The dashboard's data layer, and the only module that caches.

Results are cached under the warehouse's data version (which changes with every load and
rollback), never by hashing frames: after any load, every page shows the new data. Shared
objects (the warehouse, the query gateway) live in `cache_resource`, one per process.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import polars as pl
import streamlit as st

from analytics import (
    builds,
    cohorts,
    customer360,
    derived,
    drill,
    feedback,
    journeys,
    kpis,
    review,
    rollups,
    segments,
)
from analytics.bootstrap import ensure_sample_loaded
from analytics.builds import SETTINGS_FOLDER
from analytics.drill import DrillResult
from analytics.errors import ConfigError
from analytics.feedback import store as feedback_store
from analytics.feedback import views as feedback_views
from analytics.filters import Filters, dimension_values
from analytics.ingest.pipeline import LoadResult, guess_dataset
from analytics.ingest.readers import PROBLEM_COLUMN, ROW_COLUMN, RawTable, read_export
from analytics.journeys import stages
from analytics.journeys import steps as journey_steps
from analytics.journeys import store as journey_store
from analytics.journeys import views as journey_views
from analytics.journeys.paths import PathOptions
from analytics.periods import parse_period, period_label, period_start, shift
from analytics.settings import Settings, load_settings
from analytics.storage import is_object_store
from analytics.warehouse import (
    Access,
    QueryGateway,
    Warehouse,
    history_frame,
    latest_segments_file,
    open_gateway,
)
from dashboard import state

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"
PREVIEW_ROWS = 20


def settings() -> Settings:
    """Settings from the environment (cheap; read on every run so tests can change them)."""
    return load_settings(os.environ)


def warehouse(config: Settings) -> Warehouse:
    return _warehouse(config.warehouse_location or str(config.warehouse), config.rollback_days)


@st.cache_resource(show_spinner=False)
def _warehouse(location: str, rollback_days: int) -> Warehouse:
    """The warehouse at `location` (a folder, or an object store with its local folder
    from the settings)."""
    local = settings().warehouse if is_object_store(location) else None
    return Warehouse(location, rollback_days=rollback_days, local_dir=local)


@st.cache_resource(show_spinner=False)
def _gateway(root: str, rollback_days: int) -> QueryGateway:
    """The embedded DuckDB gateway, which builds the derived tables after loads."""
    return QueryGateway(_warehouse(root, rollback_days))


@st.cache_resource(show_spinner=False)
def _engine_gateway(root: str, rollback_days: int, engine: str, master: str) -> QueryGateway:
    """The gateway that answers the pages' questions: DuckDB, or Spark when configured."""
    if engine == "duckdb":
        return _gateway(root, rollback_days)
    return open_gateway(_warehouse(root, rollback_days), engine, spark_master=master)


@st.cache_resource(show_spinner=False)
def _sample_lock(root: str) -> threading.Lock:
    return threading.Lock()


def load_sample(
    config: Settings, progress: Callable[[str, float], None]
) -> list[LoadResult] | None:
    """Load the sample company into an empty warehouse, once even when sessions start together."""
    wh = warehouse(config)
    with _sample_lock(wh.location):
        return ensure_sample_loaded(wh, SAMPLE_DIR, user=config.user, progress=progress)


def refresh_derived(wh: Warehouse) -> None:
    """Build the KPI rollups of the current data now (after a load or rollback here); the
    rest (record-dimension parts, the segmentation) follows in the background
    (`prepare_derived`)."""
    derived.refresh_base(wh, _gateway(wh.location, wh.rollback_days))


def prepare_derived(wh: Warehouse) -> None:
    """Build missing derived tables in the background, once per data version and process:
    the rollups' record-dimension parts and the segmentation, and everything for data loaded
    from the command line or another dashboard process. Until the rollups are there, the
    KPIs read the rows (the same numbers, more slowly); until the segmentation is, the
    Segments page says it is being built."""
    _prepare_derived(wh.location, wh.rollback_days, _derived_key(wh), value_settings())


def _derived_key(wh: Warehouse) -> str:
    return f"{wh.data_version()}|{_settings_stamp(wh)}"


def value_settings() -> segments.ValueSettings:
    return derived.value_settings(settings())


def derived_pending(wh: Warehouse) -> bool:
    """Whether a background build for the current data is still running or to come."""
    thread = _prepare_derived(wh.location, wh.rollback_days, _derived_key(wh), value_settings())
    return thread is not None and thread.is_alive()


@st.cache_resource(show_spinner=False, max_entries=8)
def _prepare_derived(
    root: str, rollback_days: int, derived_key: str, value: segments.ValueSettings
) -> threading.Thread | None:
    wh = _warehouse(root, rollback_days)
    if not derived.pending(wh, value):
        return None
    thread = threading.Thread(
        target=derived.refresh_rest,
        args=(wh, _gateway(root, rollback_days)),
        kwargs={"value": value},
        name="touchpoint-derived",
        daemon=True,
    )
    thread.start()
    return thread


# ----- results keyed by data version --------------------------------------------------------
# Every query below runs for the signed-in user: the gateway is scoped to their access (row
# limits, masked personal data, small-group hiding), and the cache key carries that access
# next to the data version, so one user's results are never served to another with different
# rights, and a load or rollback refreshes every page. Arguments are small values (filters
# are frozen dataclasses): their repr is the key, the values themselves are passed unhashed.


def _key(wh: Warehouse) -> str:
    """Data version, the latest segmentation, journeys and feedback analysis (pages read
    them, and they arrive after the load that made them, the earlier ones shown meanwhile),
    the journey settings and the user's access."""
    access = state.account().access(min_group=settings().min_group)
    return f"{wh.data_version()}|{_builds_stamp(wh)}|{_settings_stamp(wh)}|{access.key()}"


def _builds_stamp(wh: Warehouse) -> str:
    built = latest_segments_file(wh.root)
    newest = [
        builds.newest(wh.root / folder, prefix)
        for folder, prefix in (
            (journey_store.FOLDER, journey_store.PREFIX),
            (feedback_store.FOLDER, feedback_store.PREFIX),
        )
    ]
    return ",".join(n or "-" for n in (built.name if built else None, *newest))


def _settings_stamp(wh: Warehouse) -> str:
    """When analysts last changed the journey or feedback settings ("-": never): what is
    built for the data follows them."""
    stamps = [p.stat().st_mtime_ns for p in (wh.root / SETTINGS_FOLDER).glob("*.json")]
    return str(max(stamps)) if stamps else "-"


def _gw(root: str, rollback_days: int, key: str) -> QueryGateway:
    access = Access.from_key(key.split("|", 3)[3])
    config = settings()
    gateway = _engine_gateway(root, rollback_days, config.engine, config.spark_master)
    return gateway.scoped(access)


P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def by_version(
    spinner: str | bool = False, *, max_entries: int = 64
) -> Callable[[Callable[Concatenate[QueryGateway, P], R]], Callable[Concatenate[Warehouse, P], R]]:
    """Cache `fn(gateway, ...)` under the warehouse's data version and the user's access;
    the page calls it with the warehouse instead of a gateway."""

    def decorate(
        fn: Callable[Concatenate[QueryGateway, P], R],
    ) -> Callable[Concatenate[Warehouse, P], R]:
        def cached(root: str, rollback_days: int, key: str, arguments: str, _call: tuple) -> R:
            args, kwargs = _call
            return fn(_gw(root, rollback_days, key), *args, **kwargs)

        # Streamlit tells cached functions apart by module, qualified name and source.
        cached.__qualname__ = f"{fn.__qualname__}.cached"
        cached.__module__ = fn.__module__
        runner = st.cache_data(show_spinner=spinner, max_entries=max_entries)(cached)

        @functools.wraps(fn)
        def call(wh: Warehouse, *args: P.args, **kwargs: P.kwargs) -> R:
            arguments = repr((args, sorted(kwargs.items())))
            return runner(wh.location, wh.rollback_days, _key(wh), arguments, (args, kwargs))

        return call

    return decorate


def last_loaded(wh: Warehouse) -> dict[str, datetime | None]:
    return _last_loaded(wh.location, wh.rollback_days, wh.data_version())


@st.cache_data(show_spinner=False, max_entries=32)
def _last_loaded(root: str, rollback_days: int, data_version: str) -> dict[str, datetime | None]:
    return _warehouse(root, rollback_days).last_loaded()


def load_history(wh: Warehouse, dataset_name: str) -> pl.DataFrame:
    """History of one dataset, newest first, without the housekeeping vacuum entries."""
    return _load_history(wh.location, wh.rollback_days, wh.data_version(), dataset_name)


@st.cache_data(show_spinner=False, max_entries=64)
def _load_history(
    root: str, rollback_days: int, data_version: str, dataset_name: str
) -> pl.DataFrame:
    records = _warehouse(root, rollback_days).history(dataset_name)
    return history_frame(records).filter(pl.col("action") != "vacuum")


@by_version(max_entries=16)
def known_values(gateway: QueryGateway) -> dict[str, list[str]]:
    """Each filter dimension's values present in the data."""
    return dimension_values(gateway)


@by_version(max_entries=16)
def bounds(gateway: QueryGateway) -> tuple[date, date] | None:
    """First and last day with data in orders, surveys or tickets (what KPIs are made of)."""
    return rollups.data_range(gateway, ["orders", "surveys", "tickets"])


@by_version("Computing the scorecard…")
def scorecard(
    gateway: QueryGateway, filters: Filters, grain: str, period: date | None
) -> pl.DataFrame:
    return kpis.scorecard(gateway, filters, grain, period)


@by_version("Computing the trend…")
def trend(
    gateway: QueryGateway,
    keys: tuple[str, ...],
    filters: Filters,
    grain: str,
    by: str | None,
) -> pl.DataFrame:
    return kpis.trend(gateway, keys, filters, grain, by=by)


@by_version("Finding the customers…", max_entries=32)
def kpi_customers(
    gateway: QueryGateway,
    key: str,
    filters: Filters,
    grain: str,
    period: date,
    by: str | None,
    group: str | None,
    search: str,
) -> DrillResult:
    return drill.kpi_customers(
        gateway, key, filters, grain, period, by=by, group=group, search=search
    )


@by_version("Computing cohorts…", max_entries=32)
def cohort_table(
    gateway: QueryGateway, filters: Filters, grain: str, measure: str, by: str | None
) -> pl.DataFrame:
    return cohorts.cohort_table(gateway, filters, grain, measure, by=by)


@by_version("Finding the customers…", max_entries=32)
def cohort_customers(
    gateway: QueryGateway,
    filters: Filters,
    grain: str,
    cohort_start: date,
    period_index: int,
    by: str | None,
    group: str | None,
) -> pl.DataFrame:
    return cohorts.cohort_customers(
        gateway, filters, grain, cohort_start, period_index, by=by, group=group
    )


# ----- uploads: read once per uploaded file, kept for that browser session only ---------------


@dataclass(frozen=True)
class UploadedExport:
    """An uploaded file as read: the raw table, its first rows and the dataset it looks like."""

    raw: RawTable
    preview: pl.DataFrame
    guessed_dataset: str


def read_upload(file_id: str, content: bytes, file_name: str, sheet: str | None) -> UploadedExport:
    """Read an upload (raises the reader's ReadError for files that are not a table)."""
    return _read_upload(file_id, file_name, sheet, content)


@st.cache_resource(show_spinner="Reading the file…", scope="session", max_entries=16)
def _read_upload(
    file_id: str, file_name: str, sheet: str | None, _content: bytes
) -> UploadedExport:
    raw = read_export(_content, file_name=file_name, sheet=sheet)
    preview = raw.frame.head(PREVIEW_ROWS).collect()
    preview = preview.drop([c for c in (ROW_COLUMN, PROBLEM_COLUMN) if c in preview.columns])
    name, _ = guess_dataset(list(raw.headers))
    return UploadedExport(raw, preview, name)


# ----- Customer 360 ---------------------------------------------------------------------------


@by_version()
def customer_search(gateway: QueryGateway, text: str, limit: int = 50) -> pl.DataFrame:
    """Customers matching what the reader typed (id prefix, name or e-mail)."""
    return customer360.find_customers(gateway, text, limit=limit)


@by_version()
def customer_360(
    gateway: QueryGateway, customer_id: str
) -> tuple[customer360.CustomerProfile | None, pl.DataFrame, pl.DataFrame]:
    """The page's profile, orders and timeline from one read of the customer's rows."""
    records = customer360.customer_records(gateway, customer_id)
    return (
        customer360.customer_profile(gateway, customer_id, records),
        customer360.customer_orders(gateway, customer_id, records),
        customer360.customer_timeline(gateway, customer_id, records),
    )


def customer_profile(wh: Warehouse, customer_id: str) -> customer360.CustomerProfile | None:
    return customer_360(wh, customer_id)[0]


def customer_orders(wh: Warehouse, customer_id: str) -> pl.DataFrame:
    return customer_360(wh, customer_id)[1]


def customer_timeline(wh: Warehouse, customer_id: str) -> pl.DataFrame:
    return customer_360(wh, customer_id)[2]


# ----- segments ------------------------------------------------------------------------------
# The segmentation is read from the derived tables of the current data (built in the
# background after a load); each function below reads it for the signed-in user.


B = TypeVar("B", bound=builds.Build)


def _served(
    current: Callable[[Warehouse], B | None],
    earlier: Callable[[Warehouse], B | None],
    gateway: QueryGateway,
    building: str,
) -> tuple[QueryGateway, B]:
    """`builds.served`, or NotBuilt (the page shows `building`)."""
    found = builds.served(current, earlier, gateway)
    if found is None:
        raise segments.NotBuilt(building)
    return found


def segmentation(wh: Warehouse) -> segments.Segmentation | None:
    """The stored segmentation of the current data, or None while it is being built."""
    return segments.current(wh, value_settings())


def earlier_segmentation(wh: Warehouse) -> segments.Segmentation | None:
    """The segmentation shown while the current data's is built (`segments.earlier`)."""
    return segments.earlier(wh, value_settings())


def _stored(
    gateway: QueryGateway, value: segments.ValueSettings
) -> tuple[QueryGateway, segments.Segmentation]:
    return _served(
        lambda wh: segments.current(wh, value),
        lambda wh: segments.earlier(wh, value),
        gateway,
        "The segmentation of the current data is still being built.",
    )


@by_version("Reading the segments…")
def segment_summary(
    gateway: QueryGateway, value: segments.ValueSettings, filters: Filters, method: str
) -> pl.DataFrame:
    return segments.segment_summary(*_stored(gateway, value), filters, method)


@by_version()
def segment_trend(
    gateway: QueryGateway, value: segments.ValueSettings, filters: Filters
) -> pl.DataFrame:
    return segments.segment_trend(*_stored(gateway, value), filters)


@by_version("Finding the customers…", max_entries=32)
def segment_members(
    gateway: QueryGateway,
    value: segments.ValueSettings,
    segment: str,
    filters: Filters,
    method: str,
) -> pl.DataFrame:
    return segments.members(*_stored(gateway, value), segment, filters, method)


@by_version()
def quarter_labels(gateway: QueryGateway, value: segments.ValueSettings) -> list[str]:
    return segments.quarter_labels(*_stored(gateway, value))


@by_version("Comparing quarters…")
def segment_migration(
    gateway: QueryGateway,
    value: segments.ValueSettings,
    before: str,
    after: str,
    filters: Filters,
) -> pl.DataFrame:
    return segments.segment_migration(*_stored(gateway, value), before, after, filters)


@by_version("Finding the customers…", max_entries=32)
def flow_members(
    gateway: QueryGateway,
    value: segments.ValueSettings,
    before: str,
    after: str,
    origin: str,
    target: str,
    filters: Filters,
) -> pl.DataFrame:
    return segments.flow_members(*_stored(gateway, value), before, after, origin, target, filters)


@by_version()
def rfm_grid(
    gateway: QueryGateway, value: segments.ValueSettings, filters: Filters
) -> pl.DataFrame:
    return segments.rfm_grid(*_stored(gateway, value), filters)


@by_version("Finding the customers…", max_entries=32)
def grid_members(
    gateway: QueryGateway, value: segments.ValueSettings, r: int, f: int, filters: Filters
) -> pl.DataFrame:
    return segments.grid_members(*_stored(gateway, value), r, f, filters)


@by_version("Projecting the customers…")
def segment_projection(
    gateway: QueryGateway, value: segments.ValueSettings, filters: Filters
) -> pl.DataFrame:
    return segments.projection(*_stored(gateway, value), filters)


@by_version()
def fading_customers(
    gateway: QueryGateway, value: segments.ValueSettings, filters: Filters
) -> pl.DataFrame:
    return segments.fading_customers(*_stored(gateway, value), filters)


@by_version()
def customer_segments(
    gateway: QueryGateway, value: segments.ValueSettings, customer_id: str
) -> tuple[dict[str, object] | None, pl.DataFrame, bool]:
    """The customer's segments and their history, and whether they are of the segmentation
    of the data before the latest append (shown while the current one is built)."""
    try:
        served = _stored(gateway, value)
    except segments.NotBuilt:
        empty = pl.DataFrame(schema={"quarter": pl.String(), "rfm_segment": pl.String()})
        return None, empty, False
    # builds.served pins the gateway only when it serves an earlier build.
    return *segments.customer_segments(*served, customer_id), served[0] is not gateway


# Journeys are read from the steps stored for the current data (built in the background after
# a load, like the segmentation).


def journeys_built(wh: Warehouse) -> journeys.StoredJourneys | None:
    """The stored journeys of the current data, or None while they are being built."""
    return journeys.current(wh)


def earlier_journeys(wh: Warehouse) -> journeys.StoredJourneys | None:
    """The journeys shown while the current data's are built (`journeys.earlier`)."""
    return journeys.earlier(wh)


def _journeys(gateway: QueryGateway) -> tuple[QueryGateway, journeys.StoredJourneys]:
    return _served(
        journeys.current,
        journeys.earlier,
        gateway,
        "The journeys of the current data are still being built.",
    )


@by_version("Following the journeys…")
def journey_funnel(gateway: QueryGateway, filters: Filters, by: str | None) -> pl.DataFrame:
    return journey_views.funnel_table(*_journeys(gateway), filters, by)


@by_version("Mapping the journey…")
def journey_map(gateway: QueryGateway, filters: Filters, by: str | None) -> pl.DataFrame:
    return journey_views.journey_map(*_journeys(gateway), filters, by)


@by_version("Ranking the pain points…")
def journey_pains(gateway: QueryGateway, filters: Filters, by: str | None) -> pl.DataFrame:
    return journey_views.pain_table(*_journeys(gateway), filters, by)


@by_version("Finding the common paths…")
def journey_paths(
    gateway: QueryGateway, filters: Filters, options: PathOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    return journey_views.path_tables(*_journeys(gateway), filters, options)


@by_version("Finding the customers…", max_entries=32)
def journey_stage_customers(
    gateway: QueryGateway,
    filters: Filters,
    by: str | None,
    group: str | None,
    stage: str,
    touchpoint: str | None,
    dropped: bool,
) -> pl.DataFrame:
    ids = journey_views.step_customers(
        *_journeys(gateway),
        stage,
        dropped=dropped,
        filters=filters,
        by=by,
        group=group,
        touchpoint=touchpoint,
    )
    return journey_views.customer_rows(gateway, ids)


@by_version("Finding the customers…", max_entries=32)
def journey_path_customers(
    gateway: QueryGateway, filters: Filters, options: PathOptions, path: tuple[str, ...]
) -> pl.DataFrame:
    ids = journey_views.path_customers(
        *_journeys(gateway), list(path), filters=filters, options=options
    )
    return journey_views.customer_rows(gateway, ids)


def journey_settings(wh: Warehouse) -> stages.JourneySettings:
    """The stages and touchpoint map the journeys follow (read afresh: analysts change them)."""
    return stages.load_settings(wh.root)


@by_version("Reading the touchpoints…")
def journey_touchpoints(gateway: QueryGateway) -> pl.DataFrame:
    return journey_steps.touchpoint_stages(
        gateway, gateway.warehouse, stages.load_settings(gateway.warehouse.root)
    )


# Feedback is read from the comments analysed for the current data (built in the background
# after a load, like the journeys).


def feedback_built(wh: Warehouse) -> feedback.StoredFeedback | None:
    return feedback.current(wh)


def earlier_feedback(wh: Warehouse) -> feedback.StoredFeedback | None:
    """The analysis shown while the current data's is built (`feedback.earlier`)."""
    return feedback.earlier(wh)


def _feedback(gateway: QueryGateway) -> tuple[QueryGateway, feedback.StoredFeedback]:
    return _served(
        feedback.current,
        feedback.earlier,
        gateway,
        "The comments of the current data are still being analysed.",
    )


def feedback_settings(wh: Warehouse) -> feedback.FeedbackSettings:
    return feedback.load_settings(wh.root)


@by_version("Reading the themes…")
def feedback_themes(
    gateway: QueryGateway, filters: Filters, quarter: str | None, group: str | None
) -> pl.DataFrame:
    return feedback_views.theme_table(*_feedback(gateway), filters, quarter=quarter, group=group)


@by_version("Finding examples…")
def feedback_examples(gateway: QueryGateway, filters: Filters, group: str | None) -> pl.DataFrame:
    return feedback_views.theme_examples(*_feedback(gateway), filters, group=group)


@by_version("Following the themes…")
def feedback_trend(
    gateway: QueryGateway, filters: Filters, period: str, group: str | None
) -> pl.DataFrame:
    return feedback_views.theme_trend(*_feedback(gateway), filters, period=period, group=group)


@by_version("Comparing the NPS groups…")
def feedback_groups(gateway: QueryGateway, filters: Filters) -> pl.DataFrame:
    return feedback_views.themes_by_group(*_feedback(gateway), filters)


@by_version("Following the sentiment…")
def feedback_sentiment(gateway: QueryGateway, filters: Filters, period: str) -> pl.DataFrame:
    return feedback_views.sentiment_trend(*_feedback(gateway), filters, period=period)


@by_version("Finding the key drivers…")
def feedback_drivers(
    gateway: QueryGateway, filters: Filters, target: str
) -> tuple[pl.DataFrame | None, float, int, str | None]:
    """The driver table, R-squared and n, or why there is none."""
    try:
        model = feedback_views.driver_table(gateway, filters, target=target)
    except ConfigError as exc:
        return None, 0.0, 0, str(exc)
    return model.table, model.r2, model.n, None


@by_version("Finding the comments…", max_entries=32)
def feedback_verbatims(
    gateway: QueryGateway,
    filters: Filters,
    search: str,
    theme: str | None,
    tone: str | None,
    group: str | None,
) -> tuple[pl.DataFrame, str | None]:
    return feedback_views.verbatims(
        *_feedback(gateway), filters, search=search, theme=theme, tone=tone, group=group
    )


def change_settings(wh: Warehouse, keep: Callable[[str], bool]) -> bool:
    """Keep an analyst's settings (`keep(user)` saves and audits them, and says whether
    anything changed) and rebuild what follows them in the background."""
    changed = keep(state.account().name)
    if changed:
        prepare_derived(wh)
    return changed


# ----- quarterly review ----------------------------------------------------------------------
# The review reads every derived build of the current data: `review_builds` names the ones
# there are, and is part of the cache key, so a review computed before a build arrived is
# not served after it.


def review_builds(wh: Warehouse) -> tuple[str | None, ...]:
    found = review.Derived.of(_gateway(wh.location, wh.rollback_days), value_settings())
    return tuple(
        None if built is None else built.key
        for built in (found.feedback, found.segmentation, found.journeys)
    )


Pinned = tuple[tuple[str, int | None], ...]  # data versions, as a cache key can hold them


def earlier_review(wh: Warehouse) -> Pinned | None:
    """The data versions of the review shown while the builds of the current data are made
    after an append (`review.Derived.earlier`), or None: the review then waits."""
    found = review.Derived.earlier(_gateway(wh.location, wh.rollback_days), value_settings())
    return None if found is None else tuple(sorted(found[0].versions().items()))


def _pinned(gateway: QueryGateway, pins: Pinned) -> QueryGateway:
    return gateway.at_versions(dict(pins)) if pins else gateway


@by_version("Writing the quarter's story…", max_entries=16)
def quarterly_review(
    gateway: QueryGateway,
    quarter: str,
    filters: Filters,
    builds: tuple[str | None, ...],
    pins: Pinned = (),
) -> review.Review:
    """The review of the current data, or of the versions `pins` names (`earlier_review`)."""
    gateway = _pinned(gateway, pins)
    derived_builds = review.Derived.of(gateway, value_settings())
    return review.quarterly_review(gateway, quarter, filters, derived=derived_builds)


@by_version()
def review_quarters(gateway: QueryGateway, pins: Pinned = ()) -> list[str]:
    """The quarters a review can cover, the last complete one first."""
    gateway = _pinned(gateway, pins)
    last = parse_period(review.last_complete_quarter(gateway), "quarter")
    bounds = rollups.data_range(gateway, ["orders", "surveys", "tickets"])
    assert bounds is not None  # last_complete_quarter refuses empty data
    first = period_start(bounds[0], "quarter")
    quarters = []
    while last >= first:
        quarters.append(period_label(last, "quarter"))
        last = shift(last, "quarter", -1)
    return quarters
