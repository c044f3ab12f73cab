"""`python -m analytics`: the same capabilities as the dashboard, for automation.

Exit code 0 on success; on bad input a one-paragraph message on stderr and a non-zero exit,
never a traceback (anything else is a bug and surfaces as one).
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import polars as pl

from analytics import audit, contract, rollups
from analytics.accounts import AccountStore, check_password, check_role
from analytics.cohorts import cohort_table
from analytics.errors import ConfigError, MappingError, ReadError, TouchpointError
from analytics.exports import neutralise_formulas
from analytics.filters import DIMENSIONS, Filters, check_dimension
from analytics.ingest.mapping import list_profiles, save_profile
from analytics.ingest.pipeline import ingest
from analytics.kpis import KPI_BY_KEY, trend
from analytics.kpis import render_markdown as render_metrics
from analytics.periods import GRAINS
from analytics.settings import load_settings
from analytics.warehouse import QueryGateway, Warehouse, history_frame

EXIT_REFUSED = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ, warehouse=args.warehouse)
        warehouse = Warehouse(settings.warehouse, rollback_days=settings.rollback_days)
        handler: Callable[[argparse.Namespace, Warehouse, str], int] = args.handler
        return handler(args, warehouse, settings.user)
    except TouchpointError as exc:
        print(f"touchpoint: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("touchpoint: interrupted; nothing was committed.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analytics",
        description="Touchpoint: load customer exports into a versioned warehouse and query it.",
    )
    parser.add_argument(
        "--warehouse",
        help="warehouse folder (default: $TOUCHPOINT_WAREHOUSE or data/warehouse)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("sample", _cmd_sample, "Write the seeded sample company's exports to a folder.")
    p.add_argument("--customers", type=int, default=20_000, help="number of customers (20000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (7)")
    p.add_argument("--out", type=Path, default=Path("data/sample"), help="folder (data/sample)")
    p.add_argument("--load", action="store_true", help="also load the files into the warehouse")
    _format_arg(p)

    p = add("ingest", _cmd_ingest, "Read, map, validate and load one export.")
    p.add_argument("file", type=Path, help="CSV/TSV, Excel (.xlsx), Parquet or JSON Lines file")
    p.add_argument("--dataset", required=True, choices=list(contract.DATASETS))
    p.add_argument("--mapping", help="name of a saved mapping profile to apply")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SRC=DST",
        help="map source column SRC onto DST (a contract column, 'attribute' or 'ignore')",
    )
    p.add_argument("--save-mapping", metavar="NAME", help="save the mapping used under NAME")
    p.add_argument("--sheet", help="Excel sheet to read (default: the first with data)")
    p.add_argument("--mode", choices=["append", "replace"], default="append")
    p.add_argument("--on-error", choices=["reject", "quarantine"], default="reject")
    p.add_argument("--dry-run", action="store_true", help="validate and report; load nothing")
    _format_arg(p)

    p = add("history", _cmd_history, "List the loads and rollbacks of each dataset.")
    p.add_argument("--dataset", choices=list(contract.DATASETS))
    _format_arg(p, csv=True)

    p = add("rollback", _cmd_rollback, "Restore a dataset to an earlier version (a new commit).")
    p.add_argument("dataset", choices=list(contract.DATASETS))
    p.add_argument("--to", type=int, required=True, metavar="VERSION")
    _format_arg(p)

    p = add("mappings", _cmd_mappings, "List the saved mapping profiles.")
    p.add_argument("--dataset", choices=list(contract.DATASETS))
    _format_arg(p, csv=True)

    p = add("contract", _cmd_contract, "Print the data contract as Markdown.")
    p.add_argument("--write", type=Path, help="write it to this file instead")

    p = add("kpis", _cmd_kpis, "KPIs by period, with sample sizes and 95%% intervals.")
    p.add_argument("--period", choices=list(GRAINS), default="month", help="period (month)")
    _scope_args(p)
    p.add_argument(
        "--kpi",
        action="extend",
        nargs="+",
        metavar="KEY",
        help=f"KPIs to compute (default: all): {', '.join(KPI_BY_KEY)}",
    )
    _format_arg(p, csv=True)

    p = add("cohorts", _cmd_cohorts, "Cohort retention: customers or revenue by cohort.")
    p.add_argument("--period", choices=["month", "quarter"], default="month")
    p.add_argument("--measure", choices=["customers", "revenue"], default="customers")
    _scope_args(p)
    _format_arg(p, csv=True)

    p = add("audit", _cmd_audit, "Show the audit log: sign-ins, loads, rollbacks, exports.")
    p.add_argument("--newest", type=int, default=None, metavar="N", help="only the N newest")
    _format_arg(p, csv=True)

    p = add("metrics", _cmd_metrics, "Print the KPI definitions (docs/metrics.md).")
    p.add_argument("--write", type=Path, help="write it to this file instead")

    users = sub.add_parser(
        "users",
        help="Manage local accounts: users, roles and passwords.",
        description="Manage local accounts: users, roles (viewer, analyst, admin) and passwords. "
        "With no accounts Touchpoint runs in single-user local mode.",
    )
    accounts_help = "accounts file (default: $TOUCHPOINT_ACCOUNTS or .streamlit/accounts.toml)"
    users.add_argument("--accounts", type=Path, metavar="PATH", help=accounts_help)
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        # Also accepted after the action; SUPPRESS keeps an earlier --accounts when absent here.
        p.add_argument(
            "--accounts", type=Path, metavar="PATH", default=argparse.SUPPRESS, help=accounts_help
        )
        return p

    p = action("list", _cmd_users_list, "List the accounts and roles (never password hashes).")
    _format_arg(p)
    p = action("add", _cmd_users_add, "Add an account; asks for its password twice.")
    _user_name_arg(p)
    p.add_argument("--role", required=True, help="viewer, analyst or admin")
    _password_stdin_arg(p)
    p = action("passwd", _cmd_users_passwd, "Set a new password; asks for it twice.")
    _user_name_arg(p)
    _password_stdin_arg(p)
    p = action("role", _cmd_users_role, "Give an account another role.")
    _user_name_arg(p)
    p.add_argument("role", help="viewer, analyst or admin")
    p = action("remove", _cmd_users_remove, "Remove an account.")
    _user_name_arg(p)
    p = action(
        "limit",
        _cmd_users_limit,
        "Limit what an account may read to rows with these values (row-level access).",
    )
    _user_name_arg(p)
    p.add_argument(
        "limits",
        nargs="*",
        metavar="COLUMN=VALUE",
        help=f"e.g. region=EMEA (repeat for more); columns: {', '.join(DIMENSIONS)}; "
        "none removes every limit",
    )
    return parser


def _scope_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", type=_date_arg, metavar="DATE", help="first day")
    p.add_argument("--to", dest="end", type=_date_arg, metavar="DATE", help="last day")
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help=f"keep only rows with this value (repeat for more); columns: {', '.join(DIMENSIONS)}",
    )
    p.add_argument("--by", choices=list(DIMENSIONS), help="break down by this dimension")
    p.add_argument(
        "--as-user",
        metavar="NAME",
        help="compute on behalf of this local account: only what it may see",
    )


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _format_arg(p: argparse.ArgumentParser, *, csv: bool = False) -> None:
    choices = ["table", "json", "csv"] if csv else ["table", "json"]
    p.add_argument("--format", choices=choices, default="table", help="output format")


# ----- commands ---------------------------------------------------------------------------------


def _cmd_ingest(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    if not args.file.is_file():
        raise ReadError(f"{args.file} does not exist or is not a file.")
    overrides = _parse_map(args.map)
    progress = _Progress(sys.stderr) if args.format != "json" and sys.stderr.isatty() else None
    result = ingest(
        args.file,
        dataset_name=args.dataset,
        warehouse=warehouse,
        sheet=args.sheet,
        profile=args.mapping,
        overrides=overrides,
        mode=args.mode,
        on_error=args.on_error,
        dry_run=args.dry_run,
        user=user,
        progress=progress,
    )
    if progress:
        progress.done()
    if args.save_mapping:
        save_profile(warehouse.mappings_dir, args.save_mapping, args.dataset, result.mapping)
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        print(result.report.summary())
        if result.quarantine_path:
            print(f"Quarantined rows: {result.quarantine_path}")
        print(result.message)
    if result.loaded:
        _refresh_rollups(warehouse, quiet=args.format == "json")
    refused = not result.loaded and not args.dry_run
    return EXIT_REFUSED if refused or (args.dry_run and not result.report.ok) else 0


def _cmd_history(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    frame = history_frame(warehouse.history(args.dataset))
    frame = frame.filter(pl.col("action") != "vacuum")
    _print_frame(frame, args.format, empty="No loads yet.")
    return 0


def _cmd_rollback(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    version = warehouse.rollback(args.dataset, args.to, user=user)
    message = f"Restored {args.dataset} to version {args.to} as new version {version}."
    if args.format == "json":
        print(json.dumps({"dataset": args.dataset, "restored": args.to, "version": version}))
    else:
        print(message)
    _refresh_rollups(warehouse, quiet=args.format == "json")
    return 0


def _refresh_rollups(warehouse: Warehouse, *, quiet: bool) -> None:
    """After a load or rollback: the monthly rollups that keep the KPIs fast (`rollups`).
    The parts only record-dimension filters need are left to the dashboard's background."""
    built = rollups.refresh(warehouse, records=False)
    if built and not quiet:
        took = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in built.items())
        print(f"Summarised for the dashboards: {took}.", file=sys.stderr)


