"""One `Filters` value, applied identically to every dataset through the SQL gateway.

A filter narrows the data; KPIs are then computed over what remains. Dimensions come from an
allowlist derived from the data contract:

- customer attributes (region, country, plan, acquisition channel) narrow every dataset to
  the customers who have them;
- segments (`segment`, the RFM segment, and `cluster`) narrow every dataset to the customers
  the latest segmentation puts in them (`analytics.segments`);
- record attributes narrow the datasets that carry them: `channel` (orders, surveys, tickets,
  events) and `product_category` (orders). A dataset without the column is not narrowed by it,
  and `Filters.ignored_by` says so, so pages can tell the reader.

The date range applies to each dataset's own time column. Filter values are always bound as
parameters; column names only ever come from `DIMENSIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

import polars as pl

from analytics.contract import DATASETS
from analytics.errors import ConfigError
from analytics.warehouse import SEGMENTS_VIEW, QueryGateway


@dataclass(frozen=True)
class Dimension:
    """A column data can be filtered and broken down by. Customer dimensions live in
    `source`: the customers dataset, or the segments view (`SEGMENTS_VIEW`: each customer's
    RFM segment and cluster from the latest segmentation)."""

    key: str
    label: str
    level: Literal["customer", "record"]
    datasets: tuple[str, ...]
    source: str = "customers"

    @property
    def derived(self) -> bool:
        """Whether the values come from a derived table rather than a dataset's column."""
        return self.source != "customers" and self.level == "customer"

    def applies_to(self, dataset_name: str) -> bool:
        return self.level == "customer" or dataset_name in self.datasets


def _customer_dimension(key: str, label: str, source: str = "customers") -> Dimension:
    with_customers = tuple(name for name, d in DATASETS.items() if "customer_id" in d.column_names)
    return Dimension(key, label, "customer", with_customers, source)


def _record_dimension(key: str, label: str) -> Dimension:
    carriers = tuple(
        name for name, d in DATASETS.items() if name != "customers" and key in d.column_names
    )
    return Dimension(key, label, "record", carriers)


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        _customer_dimension("region", "Region"),
        _customer_dimension("country", "Country"),
        _customer_dimension("plan", "Plan"),
        _customer_dimension("acquisition_channel", "Acquisition channel"),
        _record_dimension("channel", "Channel"),
        _record_dimension("product_category", "Product category"),
        _customer_dimension("segment", "RFM segment", SEGMENTS_VIEW),
        _customer_dimension("cluster", "Cluster", SEGMENTS_VIEW),
    )
}

# Dimensions an account's access can be limited by: those of the datasets themselves (a
# segment changes with every load, so it is no place for a permission).
LIMITABLE: dict[str, Dimension] = {k: d for k, d in DIMENSIONS.items() if not d.derived}

# The query-parameter names of the date range (`from` is a Python keyword).
START_PARAM, END_PARAM = "from", "to"
NOT_SET = "(not set)"


