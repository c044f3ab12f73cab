"""`python -m analytics`: the same capabilities as the dashboard, for automation.

Exit code 0 on success; on bad input a one-paragraph message on stderr and a non-zero exit,
never a traceback (anything else is a bug and surfaces as one).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from analytics.cli import data, feedback, journeys, metrics, report, segments, users
from analytics.cli.common import Handler
from analytics.cli.data import EXIT_REFUSED
from analytics.errors import TouchpointError
from analytics.settings import load_settings
from analytics.warehouse import Warehouse

__all__ = ["EXIT_REFUSED", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ, warehouse=args.warehouse)
        warehouse = Warehouse(settings.warehouse, rollback_days=settings.rollback_days)
        handler: Handler = args.handler
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
    for group in (data, metrics, segments, journeys, feedback, report, users):
        group.register(sub)
    return parser
