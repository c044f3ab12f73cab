"""The KPI registry and the engine that computes any KPI by period, with honest uncertainty.

Pages, the CLI, reports and docs/metrics.md all loop over `KPIS`. Each KPI names the
statistics it is computed from; one query per family (orders and customers, surveys,
tickets) computes those statistics per period and breakdown group, and `stats` turns them
into a value, a sample size, a 95 % interval and two-period significance tests.

Periods are calendar days, ISO weeks, months, quarters or years; what counts as a completed
order, a promoter or a satisfied answer is defined once in `analytics.definitions`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import polars as pl

from analytics import definitions as rules
from analytics import disclosure, rollups, stats
from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS, NOT_SET, Filters, scoped_rows
from analytics.periods import (
    PREVIOUS_SQL,
    Grain,
    check_grain,
    period_end,
    period_label,
    period_start,
    periods_between,
    shift,
    year_ago,
)
from analytics.warehouse import QueryGateway

Unit = Literal["currency", "count", "percent", "score", "hours"]
Estimator = Literal["total", "proportion", "nps", "mean", "median"]
Counted = Literal["customers", "responses", "tickets"]
Family = rollups.Family  # the datasets a KPI's statistics come from


@dataclass(frozen=True)
class Kpi:
    """One KPI: what it is called, how it reads, and which statistics it is computed from.

    `inputs` name columns of its family's statistics, by estimator:
    total (value), proportion (successes, n), nps (promoters, detractors, n),
    mean (sum, sum of squares, n), median (values list). `counted` names the statistic that
    counts the `counts` (customers, responses or tickets) behind a value: a viewer is shown
    the value only when they number at least the minimum group (`analytics.disclosure`).
    """

    key: str
    label: str
    unit: Unit
    better: Literal["up", "down"]
    datasets: tuple[str, ...]
    definition: str
    family: Family
    estimator: Estimator
    inputs: tuple[str, ...]
    counted: str
    counts: Counted
    headline: bool = False

    @property
    def has_interval(self) -> bool:
        return self.estimator != "total"


KPIS: tuple[Kpi, ...] = (
    Kpi(
        key="revenue",
        label="Revenue",
        unit="currency",
        better="up",
        datasets=("orders",),
        definition=("Sum of the amount of completed orders placed in the period."),
        family="orders",
        estimator="total",
        inputs=("revenue",),
        counted="active",
        counts="customers",
        headline=True,
    ),
    Kpi(
        key="orders",
        label="Orders",
        unit="count",
        better="up",
        datasets=("orders",),
        definition=("Number of completed orders placed in the period."),
        family="orders",
        estimator="total",
        inputs=("orders",),
        counted="active",
        counts="customers",
        headline=True,
    ),
    Kpi(
        key="aov",
        label="Average order value",
        unit="currency",
        better="up",
        datasets=("orders",),
        definition=("Revenue divided by orders: the mean amount of a completed order."),
        family="orders",
        estimator="mean",
        inputs=("revenue", "revenue_sq", "orders"),
        counted="active",
        counts="customers",
        headline=True,
    ),
    Kpi(
        key="active_customers",
        label="Active customers",
        unit="count",
        better="up",
        datasets=("orders",),
        definition=("Distinct customers with at least one completed order in the period."),
        family="orders",
        estimator="total",
        inputs=("active",),
        counted="active",
        counts="customers",
        headline=True,
    ),
    Kpi(
        key="new_customers",
        label="New customers",
        unit="count",
        better="up",
        datasets=("orders",),
        definition=("Customers whose first completed order ever falls in the period."),
        family="orders",
        estimator="total",
        inputs=("new",),
        counted="new",
        counts="customers",
        headline=True,
    ),
    Kpi(
        key="repeat_purchase_rate",
        label="Repeat purchase rate",
        unit="percent",
        better="up",
        datasets=("orders",),
        definition=(
            "Share of the period’s active customers who have placed at least two completed "
            "orders up to the end of the period."
        ),
        family="orders",
        estimator="proportion",
        inputs=("repeaters", "active"),
        counted="active",
        counts="customers",
    ),
    Kpi(
        key="retention_rate",
        label="Retention rate",
        unit="percent",
        better="up",
        datasets=("orders",),
        definition=(
            "Share of the previous period’s active customers who are active again in this period."
        ),
        family="orders",
        estimator="proportion",
        inputs=("retained", "prev_active"),
        counted="prev_active",
        counts="customers",
        headline=True,
    ),
    Kpi(
        key="churn_rate",
        label="Churn rate",
        unit="percent",
        better="down",
        datasets=("orders",),
        definition=(
            "Share of the previous period’s active customers who are not active in this "
            "period (100 % minus the retention rate)."
        ),
        family="orders",
        estimator="proportion",
        inputs=("churned", "prev_active"),
        counted="prev_active",
        counts="customers",
    ),
    Kpi(
        key="return_rate",
        label="Return rate",
        unit="percent",
        better="down",
        datasets=("orders",),
        definition=(
            "Returned orders as a share of completed and returned orders placed in the period."
        ),
        family="orders",
        estimator="proportion",
        inputs=("returned", "settled"),
        counted="active",
        counts="customers",
    ),
    Kpi(
        key="clv_historical",
        label="Historical customer value",
        unit="currency",
        better="up",
        datasets=("orders",),
        definition=(
            "Mean, over customers with at least one completed order up to the end of the "
            "period, of their cumulative revenue to that day."
        ),
        family="orders",
        estimator="mean",
        inputs=("clv_sum", "clv_sumsq", "clv_n"),
        counted="clv_n",
        counts="customers",
    ),
    Kpi(
        key="nps",
        label="NPS",
        unit="score",
        better="up",
        datasets=("surveys",),
        definition=(
            f"Net Promoter Score: 100 × ({rules.NPS_TEXT}) / responses with an NPS score, "
            "from −100 to 100."
        ),
        family="surveys",
        estimator="nps",
        inputs=("promoters", "detractors", "nps_n"),
        counted="nps_n",
        counts="responses",
        headline=True,
    ),
    Kpi(
        key="csat",
        label="CSAT",
        unit="percent",
        better="up",
        datasets=("surveys",),
        definition=f"Share of CSAT answers {rules.SATISFIED_TEXT}.",
        family="surveys",
        estimator="proportion",
        inputs=("csat_ok", "csat_n"),
        counted="csat_n",
        counts="responses",
        headline=True,
    ),
    Kpi(
        key="ces",
        label="Customer effort (CES)",
        unit="score",
        better="down",
        datasets=("surveys",),
        definition=("Mean Customer Effort Score (1–7); lower means less effort."),
        family="surveys",
        estimator="mean",
        inputs=("ces_sum", "ces_sumsq", "ces_n"),
        counted="ces_n",
        counts="responses",
    ),
    Kpi(
        key="responses",
        label="Survey responses",
        unit="count",
        better="up",
        datasets=("surveys",),
        definition=("Survey responses received in the period."),
        family="surveys",
        estimator="total",
        inputs=("responses",),
        counted="responses",
        counts="responses",
    ),
    Kpi(
        key="tickets",
        label="Tickets",
        unit="count",
        better="down",
        datasets=("tickets",),
        definition=("Support tickets opened in the period."),
        family="tickets",
        estimator="total",
        inputs=("tickets",),
        counted="tickets",
        counts="tickets",
        headline=True,
    ),
    Kpi(
        key="first_response_hours",
        label="First response time",
        unit="hours",
        better="down",
        datasets=("tickets",),
        definition=(
            "Median hours from a ticket’s opening to the first response, over the period’s "
            "tickets that have one."
        ),
        family="tickets",
        estimator="median",
        inputs=("frt",),
        counted="frt",
        counts="tickets",
    ),
    Kpi(
        key="resolution_hours",
        label="Resolution time",
        unit="hours",
        better="down",
        datasets=("tickets",),
        definition=(
            "Median hours from a ticket’s opening to its resolution, over the period’s "
            "resolved tickets."
        ),
        family="tickets",
        estimator="median",
        inputs=("res",),
        counted="res",
        counts="tickets",
    ),
    Kpi(
        key="ticket_csat",
        label="Ticket CSAT",
        unit="percent",
        better="up",
        datasets=("tickets",),
        definition=f"Share of rated tickets {rules.SATISFIED_TEXT}.",
        family="tickets",
        estimator="proportion",
        inputs=("tcsat_ok", "tcsat_n"),
        counted="tcsat_n",
        counts="tickets",
    ),
)

KPI_BY_KEY: dict[str, Kpi] = {k.key: k for k in KPIS}
HEADLINE: tuple[str, ...] = tuple(k.key for k in KPIS if k.headline)


def kpi(key: str) -> Kpi:
    """The KPI named `key`, or a ConfigError listing the known ones."""
    if key not in KPI_BY_KEY:
        raise ConfigError(f"There is no KPI {key!r}. Known KPIs: {', '.join(KPI_BY_KEY)}.")
    return KPI_BY_KEY[key]


# ----- statistics per family ---------------------------------------------------------------

# Orders and the customers behind them, in one pass over the orders: `cp` holds one row per
# customer, period and group; `inside` marks orders in the reported days (comparison periods
# included), while cumulative measures (first order ever, orders and revenue to date) use all
# history. `lag` finds whether the customer was active in the period before. Cumulative revenue
# (a second running window, as costly as the rest) is computed only for historical customer value.
_CUMULATIVE_REVENUE = "sum(rev_all) OVER c"
# The KPIs that look back before the window (first order ever, orders and revenue to date).
# KPIs that look back before the window: each customer's orders to date.
CUMULATIVE = frozenset({"new_customers", "repeat_purchase_rate", "clv_historical"})
_DELTA_SQ = "sum(cum_rev * cum_rev - (cum_rev - rev_all) * (cum_rev - rev_all))"
_ORDERS_SQL = """
WITH o AS (
    SELECT grp, customer_id, order_date, amount,
           {completed} AS done,
           {returned} AS ret,
           order_date >= $since AND NOT (order_date >= $skip_from AND order_date < $skip_to)
               AS inside
    FROM ({rows})
), cp AS (
    SELECT grp, customer_id, CAST(date_trunc('{grain}', order_date) AS DATE) AS p,
           count(*) FILTER (WHERE done AND inside) AS n_in,
           coalesce(sum(amount) FILTER (WHERE done AND inside), 0) AS rev_in,
           coalesce(sum(amount * amount) FILTER (WHERE done AND inside), 0) AS sq_in,
           count(*) FILTER (WHERE ret AND inside) AS ret_in,
           count(*) FILTER (WHERE done) AS n_all,
           coalesce(sum(amount) FILTER (WHERE done), 0) AS rev_all,
           min(order_date) FILTER (WHERE done) AS first_day
    FROM o GROUP BY ALL
), w AS (
    SELECT *,
           sum(n_all) OVER c AS cum_orders,
           {cumulative_revenue} AS cum_rev,
           lag(p) OVER c AS lag_p,
           lag(n_in) OVER c AS lag_n_in
    FROM cp
    WINDOW c AS (PARTITION BY grp, customer_id ORDER BY p)
)
SELECT grp, p,
       sum(n_in) AS orders,
       sum(rev_in) AS revenue,
       sum(sq_in) AS revenue_sq,
       sum(ret_in) AS returned,
       count(*) FILTER (WHERE n_in > 0) AS active,
       count(*) FILTER (WHERE n_all > 0 AND cum_orders = n_all AND first_day >= $since
                         AND NOT (first_day >= $skip_from AND first_day < $skip_to)) AS new,
       count(*) FILTER (WHERE n_in > 0 AND cum_orders >= 2) AS repeaters,
       count(*) FILTER (WHERE n_in > 0 AND lag_n_in > 0 AND lag_p = {previous}) AS retained,
       count(*) FILTER (WHERE n_all > 0 AND cum_orders = n_all) AS firsts,
       sum(rev_all) AS rev_all,
       {delta_sq} AS delta_sq
