"""Helpers shared by the command-line tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import shutil
from pathlib import Path

from analytics.accounts import AccountStore
from analytics.bootstrap import load_sample_files
from analytics.cli import main
from analytics.sample import write_sample_company
from analytics.warehouse import Warehouse


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run `python -m analytics ARGS` in this process: exit code, stdout and stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def sample_company(root: Path, *, customers: int, seed: int, analyst_limited: bool = False) -> Path:
    """A generated sample company loaded into `root/warehouse`, with local accounts in
    `root/accounts.toml`: vic (viewer) and ana (analyst), vic limited to EMEA (and ana too
    with `analyst_limited`)."""
    files = write_sample_company(root / "exports", customers=customers, seed=seed)
    load_sample_files(Warehouse(root / "warehouse"), files, user="tester")
    store = AccountStore(root / "accounts.toml")
    store.add("vic", "viewer", "correct horse battery")
    store.set_limits("vic", {"region": ["EMEA"]})
    store.add("ana", "analyst", "correct horse battery")
    if analyst_limited:
        store.set_limits("ana", {"region": ["EMEA"]})
    return root


def use_company(company: Path, monkeypatch, *, copy_to: Path | None = None) -> Path:
    """Point the command line at `company` (its warehouse and accounts), or at a copy of its
    warehouse in `copy_to` that a test may change; the warehouse used."""
    warehouse = company / "warehouse"
    if copy_to is not None:
        shutil.copytree(warehouse, copy_to / "warehouse")
        warehouse = copy_to / "warehouse"
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TOUCHPOINT_ACCOUNTS", str(company / "accounts.toml"))
    monkeypatch.setenv("TOUCHPOINT_USER", "tester")
    return warehouse
