"""Derived tables per data version, in one place: the KPI rollups, the segmentation, the
journeys and the feedback analysis.

Loads and rollbacks call `refresh` (the command line, the sample load) or `refresh_base` then
`refresh_rest` in the background (the dashboard, so a page never waits for clustering);
`pending` says whether anything is still to build for the current data.
"""

from __future__ import annotations

from collections.abc import Callable

from analytics import by_customer, feedback, filter_values, journeys, rollups, segments
from analytics.errors import ConfigError
from analytics.settings import Settings
from analytics.warehouse import QueryGateway, Warehouse

DEFAULT_VALUE = segments.ValueSettings()


def value_settings(settings: Settings) -> segments.ValueSettings:
    """How lifetime value is counted, from the settings table."""
    return segments.ValueSettings(
        margin=settings.clv_margin,
        annual_discount=settings.clv_discount,
        horizon_days=settings.clv_horizon_days,
    )


def refresh_base(warehouse: Warehouse, gateway: QueryGateway | None = None) -> dict[str, float]:
    """What every KPI question and the sidebar need, built now: the families' rollups and
    the filter menus' values. Seconds per part."""
    built = rollups.refresh(warehouse, gateway, records=False)
    return built | filter_values.refresh(warehouse, gateway)


def refresh_rest(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    value: segments.ValueSettings = DEFAULT_VALUE,
) -> dict[str, float]:
    """The rest: the rollups' record-dimension parts, the segmentation, the journeys, the
    feedback analysis and the records sorted by customer (Customer 360's)."""
    # The months per segment of the segmentation this data is about to replace would be
    # built in vain: they wait for the new one.
    built = filter_values.refresh(warehouse, gateway)  # when a load built only the rollups
    built |= rollups.refresh(warehouse, gateway, by_segment=not segments.pending(warehouse, value))
    took = segments.refresh(warehouse, gateway, value=value)
    if took is not None:
        built["segments"] = took
        built |= rollups.refresh(warehouse, gateway)  # the months per segment
    # The feedback analysis first: the journeys take the sentiment of the texts it scored.
    try:
        took = feedback.refresh(warehouse, gateway)
    except ConfigError:  # settings broken by hand: the Feedback page and CLI say what
        took = None
    if took is not None:
        built["feedback"] = took
    try:
        took = journeys.refresh(warehouse, gateway)
    except ConfigError:  # settings broken by hand: the Journeys page and CLI say what is wrong
        took = None
    if took is not None:
        built["journeys"] = took
    built |= by_customer.refresh(warehouse, gateway)
    return built


def refresh(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    value: segments.ValueSettings = DEFAULT_VALUE,
) -> dict[str, float]:
    """Everything missing for the current data; seconds taken per part built."""
    return refresh_base(warehouse, gateway) | refresh_rest(warehouse, gateway, value=value)


def pending(warehouse: Warehouse, value: segments.ValueSettings = DEFAULT_VALUE) -> bool:
    return (
        rollups.pending(warehouse)
        or filter_values.pending(warehouse)
        or segments.pending(warehouse, value)
        or _settled_pending(journeys.pending, warehouse)
        or _settled_pending(feedback.pending, warehouse)
        or by_customer.pending(warehouse)
    )


def _settled_pending(pending: Callable[[Warehouse], bool], warehouse: Warehouse) -> bool:
    try:
        return pending(warehouse)
    except ConfigError:  # nothing can be built until the settings are fixed
        return False