FROM w GROUP BY grp, p
"""

_SURVEYS_SQL = """
SELECT grp, CAST(date_trunc('{grain}', responded_at) AS DATE) AS p,
       count(*) AS responses,
       count(nps) AS nps_n,
       count(*) FILTER (WHERE {promoter}) AS promoters,
       count(*) FILTER (WHERE {detractor}) AS detractors,
       count(csat) AS csat_n,
       count(*) FILTER (WHERE {satisfied}) AS csat_ok,
       count(ces) AS ces_n,
       coalesce(sum(ces), 0) AS ces_sum,
       coalesce(sum(ces * ces), 0) AS ces_sumsq
FROM ({rows}) GROUP BY ALL
"""

_TICKETS_SQL = """
WITH t AS (
    SELECT grp, CAST(date_trunc('{grain}', opened_at) AS DATE) AS p, csat,
           epoch(first_response_at - opened_at) / 3600.0 AS frt,
           epoch(resolved_at - opened_at) / 3600.0 AS res
    FROM ({rows})
)
SELECT grp, p,
       count(*) AS tickets,
       count(csat) AS tcsat_n,
       count(*) FILTER (WHERE {satisfied}) AS tcsat_ok,
       {lists}
FROM t GROUP BY ALL
"""
_TICKET_LISTS = (
    "list_sort(list(frt) FILTER (WHERE frt >= 0)) AS frt, "
    "list_sort(list(res) FILTER (WHERE res >= 0)) AS res"
)

_COUNT_COLUMNS = {"orders": rollups.ORDER_STATISTICS, **rollups.MONTH_SUMS}


@dataclass(frozen=True)
class _Window:
    """The days a computation reports on, and the whole periods it compares them with."""

    grain: Grain
    first: date  # start of the first reported period
    start: date  # first reported day (may fall inside the first period)
    end: date  # last reported day
    since: date  # start of the earliest comparison period

    @property
    def skip(self) -> tuple[date, date]:
        """Days of the first period before `start`: outside the window, never compared."""
        return (self.first, self.start)


def _family_stats(
    gateway: QueryGateway,
    family: Family,
    filters: Filters,
    window: _Window,
    by: str | None,
    *,
    medians: bool,
    customer_value: bool = True,
    history: bool = True,
) -> pl.DataFrame:
    grain = window.grain
    question = rollups.Question(
        family,
        filters,
        grain,
        window.first,
        window.start,
        window.end,
        window.since,
        by,
        customer_value=customer_value,
        medians=medians,
    )
    summed = rollups.family_stats(gateway, question)
    if summed is not None:
        return summed
    if family == "orders":
        # Cumulative measures need the whole history up to the end; the rest (sums, active
        # and retained customers) only the window's days: a period before it counts nothing.
        since = None if history else window.since
        rows, params = scoped_rows("orders", filters, by=by, since=since, until=window.end)
        sql = _ORDERS_SQL.format(
            rows=rows,
            grain=grain,
            previous=PREVIOUS_SQL[grain],
            cumulative_revenue=_CUMULATIVE_REVENUE if customer_value else "0",
            delta_sq=_DELTA_SQ if customer_value else "0",
            **rules.sql_rules(),
        )
        params.update(since=window.since, skip_from=window.first, skip_to=window.start)
    else:
        dataset_name = "surveys" if family == "surveys" else "tickets"
        rows, params = scoped_rows(
            dataset_name, filters, by=by, since=window.since, until=window.end, skip=window.skip
        )
        if family == "surveys":
            sql = _SURVEYS_SQL.format(
                rows=rows,
                grain=grain,
                **rules.sql_rules(),
            )
        else:
            lists = _TICKET_LISTS if medians else "NULL AS frt, NULL AS res"
            sql = _TICKETS_SQL.format(rows=rows, grain=grain, lists=lists, **rules.sql_rules())
    return gateway.query(sql, params)


# ----- estimates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A KPI's value in one period and group, with what a comparison needs."""

    value: float | None
    n: int | None
    ci_low: float | None
    ci_high: float | None
    basis: tuple[Any, ...] = ()

    @property
    def small_sample(self) -> bool:
        return self.n is not None and self.n < stats.SMALL_SAMPLE


