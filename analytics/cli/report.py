"""The quarterly review on the command line: the quarter's scorecard, highlights and movers,
through the user's access, with the data versions it was computed from; as a table, JSON,
or a file to take away (HTML, PDF, PPTX), and replayed as of earlier data versions."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from analytics import derived, review
from analytics.cli.common import (
    account_for,
    add_command,
    filters_from,
    gateway_for,
    print_frame,
    record_export,
    where_arg,
)
from analytics.errors import ConfigError
from analytics.review import files
from analytics.settings import load_settings
from analytics.warehouse import Warehouse

FORMATS = ("table", "json", *files.FORMATS)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "report",
        _cmd_report,
        "The quarterly review: scorecard against the quarter before and a year before, "
        "highlights written from the data, and what moved; as a table, JSON or a file to "
        "take away (HTML, PDF, PowerPoint).",
    )
    p.add_argument(
        "--quarter", metavar="YYYY-QN", help="the quarter (default: the last complete one)"
    )
    where_arg(p, "rows")
    p.add_argument("--as-user", metavar="NAME", help="on behalf of this local account")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="write here (html, pdf and pptx default to touchpoint-review-<quarter>.<format>)",
    )
    p.add_argument(
        "--as-of-versions",
        metavar="DATASET=V,...",
        help="replay the review as of these data versions (a review prints its own), e.g. "
        "customers=3,orders=5,surveys=2,tickets=2,events=1",
    )
    p.set_defaults(start=None, end=None)


def _cmd_report(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    gateway = gateway_for(args, warehouse)
    value = derived.value_settings(load_settings(os.environ))
    if args.as_of_versions is not None:
        gateway = files.pinned(gateway, files.parse_versions(args.as_of_versions))
    # A replay rebuilds what is no longer kept of its versions (segments, journeys, themes).
    builds = review.Derived.of(gateway, value, build=args.as_of_versions is not None)
    found = review.quarterly_review(gateway, args.quarter, filters_from(args), derived=builds)
    if args.format in files.FORMATS:
        account = account_for(args)
        audience = f"{account.name} ({account.role})" if account else f"{user} (command line)"
        data = files.renderer()(found, args.format, audience=audience)
        target = args.out or Path(f"touchpoint-review-{found.quarter}.{args.format}")
        try:
            target.write_bytes(data)
        except OSError as exc:
            raise ConfigError(f"Cannot write the review to {target}: {exc.strerror}.") from exc
        print(f"Wrote the {found.quarter} review to {target} ({len(data):,} bytes).")
    elif args.format == "json":
        _emit(args, json.dumps(review.review_json(found), indent=2, default=str) + "\n")
    else:
        _print_table(found)
    record_export(args, warehouse, user, "report", len(found.highlights))
    return 0


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.out is None:
        sys.stdout.write(text)
        return
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the review to {args.out}: {exc.strerror}.") from exc


def _print_table(found: review.Review) -> None:
    versions = ", ".join(f"{k} v{v}" for k, v in found.data_versions.items() if v is not None)
    print(f"Quarterly review of {found.quarter} (data: {versions})\n")
    for highlight in found.highlights:
        print(f"{highlight.rank}. {highlight.text}")
    print()
    print_frame(
        found.scorecard.select(
            "label", "value", "previous", "delta", "delta_p", "year_ago", "yoy_delta", "yoy_p"
        ),
        "table",
        empty="No KPIs in view.",
    )
    print(f"\nReproduce: python -m analytics report --quarter {found.quarter} "
          f"--as-of-versions {found.replay}")  # fmt: skip