def _cmd_mappings(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    profiles = list_profiles(warehouse.mappings_dir, args.dataset)
    frame = pl.DataFrame(
        {
            "name": [p.name for p in profiles],
            "dataset": [p.dataset for p in profiles],
            "columns": [len(p.headers) for p in profiles],
            "mapping": [", ".join(f"{k} -> {v}" for k, v in p.mapping.items()) for p in profiles],
            "created": [p.created for p in profiles],
        },
        schema={
            "name": pl.String,
            "dataset": pl.String,
            "columns": pl.Int64,
            "mapping": pl.String,
            "created": pl.String,
        },
    )
    _print_frame(frame, args.format, empty="No saved mapping profiles.")
    return 0


def _cmd_sample(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    from analytics.bootstrap import load_sample_files
    from analytics.sample import write_sample_company

    files = write_sample_company(args.out, customers=args.customers, seed=args.seed)
    output: dict[str, object] = {
        "files": [{"path": str(f.path), "dataset": f.dataset} for f in files]
    }
    if args.load:
        results = load_sample_files(warehouse, files, user=user)
        output["loaded"] = {r.dataset: r.rows_loaded for r in results}
    if args.format == "json":
        print(json.dumps(output, indent=2))
    else:
        for f in files:
            print(f"{f.dataset:<10} {f.path}")
        if args.load:
            print(f"Loaded into {warehouse.root}.")
    return 0


def _cmd_contract(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    text = contract.render_markdown()
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


_KPI_COLUMNS = ["kpi", "period", "group", "value", "n", "ci_low", "ci_high", "hidden"]


def _cmd_kpis(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    filters = _filters(args)
    keys = args.kpi or list(KPI_BY_KEY)
    table = trend(_gateway_for(args, warehouse), keys, filters, args.period, by=args.by)
    if args.format == "table":
        table = table.select(
            "kpi",
            "period",
            "group",
            "value",
            "n",
            "ci_low",
            "ci_high",
            "delta",
            "delta_significant",
            "hidden",
        )
        if args.by is None:
            table = table.drop("group")
        if table["hidden"].null_count() == table.height:
            table = table.drop("hidden")
    else:
        table = table.select(_KPI_COLUMNS)
    _print_frame(table, args.format, empty="No data in that range.")
    _record_export(args, warehouse, user, "kpis", table.height)
    return 0


def _cmd_cohorts(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    table = cohort_table(
        _gateway_for(args, warehouse), _filters(args), args.period, args.measure, by=args.by
    )
    if args.by is None and args.format == "table":
        table = table.drop("group")
    if args.format == "table" and table["hidden"].null_count() == table.height:
        table = table.drop("hidden")
    _print_frame(table, args.format, empty="No completed orders in that range.")
    _record_export(args, warehouse, user, "cohorts", table.height)
    return 0


def _cmd_metrics(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    text = render_metrics()
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


# ----- users ------------------------------------------------------------------------------------

_SINGLE_USER = (
    "No accounts: Touchpoint runs in single-user local mode. Add one with "
    "`python -m analytics users add NAME --role admin`."
)


def _cmd_users_list(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    accounts = _account_store(args).accounts()
    frame = pl.DataFrame(
        {
            "name": [a.name for a in accounts],
            "role": [a.role for a in accounts],
            "limits": [_limits_text(a.limits) for a in accounts],
        },
        schema={"name": pl.String, "role": pl.String, "limits": pl.String},
    )
    _print_frame(frame, args.format, empty=_SINGLE_USER)
    return 0


def _cmd_users_add(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    store = _account_store(args)
    role = check_role(args.role)
    store.check_new_name(args.name)  # before asking for a password that would be wasted
    account = store.add(args.name, role, _new_password(args))
    audit.record(warehouse.root, "access_change", user, {"added": account.name, "role": role})
    print(f"Added {account.name} as {account.role} to {store.path}.")
    return 0


def _cmd_users_passwd(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    store = _account_store(args)
    account = store.require(args.name)
    store.set_password(account.name, _new_password(args))
    audit.record(warehouse.root, "access_change", user, {"password_set": account.name})
    print(f"Changed the password of {account.name}.")
    return 0


def _cmd_users_role(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    store = _account_store(args)
    store.set_role(args.name, args.role)
    account = store.require(args.name)
    audit.record(
        warehouse.root, "access_change", user, {"user": account.name, "role": account.role}
    )
    print(f"{account.name} is now {account.role}.")
    return 0


def _cmd_users_remove(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    store = _account_store(args)
    account = store.require(args.name)
    store.remove(account.name)
    audit.record(warehouse.root, "access_change", user, {"removed": account.name})
    print(f"Removed {account.name}.")
    if not store.configured():
        print(_SINGLE_USER)
    return 0


def _cmd_users_limit(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    store = _account_store(args)
    account = store.require(args.name)
    limits: dict[str, list[str]] = {}
    for pair in args.limits:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip() or not value.strip():
            raise ConfigError(f"A limit needs COLUMN=VALUE, e.g. region=EMEA. Got {pair!r}.")
        limits.setdefault(column.strip(), []).append(value.strip())
    store.set_limits(account.name, limits)
    limited = store.require(account.name)
    audit.record(
        warehouse.root,
        "access_change",
        user,
        {"user": limited.name, "limits": _limits_text(limited.limits) or "none"},
    )
    print(f"{limited.name} now sees {_limits_text(limited.limits) or 'everything'}.")
    return 0


def _limits_text(limits: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return "; ".join(f"{column} = {', '.join(values)}" for column, values in limits)


def _account_store(args: argparse.Namespace) -> AccountStore:
    return AccountStore(args.accounts or load_settings(os.environ).accounts)


def _user_name_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="user name: letters, digits, '.', '_', '-' or '@' (e.g. an email)")


def _password_stdin_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )


def _new_password(args: argparse.Namespace) -> str:
    """The new password, from stdin (`--password-stdin`) or typed twice at a hidden prompt."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        check_password(password)
        return password
    try:
        password = getpass.getpass(f"New password for {args.name}: ")
        check_password(password)
        repeated = getpass.getpass("Repeat the password: ")
    except EOFError:
        raise ConfigError("No password was given; nothing was changed.") from None
    if password != repeated:
        raise ConfigError("The passwords do not match; nothing was changed.")
    return password


# ----- helpers ------------------------------------------------------------------------------


def _record_export(
    args: argparse.Namespace, warehouse: Warehouse, user: str, what: str, rows: int
) -> None:
    details: dict[str, object] = {"what": what, "format": args.format, "rows": rows}
    if args.as_user:
        details["as_user"] = args.as_user
    audit.record(warehouse.root, "export", user, details)


def _cmd_audit(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    _print_frame(
        audit.read_log(warehouse.root, newest=args.newest), args.format, empty="No entries."
    )
    return 0


def _gateway_for(args: argparse.Namespace, warehouse: Warehouse) -> QueryGateway:
    """The gateway, scoped to `--as-user`'s access when given (row limits, masked PII)."""
    gateway = QueryGateway(warehouse)
    if args.as_user:
        settings = load_settings(os.environ)
        account = AccountStore(settings.accounts).require(args.as_user)
        gateway = gateway.scoped(account.access(min_group=settings.min_group))
    return gateway


def _filters(args: argparse.Namespace) -> Filters:
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


def _parse_map(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise MappingError(
                f"--map needs SOURCE=TARGET, e.g. --map 'Order Total=amount'. Got {pair!r}."
            )
        overrides[source.strip()] = target.strip()
    return overrides


def _print_frame(frame: pl.DataFrame, fmt: str, *, empty: str) -> None:
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


class _Progress:
    """One progress line on stderr, rewritten in place (only when stderr is a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, stage: str, fraction: float) -> None:
        width = 30
        filled = int(width * fraction)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {stage:<20}")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
