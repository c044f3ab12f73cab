"""What the command groups share: adding a command, the scope and format arguments, the
gateway for `--as-user`, filters from `--where`, and printing frames."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

import polars as pl

from analytics import audit
from analytics.accounts import Account, AccountStore
from analytics.errors import ConfigError
from analytics.exports import neutralise_formulas
from analytics.filters import DIMENSIONS, Filters, check_dimension
from analytics.settings import ENGINES, load_settings
from analytics.warehouse import QueryGateway, Warehouse, open_gateway

Handler = Callable[[argparse.Namespace, Warehouse, str], int]
EXIT_REFUSED = 1  # exit status of a load refused for its data


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    handler: Callable[..., int],
    help_text: str,
) -> argparse.ArgumentParser:
    """A command `name` run by `handler(args, warehouse, user)`."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(handler=handler)
    return p


def scope_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", type=date_arg, metavar="DATE", help="first day")
    p.add_argument("--to", dest="end", type=date_arg, metavar="DATE", help="last day")
    where_arg(p, "rows")
    p.add_argument("--by", choices=list(DIMENSIONS), help="break down by this dimension")
    p.add_argument(
        "--as-user",
        metavar="NAME",
        help="compute on behalf of this local account: only what it may see",
    )
    engine_arg(p)


def engine_arg(p: argparse.ArgumentParser, *, command: bool = True) -> None:
    """`--engine`, given before the command (the main parser's) or after it (a command's:
    absent, it leaves the main parser's value alone)."""
    p.add_argument(
        "--engine",
        choices=list(ENGINES),
        default=argparse.SUPPRESS if command else None,
        help="engine that runs the queries (default: $TOUCHPOINT_ENGINE or duckdb)",
    )


def where_arg(p: argparse.ArgumentParser, what: str) -> None:
    """`--where COLUMN=VALUE`, repeatable: keep only `what` (rows, customers) with it."""
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help=f"keep only {what} with this value (repeat for more); columns: "
        f"{', '.join(DIMENSIONS)}",
    )


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def format_arg(p: argparse.ArgumentParser, *, csv: bool = False) -> None:
    choices = ["table", "json", "csv"] if csv else ["table", "json"]
    p.add_argument("--format", choices=choices, default="table", help="output format")


def gateway_for(args: argparse.Namespace, warehouse: Warehouse) -> QueryGateway:
    """The gateway on the chosen engine (`--engine`, or TOUCHPOINT_ENGINE), scoped to
    `--as-user`'s access when given (row limits, masked PII)."""
    settings = load_settings(os.environ, engine=getattr(args, "engine", None))
    gateway = open_gateway(warehouse, settings.engine, spark_master=settings.spark_master)
    account = account_for(args)
    if account is not None:
        gateway = gateway.scoped(account.access(min_group=settings.min_group))
    return gateway


def account_for(args: argparse.Namespace) -> Account | None:
    """`--as-user`'s account (None without it); an unknown name is refused."""
    if not args.as_user:
        return None
    return AccountStore(load_settings(os.environ).accounts).require(args.as_user)


def filters_from(args: argparse.Namespace) -> Filters:
    chosen: dict[str, list[str]] = {}
    for pair in args.where:
        column, sep, value = pair.partition("=")
        column = column.strip()
        if not sep or not column or not value.strip():
            raise ConfigError(
                f"--where needs COLUMN=VALUE, e.g. --where region=EMEA. Got {pair!r}."
            )
        check_dimension(column)
        chosen.setdefault(column, []).append(value.strip())
    values = {k: tuple(v) for k, v in chosen.items()}
    return Filters(start=args.start, end=args.end, **values)


def record_export(
    args: argparse.Namespace, warehouse: Warehouse, user: str, what: str, rows: int
) -> None:
    details: dict[str, object] = {"what": what, "format": args.format, "rows": rows}
    if args.as_user:
        details["as_user"] = args.as_user
    audit.record(warehouse.root, "export", user, details)


def print_frame(frame: pl.DataFrame, fmt: str, *, empty: str) -> None:
    if fmt == "json":
        records = [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in frame.to_dicts()
        ]
        print(json.dumps(records, indent=2, default=_json_value))
    elif fmt == "csv":
        sys.stdout.write(neutralise_formulas(frame).write_csv())
    elif frame.height == 0:
        print(empty)
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=160, fmt_str_lengths=40):
            print(frame)


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


T = TypeVar("T")


def change_settings(
    args: argparse.Namespace,
    warehouse: Warehouse,
    user: str,
    *,
    subject: str,
    keep: Callable[[str], bool],
    rebuild: Callable[[Warehouse], object],
    announce: str,
) -> None:
    """Keep an analyst's change of `subject` (`keep(user)` saves and audits it, and says
    whether anything changed), then rebuild what follows it; accounts that may not change
    data are refused (`--as-user`)."""
    account = account_for(args)
    if account is not None and not account.can("data"):
        raise ConfigError(f"{args.as_user} may not change {subject} (analysts may).")
    if keep(args.as_user or user):
        if args.format == "table":
            print(announce, file=sys.stderr)
        rebuild(warehouse)


def built(
    current: Callable[[Warehouse], T | None],
    refresh: Callable[[Warehouse], object],
    warehouse: Warehouse,
    *,
    quiet: bool,
    building: str,
    nothing: str,
) -> T:
    """What is stored for the current data, built first when a load came since (saying so
    on stderr unless `quiet`); `nothing` when there is nothing to build it from."""
    found = current(warehouse)
    if found is None:
        if not quiet:
            print(building, file=sys.stderr)
        refresh(warehouse)
        found = current(warehouse)
    if found is None:
        raise ConfigError(nothing)
    return found
