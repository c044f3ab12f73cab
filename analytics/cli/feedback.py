"""Feedback commands: the themes of the comments (with growth and significance), the key
drivers of NPS, CSAT and CES, and sentiment over time, read from the feedback analysis
stored for the current data (built first when a load came since), through the user's access;
and the analysts' theme settings (dictionary, number of themes)."""

from __future__ import annotations

import argparse
from dataclasses import replace

import polars as pl

from analytics import feedback
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
from analytics.feedback import store, views
from analytics.feedback.settings import FeedbackSettings, parse_keywords
from analytics.warehouse import Warehouse

VIEWS = ("themes", "drivers", "sentiment", "dictionary")
KEYS: dict[str, list[str]] = {
    "themes": list(views.THEMES_SCHEMA.names()),
    "drivers": ["driver", "importance", "performance", "quadrant", "r2", "n"],
    "sentiment": ["period", "comments", "sentiment", "positive", "negative", "responses", "nps"],
    "dictionary": ["theme", "keywords"],
}


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "feedback",
        _cmd_feedback,
        "Voice of the customer: comment themes, key drivers of NPS/CSAT/CES, sentiment over "
        "time, and the theme dictionary analysts keep.",
    )
    p.add_argument("view", choices=VIEWS, help="what to show")
    p.add_argument(
        "--quarter", metavar="YYYY-QN", help="themes: that quarter against the one before"
    )
    p.add_argument(
        "--nps-group", choices=views.NPS_GROUPS, help="themes: only this NPS group's comments"
    )
    p.add_argument("--target", choices=views.TARGETS, default="nps", help="drivers: the score")
    p.add_argument(
        "--period", choices=("month", "quarter"), default="month", help="sentiment: the period"
    )
    p.add_argument(
        "--set-theme",
        action="append",
        default=[],
        metavar="THEME=WORD,WORD",
        help="dictionary: add or replace a theme and its keywords (repeat for more)",
    )
    p.add_argument(
        "--drop-theme", action="append", default=[], metavar="THEME", help="dictionary: remove"
    )
    p.add_argument(
        "--themes",
        metavar="K|auto",
        help="dictionary: how many themes to find in the comments (2-30, or auto)",
    )
    p.add_argument("--from", dest="start", type=date_arg, metavar="DATE", help="first day")
    p.add_argument("--to", dest="end", type=date_arg, metavar="DATE", help="last day")
    where_arg(p, "responses")
    p.add_argument("--as-user", metavar="NAME", help="on behalf of this local account")
    format_arg(p, csv=True)


def _cmd_feedback(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    if args.view == "dictionary":
        return _cmd_dictionary(args, warehouse, user)
    if args.set_theme or args.drop_theme or args.themes:
        raise ConfigError("--set-theme, --drop-theme and --themes change `feedback dictionary`.")
    filters = filters_from(args)
    gateway = gateway_for(args, warehouse)
    if args.view == "drivers":
        model = views.driver_table(gateway, filters, target=args.target)
        table = model.table.with_columns(
            pl.col("driver").map_elements(views.driver_label, return_dtype=pl.String),
            r2=pl.lit(model.r2),
            n=pl.lit(model.n),
        )
    else:
        stored = _stored(warehouse, quiet=args.format != "table")
        if args.view == "themes":
            table = views.theme_table(
                gateway, stored, filters, quarter=args.quarter, group=args.nps_group
            )
        else:
            table = views.sentiment_trend(gateway, stored, filters, period=args.period)
    keys = KEYS[args.view]
    if "hidden" in table.columns and table["hidden"].is_not_null().any():
        keys = [*keys, "hidden"]
    table = table.select(keys)
    if args.format != "json" and "top_terms" in table.columns:
        table = table.with_columns(pl.col("top_terms").list.join(", "))
    print_frame(table, args.format, empty="No comments in view.")
    record_export(args, warehouse, user, f"feedback {args.view}", table.height)
    return 0


def _cmd_dictionary(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    """Show the theme dictionary and the number of themes; with changes, keep them
    (audited) and rebuild the feedback analysis."""
    settings = feedback.load_settings(warehouse.root)
    changed = _changed(args, settings)
    if changed != settings:
        what = {
            "set": "; ".join(args.set_theme),
            "drop": "; ".join(args.drop_theme),
            "themes": args.themes or "",
        }
        change_settings(
            args,
            warehouse,
            user,
            subject="the themes",
            keep=lambda who: store.change_settings(warehouse, changed, who, what),
            rebuild=store.refresh,
            announce="Themes changed; rebuilding the feedback analysis…",
        )
        settings = changed
    if args.format == "table":
        print(f"Themes found in the comments: {settings.k or 'chosen automatically'}")
    table = pl.DataFrame(
        {
            "theme": list(settings.dictionary),
            "keywords": [list(w) for w in settings.dictionary.values()],
        },
        schema={"theme": pl.String, "keywords": pl.List(pl.String)},
    )
    if args.format != "json":
        table = table.with_columns(pl.col("keywords").list.join(", "))
    print_frame(table, args.format, empty="No dictionary themes.")
    return 0


def _changed(args: argparse.Namespace, settings: FeedbackSettings) -> FeedbackSettings:
    dictionary = dict(settings.dictionary)
    for name in args.drop_theme:
        if name.strip() not in dictionary:
            raise ConfigError(f"There is no dictionary theme '{name}' to drop.")
        dictionary.pop(name.strip())
    for text in args.set_theme:
        theme, sep, words = text.partition("=")
        if not sep or not theme.strip() or not parse_keywords(words):
            raise ConfigError(f"--set-theme takes THEME=WORD,WORD; got {text!r}.")
        dictionary[theme.strip()] = parse_keywords(words)
    k = settings.k
    if args.themes is not None:
        if args.themes == "auto":
            k = None
        elif args.themes.isdigit():
            k = int(args.themes)
        else:
            raise ConfigError(f"--themes takes a number from 2 to 30 or auto; got {args.themes!r}.")
    return replace(settings, k=k, dictionary=dictionary)


def _stored(warehouse: Warehouse, *, quiet: bool) -> store.StoredFeedback:
    return built(
        store.current,
        store.refresh,
        warehouse,
        quiet=quiet,
        building="Analysing the comments of the current data (once per load)…",
        nothing="There are no survey responses or tickets yet. Load some first.",
    )
