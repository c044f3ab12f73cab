"""The quarterly review on the command line: the quarter's scorecard, highlights and movers,
through the user's access, with the data versions it was computed from."""

from __future__ import annotations

import argparse
import json

from analytics import review
from analytics.cli.common import (
    add_command,
    filters_from,
    gateway_for,
    print_frame,
    record_export,
    where_arg,
)
from analytics.warehouse import Warehouse


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "report",
        _cmd_report,
        "The quarterly review: scorecard against the quarter before and a year before, "
        "highlights written from the data, and what moved.",
    )
    p.add_argument(
        "--quarter", metavar="YYYY-QN", help="the quarter (default: the last complete one)"
    )
    where_arg(p, "rows")
    p.add_argument("--as-user", metavar="NAME", help="on behalf of this local account")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    p.set_defaults(start=None, end=None)


def _cmd_report(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    gateway = gateway_for(args, warehouse)
    found = review.quarterly_review(gateway, args.quarter, filters_from(args))
    if args.format == "json":
        print(json.dumps(review.review_json(found), indent=2, default=str))
    else:
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
        )  # fmt: skip
    record_export(args, warehouse, user, "report", len(found.highlights))
    return 0