def estimate(item: Kpi, row: dict[str, Any]) -> Estimate:
    """The KPI's estimate from one row of its family's statistics."""
    inputs = [row.get(name) for name in item.inputs]
    if item.estimator == "total":
        return Estimate(float(inputs[0] or 0), None, None, None)
    if item.estimator == "proportion":
        k, n = int(inputs[0] or 0), int(inputs[1] or 0)
        interval = stats.wilson_interval(k, n)
        if interval is None:
            return Estimate(None, n, None, None, (k, n))
        return Estimate(100.0 * k / n, n, 100.0 * interval.low, 100.0 * interval.high, (k, n))
    if item.estimator == "nps":
        promoters, detractors, n = (int(v or 0) for v in inputs)
        interval = stats.nps_interval(promoters, detractors, n)
        if interval is None:
            return Estimate(None, n, None, None, (promoters, detractors, n))
        value = 100.0 * (promoters - detractors) / n
        return Estimate(value, n, interval.low, interval.high, (promoters, detractors, n))
    if item.estimator == "mean":
        total, squares, n = float(inputs[0] or 0), float(inputs[1] or 0), int(inputs[2] or 0)
        if n == 0:
            return Estimate(None, 0, None, None, (math.nan, math.nan, 0))
        mean = total / n
        sd = stats.sample_sd(total, squares, n)
        mean_ci = stats.mean_interval(mean, sd, n)
        low, high = (mean_ci.low, mean_ci.high) if mean_ci else (None, None)
        return Estimate(mean, n, low, high, (mean, sd, n))
    values = list(inputs[0] or [])
    if not values:
        return Estimate(None, 0, None, None)
    median_ci = stats.median_interval(values)
    assert median_ci is not None
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return Estimate(median, len(values), median_ci.low, median_ci.high)


