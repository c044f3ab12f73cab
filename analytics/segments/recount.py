"""The customer facts of data that only appends rows to an earlier segmentation's data, made
from that segmentation's stored counts: only the customers whose facts can have changed are
counted again.

A customer's facts (`features.counted_facts`) are sums, counts and extremes of their own rows
up to the reference date `as_of` and up to each model cut-off, with the sales channels of the
`top` list named. Between two segmentations with the same number of cut-offs, none of them
earlier than before, the same `top` channels (in any order) and `as_of` no earlier, a
customer's facts can only change when

- an appended row of any dataset names them;
- they have a completed order after a cut-off as it was and up to the cut-off as it is now;
- they answered a survey or opened a ticket after the day of the earlier `as_of`, up to the
  day of the new one (rows after `as_of` are not counted);
- they signed up after the earlier `as_of`, up to the new one.

Those customers (`recount`) are counted again from all their rows, as a full count counts
them; every other customer keeps the earlier counts, their cut-off columns renamed to the new
cut-offs. The data is read as appends through `Warehouse.appended`: a replace, a restore or a
rollback between the two counts the facts in full.

`tests/analytics/segments/test_recount.py` checks over random sequences of loads that the
facts made this way equal the facts counted in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from analytics import definitions as rules
from analytics.contract import DATASETS
from analytics.segments import features as feats
from analytics.warehouse import QueryGateway, Workspace

PART = "facts"  # the stored counts of a segmentation: `segments-<key>.facts.parquet`


def basis(as_of: date, cutoffs: Sequence[date], top: Sequence[str]) -> dict[str, Any]:
    """What stored counts were counted with, for the segmentation's meta file."""
    return {
        "as_of": as_of.isoformat(),
        "cutoffs": [c.isoformat() for c in cutoffs],
        "top": list(top),
    }


def recounted_facts(
    gateway: QueryGateway,
    counts: pl.DataFrame,
    before: Mapping[str, Any],
    versions: Mapping[str, int | None],
    as_of: date,
    cutoffs: Sequence[date],
    top: Sequence[str],
) -> tuple[pl.DataFrame, int] | None:
    """The counts of the data `gateway` reads (at `versions`), from an earlier segmentation's
    `counts`, whose meta file is `before` (`basis` under "facts", and its "versions"): the
    counts and how many customers were counted again; None when they must be counted in
    full."""
    basis_then = before.get("facts")
    if not basis_then or sorted(basis_then.get("top", [])) != sorted(top):
        return None
    then = date.fromisoformat(basis_then["as_of"])
    cut_then = [date.fromisoformat(c) for c in basis_then["cutoffs"]]
    if then > as_of or len(cut_then) != len(cutoffs):
        return None
    if any(old > new for old, new in zip(cut_then, cutoffs, strict=True)):
        return None
    appended = _appended(gateway, before.get("versions", {}), versions)
    if appended is None:
        return None
    with gateway.workspace() as work:
        _recount(work, appended, then, as_of, list(zip(cut_then, cutoffs, strict=True)))
        for name in ("orders", "customers", "surveys", "tickets"):
            work.load(
                name,
                name,
                columns=feats.columns_counted(name),
                where="customer_id IN (SELECT customer_id FROM recount)",
            )
        fresh = feats.counted_facts(work, as_of, cutoffs, top)
        recount = work.query("SELECT customer_id FROM recount")
    renamed = {
        column: column.replace(feats.suffix(old), feats.suffix(new))
        for column in counts.columns
        for old, new in zip(cut_then, cutoffs, strict=True)
        if column.endswith(feats.suffix(old))
    }
    # The same channels named, perhaps in another order of use.
    renamed |= {
        f"n_channel_{i}": f"n_channel_{list(top).index(channel)}"
        for i, channel in enumerate(basis_then["top"])
    }
    # Both sorted by customer: merged, not sorted again.
    again = pl.col("customer_id").is_in(recount.get_column("customer_id").implode())
    kept = counts.rename(renamed).filter(~again).select(fresh.columns).cast(fresh.schema)
    return kept.merge_sorted(fresh.sort("customer_id"), key="customer_id"), recount.height


def _appended(
    gateway: QueryGateway,
    then: Mapping[str, int | None],
    now: Mapping[str, int | None],
) -> dict[str, tuple[str, ...]] | None:
    """The files each dataset appended since the versions `then`; None when one was not
    appended to (replaced, restored, rolled back, or loaded for the first time)."""
    files: dict[str, tuple[str, ...]] = {}
    for name, version in now.items():
        since = then.get(name)
        if since == version:
            continue
        added = (
            None
            if since is None or version is None
            else gateway.warehouse.appended(name, since, version)
        )
        if added is None:
            return None
        files[name] = added
    return files


def _recount(
    work: Workspace,
    appended: Mapping[str, tuple[str, ...]],
    then: date,
    as_of: date,
    cutoffs: list[tuple[date, date]],
) -> None:
    """The temporary table `recount`: the customers whose facts can have changed."""
    sources = []

    def named(table: str, name: str, where: str = "", files: tuple[str, ...] | None = None) -> None:
        """Keep the customer ids of dataset `name`'s rows (`where`, of `files`) as `table`."""
        work.load(table, name, files=files, columns=("customer_id",), where=where)
        sources.append(f"SELECT customer_id FROM {table}")

    for name, files in appended.items():
        named(f"appended_{name}", name, files=files)
    moved = [(old, new) for old, new in cutoffs if new > old]
    if moved:
        windows = " OR ".join(
            f"(order_date > {_day(old)} AND order_date <= {_day(new)})" for old, new in moved
        )
        named("window_orders", "orders", f"{rules.sql_rules()['completed']} AND ({windows})")
    if as_of > then:
        since, until = (_moment(then + timedelta(days=1)), _moment(as_of + timedelta(days=1)))
        for name in ("surveys", "tickets"):
            at = DATASETS[name].time_column
            named(f"window_{name}", name, f"{at} >= {since} AND {at} < {until}")
        signed = f"signup_date > {_day(then)} AND signup_date <= {_day(as_of)}"
        named("window_customers", "customers", signed)
    union = " UNION ".join(sources) or "SELECT CAST(NULL AS VARCHAR) AS customer_id WHERE false"
    work.execute(
        f"CREATE OR REPLACE TEMP TABLE recount AS SELECT DISTINCT customer_id FROM ({union}) "
        "WHERE customer_id IS NOT NULL"
    )


def _day(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _moment(day: date) -> str:
    return f"TIMESTAMP '{datetime.combine(day, time.min).isoformat(sep=' ')}'"
