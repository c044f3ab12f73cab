"""`python -m analytics`: the same capabilities as the dashboard, for automation.

Exit code 0 on success; on bad input a one-paragraph message on stderr and a non-zero exit,
never a traceback (anything else is a bug and surfaces as one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from analytics.cli.common import EXIT_REFUSED, Handler, engine_arg
from analytics.errors import TouchpointError
from analytics.settings import load_settings

__all__ = ["EXIT_REFUSED", "main"]

# The command groups (modules of this package) and their commands, in the order `--help`
# lists them. Only the groups of the command run are imported: `kpis` never loads
# scikit-learn for the feedback themes, say (a test checks this table against the parsers).
GROUPS: dict[str, tuple[str, ...]] = {
    "data": ("sample", "ingest", "history", "rollback", "mappings", "contract"),
    "metrics": ("kpis", "cohorts", "metrics"),
    "segments": ("segments", "clv"),
    "journeys": ("journeys",),
    "feedback": ("feedback",),
    "report": ("report",),
    "users": ("audit", "users"),
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(arguments)
    args = parser.parse_args(arguments)
    try:
        settings = load_settings(os.environ, warehouse=args.warehouse)
        warehouse = settings.open_warehouse()
        handler: Handler = args.handler
        return handler(args, warehouse, settings.user)
    except TouchpointError as exc:
        print(f"touchpoint: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("touchpoint: interrupted; nothing was committed.", file=sys.stderr)
        return 130


def _parser(arguments: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with the command groups named among `arguments` (all when none is)."""
    parser = argparse.ArgumentParser(
        prog="python -m analytics",
        description="Touchpoint: load customer exports into a versioned warehouse and query it.",
    )
    parser.add_argument(
        "--warehouse",
        help=(
            "warehouse folder, or an s3://, gs:// or abfss:// URI "
            "(default: $TOUCHPOINT_WAREHOUSE or data/warehouse)"
        ),
    )
    engine_arg(parser, command=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = [g for g, commands in GROUPS.items() if any(c in arguments for c in commands)]
    for group in named or GROUPS:
        importlib.import_module(f"analytics.cli.{group}").register(sub)
    return parser