def change_p(item: Kpi, before: Estimate, after: Estimate) -> float | None:
    """p-value of the change from `before` to `after` (None where no test applies)."""
    if before.value is None or after.value is None:
        return None
    if item.estimator == "proportion":
        return stats.proportion_change_p(before.basis, after.basis)
    if item.estimator == "nps":
        return stats.nps_change_p(before.basis, after.basis)
    if item.estimator == "mean":
        return stats.mean_change_p(before.basis, after.basis)
    return None


def change_significant(item: Kpi, before: Estimate, after: Estimate) -> bool | None:
    """Whether the change is significant at 5 % (None for totals and missing values).

    Medians have no test statistic here: their change counts as significant when the two
    95 % intervals do not overlap, which is conservative.
    """
    if before.value is None or after.value is None or item.estimator == "total":
        return None
    if item.estimator == "median":
        if None in (before.ci_low, before.ci_high, after.ci_low, after.ci_high):
            return None
        assert before.ci_low is not None and before.ci_high is not None
        assert after.ci_low is not None and after.ci_high is not None
        return after.ci_low > before.ci_high or after.ci_high < before.ci_low
    return stats.significant(change_p(item, before, after))


# ----- trends -----------------------------------------------------------------------------

TREND_SCHEMA = pl.Schema(
    {
        "kpi": pl.String(),
        "period": pl.String(),
        "period_start": pl.Date(),
        "group": pl.String(),
        "value": pl.Float64(),
        "n": pl.Int64(),
        "ci_low": pl.Float64(),
        "ci_high": pl.Float64(),
        "small_sample": pl.Boolean(),
        "partial": pl.Boolean(),
        "hidden": pl.String(),
        "previous": pl.Float64(),
        "delta": pl.Float64(),
        "delta_p": pl.Float64(),
        "delta_significant": pl.Boolean(),
        "year_ago": pl.Float64(),
        "yoy_delta": pl.Float64(),
        "yoy_p": pl.Float64(),
        "yoy_significant": pl.Boolean(),
    }
)


