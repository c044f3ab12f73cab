"""Helpers shared by the command-line tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from analytics.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run `python -m analytics ARGS` in this process: exit code, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
