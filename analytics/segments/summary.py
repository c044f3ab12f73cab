"""The segment table: per segment, its customers, revenue, lifetime value with its interval,
P(alive), value at risk and NPS, small segments hidden from viewers.

Its cells for a user who sees every customer are the same for all such users, and reading
every stored customer (a million of them, with their CLV gradients) takes seconds: the build
computes them once (`stored_cells` reads them back) and everyone else gets them computed
from their own customers (`summary_cells`). Disclosure is applied to both alike.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics import clv, disclosure
from analytics import definitions as rules
from analytics.filters import Filters
from analytics.segments.rfm import SEGMENT_ORDER
from analytics.segments.store import GRADIENT_PREFIX, Segmentation, fit_from_meta
from analytics.segments.visible import (
    EVERYONE,
    METHODS,
    UNCLUSTERED,
    check_method,
    sees_everyone,
    segment_column,
    segment_customers,
)
from analytics.warehouse import QueryGateway

SUMMARY_SCHEMA = pl.Schema(
    {
        "segment": pl.String(),
        "customers": pl.Int64(),
        "share": pl.Float64(),
        "revenue": pl.Float64(),
        "revenue_share": pl.Float64(),
        "clv": pl.Float64(),
        "clv_low": pl.Float64(),
        "clv_high": pl.Float64(),
        "mean_clv": pl.Float64(),
        "p_alive": pl.Float64(),
        "value_at_risk": pl.Float64(),
        "nps": pl.Float64(),
        "nps_n": pl.Int64(),
        "hidden": pl.String(),
        "nps_hidden": pl.String(),
    }
)
PART = "summary"  # the stored cells of every method: segments-<key>.summary.parquet

_NPS_SQL = """
SELECT customer_id,
       count(nps) AS nps_n,
       count(*) FILTER (WHERE {promoter}) AS promoters,
       count(*) FILTER (WHERE {detractor}) AS detractors
FROM surveys
WHERE customer_id IS NOT NULL AND CAST(responded_at AS DATE) > $since
  AND CAST(responded_at AS DATE) <= $as_of
GROUP BY customer_id
"""
NPS_DAYS = 365  # the NPS of a segment: its customers' answers in the year to the reference date


def segment_summary(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    method: str = "rfm",
) -> pl.DataFrame:
    """One row per segment: customers and their share, revenue to date and its share, the
    sum of CLV over the horizon with its 95 % interval, mean CLV and P(alive), value at
    risk, and the NPS of the segment's answers in the last `NPS_DAYS` (with its n).
    `SUMMARY_SCHEMA`, in the segments' order. For viewers, segments under the minimum of
    customers are hidden (`hidden`: the reason), and so is an NPS under the minimum of
    answers (`nps_hidden`), each with one more where a single one would follow from the
    total."""
    chosen = check_method(method)
    if sees_everyone(gateway, filters):
        cells = stored_cells(segmentation, chosen)
    else:
        cells = summary_cells(gateway, segmentation, filters, chosen)
    return protected_summary(cells, segmentation, gateway.access.min_group)


def stored_cells(segmentation: Segmentation, method: str) -> pl.DataFrame:
    """The cells `summary_cells` gives a user who sees everyone, as the build stored them."""
    stored = pl.read_parquet(segmentation.path(PART))
    return stored.filter(pl.col("method") == method).drop("method")


def everyone_cells(gateway: QueryGateway, segmentation: Segmentation) -> pl.DataFrame:
    """Every method's cells for a user who sees every customer (`gateway` unrestricted),
    with `method`: what the build stores. The customers and their answers are read once."""
    people = segment_customers(gateway, segmentation, EVERYONE)
    answers = _answers(gateway, segmentation)
    return pl.concat(
        _cells(
            people.with_columns(segment=segment_column(m, people.columns)), answers, segmentation
        ).select(pl.lit(m).alias("method"), pl.all())
        for m in METHODS
    )


def summary_cells(
    gateway: QueryGateway, segmentation: Segmentation, filters: Filters, method: str
) -> pl.DataFrame:
    """Per segment of the customers this user may see within `filters`, every value of the
    segment table, before small groups are hidden."""
    people = segment_customers(gateway, segmentation, filters, method)
    return _cells(people, _answers(gateway, segmentation), segmentation)


def _answers(gateway: QueryGateway, segmentation: Segmentation) -> pl.DataFrame:
    """Per customer, their NPS answers, promoters and detractors of the `NPS_DAYS` to the
    segmentation's reference date."""
    as_of = segmentation.as_of
    return gateway.query(
        _NPS_SQL.format(**rules.sql_rules()),
        {"since": as_of.replace(year=as_of.year - 1), "as_of": as_of},
    )