def trend(
    gateway: QueryGateway,
    keys: Sequence[str],
    filters: Filters,
    grain: str = "month",
    *,
    by: str | None = None,
) -> pl.DataFrame:
    """KPIs per period over the filters' date range, with period-over-period and
    same-period-last-year deltas and their significance.

    Parameters
    ----------
    gateway : QueryGateway
        Where the data is read.
    keys : sequence of str
        KPI keys from `KPIS`.
    filters : Filters
        The narrowing; its date range picks the periods (the whole data range when unset).
        A period cut by the range is computed over the days inside it (`partial` is true).
    grain : {"day", "week", "month", "quarter", "year"}
        The period length.
    by : str, optional
        A dimension of `analytics.filters.DIMENSIONS` to break each period down by.

    Returns
    -------
    polars.DataFrame
        One row per KPI, period and group, with the columns of `TREND_SCHEMA`. Empty periods
        are present: totals are 0 there and rates have no value.
    """
    items = [kpi(k) for k in dict.fromkeys(keys)]
    checked = check_grain(grain)
    window = _window(gateway, items, filters, checked)
    if window is None:
        return pl.DataFrame(schema=TREND_SCHEMA)
    return _trend(gateway, items, filters, window, by)


def _window(
    gateway: QueryGateway, items: Sequence[Kpi], filters: Filters, grain: Grain
) -> _Window | None:
    start, end = filters.start, filters.end
    if start is None or end is None:
        datasets = sorted({d for item in items for d in item.datasets})
        bounds = rollups.data_range(gateway, datasets)
        if bounds is None and (start is None or end is None):
            return None
        if bounds is not None:
            start = start or bounds[0]
            end = end or bounds[1]
    assert start is not None and end is not None
    if start > end:
        return None
    first = period_start(start, grain)
    # Comparisons reach back a period and a year; a period more gives the earliest of them
    # its own previous period (retention needs it).
    since = shift(min(shift(first, grain, -1), year_ago(first, grain)), grain, -1)
    return _Window(grain, first, start, end, since)


