"""Journey commands: the stage funnel, the common paths, the journey map and the pain
points, read from the journeys stored for the current data (built first when a load came
since), through the user's access."""

from __future__ import annotations

import argparse
from dataclasses import replace

import polars as pl

from analytics import journeys
from analytics.cli.common import (
    add_command,
    built,
    change_settings,
    date_arg,
    filters_from,
    format_arg,
    gateway_for,
    print_frame,
    record_export,
    where_arg,
)
from analytics.errors import ConfigError
from analytics.journeys import stages, steps, store, views
from analytics.journeys.paths import ANCHORS, PathOptions
from analytics.warehouse import Warehouse

VIEWS = ("paths", "funnel", "map", "painpoints", "stages")
# The records' keys per view (JSON); `hidden` is added when something is hidden from a viewer.
KEYS: dict[str, list[str]] = {
    "funnel": list(journeys.FUNNEL_SCHEMA.names()),
    "painpoints": ["group", "rank", "stage", "touchpoint", "score", "reason"],
    "paths": ["path", "customers", "share", "conversion"],
    "map": list(views.MAP_SCHEMA.names()),
    "stages": ["touchpoint", "exported", "events", "customers", "stage", "decided_by"],
}


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "journeys",
        _cmd_journeys,
        "Customer journeys: common paths, the stage funnel, the journey map, pain points, "
        "and the stages touchpoints belong to (which analysts change).",
    )
    p.add_argument("view", choices=VIEWS, help="what to show")
    p.add_argument(
        "--set",
        dest="assign",
        action="append",
        default=[],
        metavar="TOUCHPOINT=STAGE",
        help="stages: map a touchpoint to a stage (repeat for more)",
    )
    p.add_argument(
        "--unset",
        action="append",
        default=[],
        metavar="TOUCHPOINT",
        help="stages: take a touchpoint out of the map",
    )
    p.add_argument(
        "--stage-order",
        metavar="A,B,...",
        help="stages: the stages in journey order; as many as before renames them in place "
        "(their touchpoints follow), otherwise a removed stage's touchpoints become unmapped",
    )
    p.add_argument(
        "--reset", action="store_true", help="stages: back to the default stages and map"
    )
    first = p.add_mutually_exclusive_group()
    first.add_argument(
        "--map-first",
        dest="map_first",
        action="store_const",
        const=True,
        help="stages: the map decides where it names a touchpoint, the exports' stages after",
    )
    first.add_argument(
        "--export-first",
        dest="map_first",
        action="store_const",
        const=False,
        help="stages: the exports' own stages decide, the map fills the rest (the default)",
    )
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
    changes = (
        args.assign or args.unset or args.stage_order or args.reset or args.map_first is not None
    )
    if args.view == "stages":
        return _cmd_stages(args, warehouse, user)
    if changes:
        raise ConfigError(
            "--set, --unset, --stage-order, --reset, --map-first and --export-first change "
            "`journeys stages`."
        )
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


def _cmd_stages(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    """Show every touchpoint with the stage the journeys give it; with changes, keep them
    (audited) and rebuild the journeys."""
    gateway = gateway_for(args, warehouse)
    settings = stages.load_settings(warehouse.root)
    changed = _changed(args, settings)
    if changed != settings:
        what = {
            "set": "; ".join(args.assign),
            "unset": "; ".join(args.unset),
            "order": args.stage_order or "",
            "reset": args.reset,
            "map_first": changed.map_first,
        }
        change_settings(
            args,
            warehouse,
            user,
            subject="the journey stages",
            keep=lambda who: store.change_settings(warehouse, changed, who, what),
            rebuild=store.refresh,
            announce="Journey stages changed; rebuilding the journeys…",
        )
        settings = changed
    table = steps.touchpoint_stages(gateway, warehouse, settings)
    if args.format == "table":
        rule = "the map first, then" if settings.map_first else "the exports' own first, then"
        print(f"Stages in order: {' > '.join(settings.stages)} ({rule} the other)")
    print_frame(table.select(KEYS["stages"]), args.format, empty="No touchpoint events yet.")
    return 0


def _changed(args: argparse.Namespace, settings: stages.JourneySettings) -> stages.JourneySettings:
    """`settings` with the command line's changes (checked as a whole)."""
    if args.reset:
        settings = stages.DEFAULT_SETTINGS
    if args.stage_order:
        order = tuple(s.strip() for s in args.stage_order.split(",") if s.strip())
        settings = settings.with_stages(order)
    if args.map_first is not None:
        settings = replace(settings, map_first=args.map_first)
    assigned: dict[str, str | None] = dict.fromkeys(args.unset)
    for text in args.assign:
        touchpoint, sep, stage = text.partition("=")
        if not sep or not touchpoint.strip() or not stage.strip():
            raise ConfigError(f"--set takes TOUCHPOINT=STAGE; got {text!r}.")
        assigned[touchpoint] = stage.strip()
    return settings.mapped(assigned) if assigned else settings


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
    return built(
        store.current,
        store.refresh,
        warehouse,
        quiet=quiet,
        building="Building the journeys of the current data (once per load)…",
        nothing="There are no events, orders, surveys or tickets yet. Load some first.",
    )
