"""Account commands: local users, roles, passwords and row limits, and the audit log."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

from analytics import audit
from analytics.accounts import AccountStore, check_password, check_role
from analytics.cli.common import add_command, format_arg, print_frame
from analytics.errors import ConfigError
from analytics.filters import LIMITABLE
from analytics.settings import load_settings
from analytics.warehouse import Warehouse


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "audit", _cmd_audit, "Show the audit log: sign-ins, loads, rollbacks, exports."
    )
    p.add_argument("--newest", type=int, default=None, metavar="N", help="only the N newest")
    format_arg(p, csv=True)

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
    format_arg(p)
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
        help=f"e.g. region=EMEA (repeat for more); columns: {', '.join(LIMITABLE)}; "
        "none removes every limit",
    )


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
    print_frame(frame, args.format, empty=_SINGLE_USER)
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


def _cmd_audit(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    print_frame(
        audit.read_log(warehouse.root, newest=args.newest), args.format, empty="No entries."
    )
    return 0