def _cells(people: pl.DataFrame, answers: pl.DataFrame, segmentation: Segmentation) -> pl.DataFrame:
    """The segment table's values per `segment` of `people` (stored customers)."""
    people = people.join(answers, on="customer_id", how="left")
    has_value = "clv" in people.columns
    value = pl.col("clv") if has_value else pl.lit(None, dtype=pl.Float64)
    grouped = people.group_by("segment").agg(
        customers=pl.len(),
        revenue=pl.col("revenue").sum(),
        clv=pl.when(value.count() > 0).then(value.sum()),
        mean_clv=value.mean(),
        p_alive=(pl.col("p_alive_now") if has_value else pl.lit(None, pl.Float64)).mean(),
        value_at_risk=pl.when(value.count() > 0).then(
            (pl.col("value_at_risk") if has_value else pl.lit(None, pl.Float64)).sum()
        ),
        promoters=pl.col("promoters").sum(),
        detractors=pl.col("detractors").sum(),
        nps_n=pl.col("nps_n").sum(),
    )
    half = _clv_half_widths(people, segmentation) if has_value else {}
    total_customers = max(people.height, 1)
    total_revenue = float(people["revenue"].sum()) or 1.0
    return grouped.with_columns(
        share=100.0 * pl.col("customers") / total_customers,
        revenue_share=100.0 * pl.col("revenue") / total_revenue,
        nps=pl.when(pl.col("nps_n") > 0).then(
            100.0 * (pl.col("promoters") - pl.col("detractors")) / pl.col("nps_n")
        ),
        clv_low=pl.col("clv")
        - pl.col("segment").replace_strict(half, default=None, return_dtype=pl.Float64),
        clv_high=pl.col("clv")
        + pl.col("segment").replace_strict(half, default=None, return_dtype=pl.Float64),
    )


def protected_summary(
    cells: pl.DataFrame, segmentation: Segmentation, minimum: int
) -> pl.DataFrame:
    """`cells` as the segment table shows them to a user whose groups must hold `minimum`:
    small segments hidden, and small NPS on their answers' count. In the segments' order,
    which also settles ties between segments that could protect a small one."""
    order = segment_order(cells["segment"].to_list(), segmentation)
    ordered = cells.sort(pl.col("segment").replace_strict(order, return_dtype=pl.Int64))
    summary = disclosure.protect(
        ordered.with_columns(unit=pl.lit("customers"), line=pl.lit(0)),
        count="customers",
        unit="unit",
        minimum=minimum,
        lines=[disclosure.Line(("line",))],
    )
    summary = disclosure.blank(
        summary,
        [c for c in SUMMARY_SCHEMA.names() if c not in ("segment", "hidden", "nps_hidden")],
    )
    # NPS rests on its own answers, fewer than the customers: hidden on their count.
    answers_cells = summary.with_columns(
        unit=pl.lit("responses"), nps_n=pl.col("nps_n").fill_null(0)
    ).rename({"hidden": "row_hidden"})
    answers_cells = disclosure.protect(
        answers_cells,
        count="nps_n",
        unit="unit",
        minimum=minimum,
        lines=[disclosure.Line(("line",))],
        hidden="row_hidden",
    )
    summary = disclosure.blank(answers_cells, ["nps", "nps_n"]).rename(
        {"hidden": "nps_hidden", "row_hidden": "hidden"}
    )
    return summary.select(SUMMARY_SCHEMA.names()).cast(SUMMARY_SCHEMA)


def segment_order(names: list[str], segmentation: Segmentation) -> dict[str, int]:
    known = [*SEGMENT_ORDER, *(c["name"] for c in segmentation.clusters), UNCLUSTERED]
    ordered = [n for n in dict.fromkeys(known) if n in names]
    ordered += sorted(n for n in names if n not in known)
    return {name: i for i, name in enumerate(ordered)}


def _clv_half_widths(people: pl.DataFrame, segmentation: Segmentation) -> dict[str, float]:
    """Half-width of the 95 % interval of each segment's CLV sum from the models' parameter
    uncertainty (delta method on the stored per-customer gradients)."""
    meta = segmentation.meta
    if "purchases" not in meta:
        return {}
    purchases, spend = fit_from_meta(meta["purchases"]), fit_from_meta(meta["spend"])
    columns = [c for c in people.columns if c.startswith(GRADIENT_PREFIX)]
    sums = people.group_by("segment").agg(pl.col(columns).fill_null(0.0).sum())
    return {
        row["segment"]: clv.sum_interval(
            {c.removeprefix(GRADIENT_PREFIX): np.array([row[c]]) for c in columns},
            purchases,
            spend,
        )
        for row in sums.iter_rows(named=True)
    }