def _trend(
    gateway: QueryGateway,
    items: Sequence[Kpi],
    filters: Filters,
    window: _Window,
    by: str | None,
) -> pl.DataFrame:
    grain = window.grain
    needs_medians = any(item.estimator == "median" for item in items)
    needs_value = any(item.key == "clv_historical" for item in items)
    needs_history = any(item.key in CUMULATIVE for item in items)
    families = list(dict.fromkeys(item.family for item in items))
    tables = {
        family: _family_stats(
            gateway,
            family,
            filters,
            window,
            by,
            medians=needs_medians,
            customer_value=needs_value,
            history=needs_history,
        )
        for family in families
    }
    groups = sorted(
        {g for table in tables.values() for g in table["grp"].to_list()},
        key=lambda g: (g is None, g == NOT_SET, g),
    )
    if by is None or not groups:
        groups = [None] if by is None else []
    spine = periods_between(window.since, window.end, grain)
    reported = [p for p in spine if p >= window.first]
    rows: list[dict[str, Any]] = []
    for family in families:
        lookup = _rows_by_period(tables[family], family, spine, groups)
        family_items = [i for i in items if i.family == family]
        overlapping = family == "orders" and by is not None and DIMENSIONS[by].level == "record"
        hidden = _hidden_cells(
            gateway.access.min_group, family_items, lookup, spine, by, overlapping=overlapping
        )
        for group in groups:
            series = lookup[group]
            for item in family_items:
                estimates = {
                    p: _HIDDEN if (item.key, group, p) in hidden else estimate(item, series[p])
                    for p in spine
                }
                for p in reported:
                    row = _trend_row(item, p, group, estimates, window)
                    row["hidden"] = hidden.get((item.key, group, p))
                    rows.append(row)
    frame = pl.DataFrame(rows, schema=TREND_SCHEMA, orient="row")
    order = {item.key: i for i, item in enumerate(items)}
    return frame.sort(
        pl.col("kpi").replace_strict(order, return_dtype=pl.Int64),
        pl.col("group"),
        "period_start",
        nulls_last=True,
    )


_HIDDEN = Estimate(None, None, None, None)


def _hidden_cells(
    minimum: int,
    items: Sequence[Kpi],
    lookup: dict[str | None, dict[date, dict[str, Any]]],
    spine: list[date],
    by: str | None,
    *,
    overlapping: bool,
) -> dict[tuple[str, str | None, date], str]:
    """Why each hidden (KPI, group, period) value is hidden from this user: too few units
    behind it, or a breakdown's total that would give a hidden group away
    (`analytics.disclosure`). Empty when `minimum` hides nothing."""
    if minimum <= 1:
        return {}
    cells = pl.DataFrame(
        [
            (item.key, group, p, _units(series[p].get(item.counted)), item.counts)
            for item in items
            for group, series in lookup.items()
            for p in spine
        ],
        schema={
            "kpi": pl.String,
            "group": pl.String,
            "p": pl.Date,
            "units": pl.Int64,
            "unit": pl.String,
        },
        orient="row",
    )
    lines = [disclosure.Line(("kpi", "p"), overlapping=overlapping)] if by is not None else []
    marked = disclosure.protect(cells, count="units", unit="unit", minimum=minimum, lines=lines)
    hidden = marked.filter(pl.col(disclosure.HIDDEN).is_not_null())
    return {(k, g, p): why for k, g, p, why in hidden.select("kpi", "group", "p", "hidden").rows()}


def _units(statistic: Any) -> int:
    """How many units a statistic counts: its value, or the length of a list of values."""
    if statistic is None:
        return 0
    if isinstance(statistic, list):
        return len(statistic)
    return int(statistic)


def _rows_by_period(
    table: pl.DataFrame, family: Family, spine: list[date], groups: list[str | None]
) -> dict[str | None, dict[date, dict[str, Any]]]:
    """Statistics per group and period, every period present (empty ones as zeros), with the
    cumulative and previous-period columns the estimators need."""
    found: dict[tuple[str | None, date], dict[str, Any]] = {
        (row["grp"], row["p"]): row for row in table.iter_rows(named=True)
    }
    zeros = dict.fromkeys(_COUNT_COLUMNS[family], 0)
    out: dict[str | None, dict[date, dict[str, Any]]] = {}
    history_before: dict[str | None, tuple[float, float, int]] = {}
    if family == "orders":
        # Cumulative customer value starts before the first compared period.
        first = spine[0]
        for (group, p), row in found.items():
            if p < first:
                rev, sq, n = history_before.get(group, (0.0, 0.0, 0))
                history_before[group] = (
                    rev + float(row["rev_all"] or 0),
                    sq + float(row["delta_sq"] or 0),
                    n + int(row["firsts"] or 0),
                )
    for group in groups:
        series: dict[date, dict[str, Any]] = {}
        cum_rev, cum_sq, cum_n = history_before.get(group, (0.0, 0.0, 0))
        previous_active = None
        for p in spine:
            row = dict(found.get((group, p)) or {**zeros, "frt": None, "res": None})
            if family == "orders":
                cum_rev += float(row["rev_all"] or 0)
                cum_sq += float(row["delta_sq"] or 0)
                cum_n += int(row["firsts"] or 0)
                row.update(clv_sum=cum_rev, clv_sumsq=cum_sq, clv_n=cum_n)
                row["settled"] = int(row["orders"] or 0) + int(row["returned"] or 0)
                if previous_active is not None:
                    row["prev_active"] = previous_active
                    row["churned"] = previous_active - int(row["retained"] or 0)
                previous_active = int(row["active"] or 0)
            series[p] = row
        out[group] = series
    return out


