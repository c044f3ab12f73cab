"""Journey commands: the stage funnel, the common paths, the journey map and the pain
points, read from the journeys stored for the current data (built first when a load came
since), through the user's access."""

from __future__ import annotations

import argparse
import sys

import polars as pl

from analytics import journeys
from analytics.cli.common import (
    add_command,
    date_arg,
    filters_from,
    format_arg,
    gateway_for,
    print_frame,
    record_export,
    where_arg,
)
from analytics.errors import ConfigError
from analytics.journeys import store, views
from analytics.journeys.paths import ANCHORS, PathOptions
from analytics.warehouse import Warehouse

VIEWS = ("paths", "funnel", "map", "painpoints")
# The records' keys per view (JSON); `hidden` is added when something is hidden from a viewer.
KEYS: dict[str, list[str]] = {
    "funnel": list(journeys.FUNNEL_SCHEMA.names()),
    "painpoints": ["group", "rank", "stage", "touchpoint", "score", "reason"],
    "paths": ["path", "customers", "share", "conversion"],
    "map": list(views.MAP_SCHEMA.names()),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "journeys",
        _cmd_journeys,
        "Customer journeys: common paths, the stage funnel, the journey map, pain points.",
    )
    p.add_argument("view", choices=VIEWS, help="what to show")
    p.add_argument("--steps", type=int, default=5, metavar="N", help="paths: touchpoints per path")
    p.add_argument(
        "--anchor",
        choices=ANCHORS,
        default="start",
        help="paths: from the start, from the first purchase (leading to a second), or the "
        "last touchpoints of journeys without a purchase",
    )
    p.add_argument("--keep-repeats", action="store_true", help="paths: keep consecutive repeats")
    p.add_argument("--by", choices=views.BY_DIMENSIONS, help="compare groups of customers")
    p.add_argument("--from", dest="start", type=date_arg, metavar="DATE", help="first day")
    p.add_argument("--to", dest="end", type=date_arg, metavar="DATE", help="last day")
    where_arg(p, "customers")
    p.add_argument("--as-user", metavar="NAME", help="on behalf of this local account")
    format_arg(p, csv=True)


def _cmd_journeys(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    filters = filters_from(args)
    gateway = gateway_for(args, warehouse)
    stored = _stored(warehouse, quiet=args.format != "table")
    if args.view == "paths":
        if args.by:
            raise ConfigError("Paths are of every customer in view: leave out --by.")
        options = PathOptions(steps=args.steps, collapse=not args.keep_repeats, anchor=args.anchor)
        table, _ = views.path_tables(gateway, stored, filters, options)
    elif args.view == "funnel":
        table = views.funnel_table(gateway, stored, filters, args.by)
    elif args.view == "map":
        table = views.journey_map(gateway, stored, filters, args.by)
    else:
        table = views.pain_table(gateway, stored, filters, args.by)
    keys = KEYS[args.view]
    if "hidden" in table.columns and table["hidden"].is_not_null().any():
        keys = [*keys, "hidden"]
    table = table.select(keys)
    if args.format != "json":
        table = _flat(table)
    print_frame(table, args.format, empty="No journeys in view.")
    record_export(args, warehouse, user, f"journeys {args.view}", table.height)
    return 0


def _flat(table: pl.DataFrame) -> pl.DataFrame:
    """Lists as text, for tables and CSV: a path as `a > b`, touchpoints as `a (12); b (3)`."""
    if "path" in table.columns:
        table = table.with_columns(pl.col("path").list.join(" > "))
    if "touchpoints" in table.columns:
        table = table.with_columns(
            pl.col("touchpoints")
            .list.eval(
                pl.element().struct.field("touchpoint")
                + pl.lit(" (")
                + pl.element().struct.field("customers").cast(pl.String)
                + pl.lit(")")
            )
            .list.join("; ")
        )
    return table


def _stored(warehouse: Warehouse, *, quiet: bool) -> store.StoredJourneys:
    found = store.current(warehouse)
    if found is None:
        if not quiet:
            print("Building the journeys of the current data (once per load)…", file=sys.stderr)
        store.refresh(warehouse)
        found = store.current(warehouse)
    if found is None:
        raise ConfigError("There are no events, orders, surveys or tickets yet. Load some first.")
    return found