@dataclass(frozen=True)
class Filters:
    """What the reader has narrowed the data to. Empty means everything."""

    start: date | None = None
    end: date | None = None
    region: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()
    acquisition_channel: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    product_category: tuple[str, ...] = ()
    segment: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(
                f"The date range starts after it ends: from {self.start} to {self.end}."
            )

    def selections(self) -> dict[str, tuple[str, ...]]:
        """Dimension -> chosen values, for the dimensions that are narrowed."""
        return {k: getattr(self, k) for k in DIMENSIONS if getattr(self, k)}

    def ignored_by(self, dataset_name: str) -> list[str]:
        """Labels of the chosen dimensions that `dataset_name` cannot be narrowed by."""
        return [
            DIMENSIONS[k].label
            for k in self.selections()
            if not DIMENSIONS[k].applies_to(dataset_name)
        ]

    def with_range(self, start: date | None, end: date | None) -> Filters:
        return replace(self, start=start, end=end)

    def narrowed(self, dimension: str, value: str) -> Filters:
        """These filters, further narrowed to one value of `dimension`."""
        check_dimension(dimension)
        chosen: dict[str, Any] = {dimension: (value,)}
        return replace(self, **chosen)

    def to_query(self) -> dict[str, list[str]]:
        """The filters as URL query parameters (only what differs from the defaults)."""
        params: dict[str, list[str]] = {}
        if self.start is not None:
            params[START_PARAM] = [self.start.isoformat()]
        if self.end is not None:
            params[END_PARAM] = [self.end.isoformat()]
        for key, values in self.selections().items():
            params[key] = list(values)
        return params

    @classmethod
    def from_query(
        cls,
        params: Mapping[str, Sequence[str]],
        known: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[Filters, list[str]]:
        """Filters from URL query parameters, and a notice for every value that was dropped.

        Invalid dates, a range that ends before it starts, and values not in `known` (the
        values present in the data, when given) fall back to the default, never to an error.
        """
        notices: list[str] = []
        dates: dict[str, date | None] = {}
        for name, label in ((START_PARAM, "start"), (END_PARAM, "end")):
            raw = [v for v in params.get(name, ()) if v]
            dates[name] = None
            if raw:
                try:
                    dates[name] = date.fromisoformat(raw[-1])
                except ValueError:
                    notices.append(
                        f"The {label} date {raw[-1]!r} in the link is not a date "
                        "(YYYY-MM-DD); it was ignored."
                    )
        start, end = dates[START_PARAM], dates[END_PARAM]
        if start is not None and end is not None and start > end:
            notices.append(
                f"The link's date range ends ({end}) before it starts ({start}); showing all dates."
            )
            start = end = None
        chosen: dict[str, tuple[str, ...]] = {}
        for key, dimension in DIMENSIONS.items():
            values = list(dict.fromkeys(v for v in params.get(key, ()) if v))
            if known is not None and key in known:
                allowed = set(known[key])
                unknown = [v for v in values if v not in allowed]
                if unknown:
                    shown = ", ".join(repr(v) for v in unknown[:3])
                    notices.append(
                        f"{dimension.label} {shown} from the link is not in the data; "
                        "it was ignored."
                    )
                values = [v for v in values if v in allowed]
            chosen[key] = tuple(values)
        return cls(start=start, end=end, **chosen), notices


def check_dimension(key: str) -> Dimension:
    """The dimension named `key`, or a ConfigError listing the allowed ones."""
    if key not in DIMENSIONS:
        raise ConfigError(
            f"Cannot break down or filter by {key!r}. Use one of: {', '.join(DIMENSIONS)}."
        )
    return DIMENSIONS[key]


def scoped_rows(
    dataset_name: str,
    filters: Filters,
    *,
    by: str | None = None,
    since: date | None = None,
    until: date | None = None,
    skip: tuple[date, date] | None = None,
) -> tuple[str, dict[str, object]]:
    """SQL selecting `dataset_name`'s rows inside `filters`, with the breakdown value as `grp`.

    The time column is bounded by `since`/`until` (inclusive days; None leaves that side
    open), not by the filters' own range: callers decide which days they need. Rows whose
    day falls in `skip` (from, up to but excluding) are left out too. Returns the SQL and its
    bound parameters (all named `f_...`).
    """
    dataset = DATASETS[dataset_name]
    time_column = dataset.time_column
    is_datetime = dataset.column(time_column).kind == "datetime"
    params: dict[str, object] = {}
    where: list[str] = []

    def bound(name: str, value: date) -> str:
        params[name] = datetime.combine(value, datetime.min.time()) if is_datetime else value
        return f"${name}"

    if since is not None:
        where.append(f"d.{time_column} >= {bound('f_since', since)}")
    if until is not None:
        where.append(f"d.{time_column} < {bound('f_until', until + timedelta(days=1))}")
    if skip is not None:
        low, high = bound("f_skip_from", skip[0]), bound("f_skip_to", skip[1])
        where.append(f"NOT (d.{time_column} >= {low} AND d.{time_column} < {high})")

    customer_filters: dict[str, list[str]] = {}  # source -> conditions
    for key, values in filters.selections().items():
        dimension = DIMENSIONS[key]
        if not dimension.applies_to(dataset_name):
            continue  # a dataset without the column is not narrowed by it (nor bound)
        params[f"f_{key}"] = list(values)
        if dimension.level == "record" or dataset_name == dimension.source:
            where.append(f"d.{key} = ANY($f_{key})")
        else:
            customer_filters.setdefault(dimension.source, []).append(f"{key} = ANY($f_{key})")
    for source, conditions in customer_filters.items():
        where.append(
            f"d.customer_id IN (SELECT customer_id FROM {source} WHERE "
            + " AND ".join(conditions)
            + ")"
        )

    join = ""
    if by is None:
        group = "CAST(NULL AS VARCHAR)"
    else:
        dimension = check_dimension(by)
        if not dimension.applies_to(dataset_name):
            raise ConfigError(
                f"{dataset_name.capitalize()} cannot be broken down by "
                f"{dimension.label.lower()}: they have no such column."
            )
        if dimension.level == "customer" and dataset_name != dimension.source:
            join = f" LEFT JOIN {dimension.source} bc ON bc.customer_id = d.customer_id"
            group = f"coalesce(bc.{by}, '{NOT_SET}')"
        else:
            group = f"coalesce(d.{by}, '{NOT_SET}')"
    condition = " WHERE " + " AND ".join(where) if where else ""
    return f"SELECT d.*, {group} AS grp FROM {dataset_name} d{join}{condition}", params


def dimension_values(gateway: QueryGateway) -> dict[str, list[str]]:
    """Every dimension's values present in the data, sorted (what the filter menus offer).

    The datasets' own dimensions come from their derived table (`analytics.filter_values`)
    when it is built for the versions `gateway` reads and its user sees every row; else, and
    for the segmentation's dimensions, from the rows."""
    from analytics import filter_values

    stored = filter_values.stored(gateway)
    keys = [k for k, d in DIMENSIONS.items() if stored is None or d.derived]
    frame = gateway.query(values_sql(keys) + " ORDER BY dimension, value")
    if stored is not None:
        frame = pl.concat([stored, frame]).sort("dimension", "value")
    values: dict[str, list[str]] = {key: [] for key in DIMENSIONS}
    for dimension, value in frame.iter_rows():
        values[dimension].append(value)
    return values


def values_sql(keys: Sequence[str], datasets: Sequence[str] | None = None) -> str:
    """SQL of the distinct values of dimensions `keys`: rows of (`dimension`, `value`); with
    `datasets`, only those these datasets hold (none: an empty result)."""
    parts = []
    for key in keys:
        dimension = DIMENSIONS[key]
        source = dimension.source if dimension.level == "customer" else None
        sources = [source] if source else list(dimension.datasets)
        for name in sources:
            if datasets is not None and name not in datasets:
                continue
            parts.append(
                f"SELECT DISTINCT '{key}' AS dimension, {key} AS value FROM {name} "
                f"WHERE {key} IS NOT NULL"
            )
    if not parts:
        return (
            "SELECT CAST(NULL AS VARCHAR) AS dimension, CAST(NULL AS VARCHAR) AS value WHERE false"
        )
    return " UNION ".join(parts)


def data_range(gateway: QueryGateway, datasets: Sequence[str]) -> tuple[date, date] | None:
    """The first and last day with data in any of `datasets`, or None when all are empty."""
    parts = [
        f"SELECT CAST(min({DATASETS[n].time_column}) AS DATE) AS lo, "
        f"CAST(max({DATASETS[n].time_column}) AS DATE) AS hi FROM {n}"
        for n in datasets
    ]
    row = gateway.query(
        "SELECT min(lo) AS lo, max(hi) AS hi FROM (" + " UNION ALL ".join(parts) + ")"
    ).row(0)
    if row[0] is None:
        return None
    return row[0], row[1]