def _trend_row(
    item: Kpi,
    p: date,
    group: str | None,
    estimates: dict[date, Estimate],
    window: _Window,
) -> dict[str, Any]:
    now = estimates[p]
    before = estimates.get(shift(p, window.grain, -1))
    last_year = estimates.get(year_ago(p, window.grain))
    end = period_end(p, window.grain)
    row = {
        "kpi": item.key,
        "period": period_label(p, window.grain),
        "period_start": p,
        "group": group,
        "value": now.value,
        "n": now.n,
        "ci_low": now.ci_low,
        "ci_high": now.ci_high,
        "small_sample": now.small_sample,
        "partial": p < window.start or end > window.end,
    }
    for prefix, other in (("delta", before), ("yoy", last_year)):
        then = other.value if other is not None else None
        row["previous" if prefix == "delta" else "year_ago"] = then
        diff = None if then is None or now.value is None else now.value - then
        row["delta" if prefix == "delta" else "yoy_delta"] = diff
        p_value = change_p(item, other, now) if other is not None else None
        row[f"{prefix}_p"] = p_value
        row[f"{prefix}_significant"] = (
            change_significant(item, other, now) if other is not None else None
        )
    return row


# ----- the Overview's scorecard -----------------------------------------------------------

SCORECARD_SCHEMA = pl.Schema(
    {
        "kpi": pl.String(),
        "label": pl.String(),
        "unit": pl.String(),
        "better": pl.String(),
        "period": pl.String(),
        "value": pl.Float64(),
        "n": pl.Int64(),
        "ci_low": pl.Float64(),
        "ci_high": pl.Float64(),
        "small_sample": pl.Boolean(),
        "prev_value": pl.Float64(),
        "delta": pl.Float64(),
        "delta_p": pl.Float64(),
        "delta_significant": pl.Boolean(),
        "spark": pl.List(pl.Float64()),
        "hidden": pl.String(),
    }
)


def latest_period(
    gateway: QueryGateway, filters: Filters, grain: str, keys: Sequence[str] = HEADLINE
) -> date | None:
    """Start of the latest period with data inside the filters' range (None: no data)."""
    checked = check_grain(grain)
    datasets = sorted({d for k in keys for d in kpi(k).datasets})
    bounds = rollups.data_range(gateway, datasets)
    if bounds is None:
        return None
    last = bounds[1] if filters.end is None else min(bounds[1], filters.end)
    return period_start(last, checked)


def scorecard(
    gateway: QueryGateway,
    filters: Filters,
    grain: str = "quarter",
    period: date | None = None,
    *,
    keys: Sequence[str] = HEADLINE,
    spark_periods: int = 8,
) -> pl.DataFrame:
    """One row per KPI for one period: value, interval, change against the previous period
    and its significance, and a sparkline of the last `spark_periods` periods.

    `period` is any day of the period (default: the latest period with data); the filters'
    date range is replaced by the sparkline's periods.
    """
    checked = check_grain(grain)
    if spark_periods < 1:
        raise ConfigError(f"spark_periods must be at least 1. Got {spark_periods} instead.")
    if period is None:
        period = latest_period(gateway, filters, checked, keys)
        if period is None:
            return pl.DataFrame(schema=SCORECARD_SCHEMA)
    current = period_start(period, checked)
    first = shift(current, checked, -(spark_periods - 1))
    last = period_end(current, checked)
    if filters.end is not None and current <= filters.end < last:
        last = filters.end  # the range ends inside the chosen period: report its days only
    items = [kpi(k) for k in keys]
    window = _window(gateway, items, filters.with_range(first, last), checked)
    assert window is not None
    table = _trend(gateway, items, filters.with_range(window.start, window.end), window, None)
    rows = []
    for item in items:
        series = table.filter(pl.col("kpi") == item.key).sort("period_start")
        latest = series.row(series.height - 1, named=True)
        rows.append(
            {
                "kpi": item.key,
                "label": item.label,
                "unit": item.unit,
                "better": item.better,
                "period": latest["period"],
                "value": latest["value"],
                "n": latest["n"] if item.has_interval else None,
                "ci_low": latest["ci_low"],
                "ci_high": latest["ci_high"],
                "small_sample": latest["small_sample"],
                "prev_value": latest["previous"],
                "delta": latest["delta"],
                "delta_p": latest["delta_p"],
                "delta_significant": latest["delta_significant"],
                "spark": series["value"].to_list(),
                "hidden": latest["hidden"],
            }
        )
    return pl.DataFrame(rows, schema=SCORECARD_SCHEMA, orient="row")


# ----- docs/metrics.md --------------------------------------------------------------------

_UNIT_TEXT = {
    "currency": "currency",
    "count": "count",
    "percent": "% (0–100)",
    "score": "score",
    "hours": "hours",
}
_ESTIMATOR_TEXT = {
    "total": "a total: no interval, changes not tested",
    "proportion": "Wilson interval; two-proportion z-test",
    "nps": "normal interval, se = √((p + q − (p − q)²) / n); z-test",
    "mean": "Student t interval; Welch's t-test",
    "median": "order-statistic interval; significant when intervals do not overlap",
}


# What each `Kpi.counted` statistic counts, as docs/metrics.md says it.
_COUNTED_TEXT = {
    "active": "customers with a completed order in the period",
    "new": "customers whose first completed order falls in the period",
    "prev_active": "customers active in the previous period",
    "clv_n": "customers with a completed order up to the end of the period",
    "nps_n": "responses with an NPS score",
    "csat_n": "responses with a CSAT score",
    "ces_n": "responses with a CES score",
    "responses": "responses",
    "tickets": "tickets",
    "frt": "tickets with a first response",
    "res": "resolved tickets",
    "tcsat_n": "rated tickets",
}


def render_markdown() -> str:
    """Render the registry as the Markdown page `docs/metrics.md`."""
    lines = [
        "# Metrics",
        "",
        "Generated from `analytics/kpis.py` by `python -m analytics metrics`; a test fails "
        "when this page and the code disagree.",
        "",
        "A period is the calendar day, ISO week (Monday to Sunday, labelled `2025-W27`), month "
        "(`2025-07`), quarter (`2025-Q3`) or year (`2025`) an event falls in. "
        + rules.COMPLETED_TEXT,
        "",
        "| KPI | key | unit | better | uncertainty | definition |",
        "|---|---|---|---|---|---|",
    ]
    for item in KPIS:
        better = "higher" if item.better == "up" else "lower"
        lines.append(
            f"| {item.label} | `{item.key}` | {_UNIT_TEXT[item.unit]} | {better} | "
            f"{_ESTIMATOR_TEXT[item.estimator]} | {item.definition} |"
        )
    headline = ", ".join(KPI_BY_KEY[k].label for k in HEADLINE)
    lines += [
        "",
        f"The Overview's scorecard shows: {headline}.",
        "",
        "## Uncertainty and significance",
        "",
        "Every rate, score and mean carries its sample size *n* and a 95 % confidence "
        f"interval. A value from fewer than {stats.SMALL_SAMPLE} observations is flagged as a "
        "small sample. A change between two periods (against the previous period, and "
        "against the same period a year earlier) is called significant only when a "
        "two-sided test at the 5 % level says so, using the test named in the table. "
        "Totals (revenue, counts) describe everything that happened rather than a sample, so "
        "they carry no interval and their changes are not tested.",
        "",
        "The retention rate's *n* is the previous period's active customers; the repeat "
        "purchase rate's is the period's active customers; historical customer value's is "
        "the number of customers with a completed order up to the end of the period.",
        "",
        "## Small groups",
        "",
        "Viewers are not shown a value that rests on fewer than `TOUCHPOINT_MIN_GROUP` "
        "(default 5) of the units below, nor a value that would give such a value away "
        "through a total (README, *Small groups*). Analysts and admins see every value.",
        "",
        "| KPI | counts |",
        "|---|---|",
        *[f"| {item.label} | {_COUNTED_TEXT[item.counted]} |" for item in KPIS],
        "",
        "## Periods cut by the date range",
        "",
        "When the date range starts or ends inside a period, that period is computed over the "
        "days inside the range and marked as partial. The periods it is compared with are "
        "always whole. Measures that look back (first order ever, orders and revenue to "
        "date) always use the whole history before the period.",
        "",
        "## Filters",
        "",
        "A filter narrows the data first; every KPI is then computed over what remains.",
        "",
        "| filter | narrows |",
        "|---|---|",
        "| date range | each dataset by its own date: order date, response time, ticket "
        "opening, event time |",
    ]
    for dimension in DIMENSIONS.values():
        if dimension.derived:
            narrows = "every dataset, through the customer's segment in the latest segmentation"
        elif dimension.level == "customer":
            narrows = "every dataset, through the customer's attribute in `customers`"
        else:
            narrows = ", ".join(dimension.datasets) + " (datasets without the column are not "
            narrows += "narrowed by it, and pages say so)"
        lines.append(f"| {dimension.label.lower()} | {narrows} |")
    lines.append("")
    return "\n".join(lines)
