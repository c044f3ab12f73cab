"""`python -m analytics`: exit codes, messages, JSON output; never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run

ORDERS = "order_id,customer_id,order_date,amount\nO1,C1,2025-01-05,10.0\nO2,C2,2025-01-06,20.5\n"


@pytest.fixture
def wh(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(tmp_path / "wh"))
    return tmp_path / "wh"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ingest_json_then_history_and_rollback(tmp_path, wh, capsys):
    first = write(tmp_path, "jan.csv", ORDERS)
    code, out, err = run(capsys, "ingest", str(first), "--dataset", "orders", "--format", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert (result["loaded"], result["version"], result["rows_loaded"]) == (True, 0, 2)
    assert result["mapping"] == {
        "order_id": "order_id",
        "customer_id": "customer_id",
        "order_date": "order_date",
        "amount": "amount",
    }
    second = write(tmp_path, "feb.csv", ORDERS.replace("O1", "O3").replace("O2", "O4"))
    assert run(capsys, "ingest", str(second), "--dataset", "orders")[0] == 0

    code, out, _ = run(capsys, "history", "--dataset", "orders", "--format", "json")
    history = json.loads(out)
    assert [(h["version"], h["source_file"], h["rows_loaded"]) for h in history] == [
        (1, "feb.csv", 2),
        (0, "jan.csv", 2),
    ]
    code, out, _ = run(capsys, "rollback", "orders", "--to", "0")
    assert (code, out) == (0, "Restored orders to version 0 as new version 2.\n")
    code, out, _ = run(capsys, "history", "--format", "csv")
    assert out.splitlines()[0].startswith("dataset,version,when,action,mode,source_file")
    assert out.splitlines()[1].startswith("orders,2,")


def test_refused_load_exits_1_with_the_report(tmp_path, wh, capsys):
    bad = write(tmp_path, "bad.csv", ORDERS + "O3,C3,not a date,5\n")
    code, out, err = run(capsys, "ingest", str(bad), "--dataset", "orders")
    assert (code, err) == (1, "")
    assert "error: 1 value of order_date is not a date (read as YYYY-MM-DD) (e.g. row 4: " in out
    assert out.strip().endswith(
        "or load with the quarantine policy to load the valid rows and set the others aside."
    )
    assert not (wh / "orders").exists()


def test_quarantine_policy_loads_valid_rows(tmp_path, wh, capsys):
    bad = write(tmp_path, "bad.csv", ORDERS + "O3,C3,not a date,5\n")
    code, out, _ = run(
        capsys,
        "ingest",
        str(bad),
        "--dataset",
        "orders",
        "--on-error",
        "quarantine",
        "--format",
        "json",
    )
    result = json.loads(out)
    assert (code, result["rows_loaded"], result["report"]["rows_invalid"]) == (0, 2, 1)
    assert Path(result["quarantine"]).read_text(encoding="utf-8-sig").splitlines() == [
        "row,order_id,customer_id,order_date,amount,reason",
        "4,O3,C3,not a date,5,order_date: 'not a date' is not a date (read as YYYY-MM-DD)",
    ]


def test_dry_run_writes_nothing(tmp_path, wh, capsys):
    good = write(tmp_path, "good.csv", ORDERS)
    code, out, _ = run(capsys, "ingest", str(good), "--dataset", "orders", "--dry-run")
    assert code == 0
    assert out.strip().endswith("Dry run: 2 rows would load, nothing written.")
    assert not (wh / "orders").exists()


def test_map_override_and_saved_profile_maps_the_next_export(tmp_path, wh, capsys):
    export = "Nr;Kunde;Datum;Betrag\nA1;C1;05.01.2025;10,50\nA2;C2;06.01.2025;3,25\n"
    path = write(tmp_path, "de.csv", export)
    args = ["ingest", str(path), "--dataset", "orders", "--format", "json"]
    maps = [
        "--map",
        "Nr=order_id",
        "--map",
        "Kunde=customer_id",
        "--map",
        "Datum=order_date",
        "--map",
        "Betrag=amount",
    ]
    code, out, _ = run(capsys, *args, *maps, "--save-mapping", "German shop")
    assert code == 0 and json.loads(out)["rows_loaded"] == 2
    code, out, _ = run(capsys, "mappings", "--format", "json")
    assert [(m["name"], m["dataset"]) for m in json.loads(out)] == [("German shop", "orders")]

    later = write(tmp_path, "de2.csv", export.replace("A1", "A3").replace("A2", "A4"))
    code, out, _ = run(capsys, "ingest", str(later), "--dataset", "orders", "--format", "json")
    result = json.loads(out)
    assert (code, result["profile"], result["rows_loaded"]) == (0, "German shop", 2)
    assert result["report"]["notes"][0] == (
        "Mapped with the saved profile 'German shop': its headers match this file."
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["ingest", "missing.csv", "--dataset", "orders"],
            2,
            "touchpoint: missing.csv does not exist or is not a file.\n",
        ),
        (
            ["rollback", "orders", "--to", "3"],
            2,
            "touchpoint: orders has never been loaded, so there is nothing to roll back.\n",
        ),
        (
            ["ingest", "{file}", "--dataset", "orders", "--map", "nonsense"],
            2,
            "touchpoint: --map needs SOURCE=TARGET, e.g. --map 'Order Total=amount'. "
            "Got 'nonsense'.\n",
        ),
        (
            ["ingest", "{file}", "--dataset", "orders", "--map", "Total=amount"],
            2,
            "touchpoint: Column 'Total' is not in the file. Its columns are: 'amount', "
            "'customer_id', 'order_date', 'order_id'.\n",
        ),
        (
            ["ingest", "{file}", "--dataset", "orders", "--mapping", "Nope"],
            2,
            "touchpoint: There is no mapping profile called 'Nope'. Saved profiles: none saved "
            "yet.\n",
        ),
    ],
)
def test_bad_input_gives_one_message_and_non_zero_exit(tmp_path, wh, capsys, args, code, message):
    good = write(tmp_path, "good.csv", ORDERS)
    args = [a.replace("{file}", str(good)) for a in args]
    got_code, out, err = run(capsys, *args)
    assert (got_code, out, err) == (code, "", message)


def test_bad_setting_is_a_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOUCHPOINT_ROLLBACK_DAYS", "soon")
    code, _, err = run(capsys, "history")
    assert (code, err) == (
        2,
        "touchpoint: The setting TOUCHPOINT_ROLLBACK_DAYS must be a whole number >= 1. "
        "Got 'soon' instead.\n",
    )


@pytest.mark.parametrize(
    "command", [[], ["sample"], ["ingest"], ["history"], ["rollback"], ["mappings"], ["contract"]]
)
def test_every_command_has_help(command):
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m analytics")


def test_the_group_table_names_every_command_of_each_group():
    import argparse
    import importlib

    from analytics.cli import GROUPS, _parser

    for group, commands in GROUPS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"analytics.cli.{group}").register(sub)
        assert tuple(sub.choices) == commands
    listed = _parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert list(listed) == [c for commands in GROUPS.values() for c in commands]


def test_kpis_loads_only_what_it_needs():
    """The metrics commands start without scikit-learn, scipy.stats or the ingest readers."""
    code = (
        "import sys; from analytics.cli import _parser; "
        "_parser(['--warehouse', 'wh', 'kpis', '--period', 'quarter']); "
        "print(sorted(m for m in ('sklearn', 'scipy.stats', 'analytics.ingest.pipeline', "
        "'analytics.feedback', 'analytics.segments', 'analytics.journeys', 'analytics.review') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_unreadable_file_through_the_real_entry_point_has_no_traceback(tmp_path, wh):
    picture = tmp_path / "orders.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", str(picture), "--dataset", "orders"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("touchpoint: orders.csv ")


def test_the_real_entry_point_flushes_its_output_and_commits_before_it_leaves(tmp_path, wh):
    # `python -m analytics` leaves without tearing the interpreter down (os._exit).
    path = write(tmp_path, "orders.csv", ORDERS)
    out = tmp_path / "out.json"
    with out.open("w") as sink:
        loaded = subprocess.run(
            [sys.executable, "-m", "analytics", "ingest", str(path), "--dataset", "orders",
             "--format", "json"],
            stdout=sink, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(out.read_text())["rows_loaded"] == 2
    history = subprocess.run(
        [sys.executable, "-m", "analytics", "history", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert history.returncode == 0
    assert [(v["dataset"], v["version"], v["rows_loaded"]) for v in json.loads(history.stdout)] == [
        ("orders", 0, 2)
    ]


def test_sample_writes_and_loads_a_small_company(tmp_path, wh, capsys):
    out_dir = tmp_path / "sample"
    code, out, _ = run(
        capsys, "sample", "--customers", "300", "--out", str(out_dir), "--load", "--format", "json"
    )
    result = json.loads(out)
    assert code == 0
    assert sorted(f["dataset"] for f in result["files"]) == [
        "customers",
        "events",
        "orders",
        "surveys",
        "tickets",
    ]
    assert result["loaded"]["customers"] == 300


def _stderr_through_a_terminal(args: list[str], env_dir: Path) -> str:
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "analytics", "--warehouse", str(env_dir), *args],
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def test_progress_line_in_a_terminal_and_quiet_with_json(tmp_path):
    path = write(tmp_path, "orders.csv", ORDERS)
    shown = _stderr_through_a_terminal(["ingest", str(path), "--dataset", "orders"], tmp_path / "a")
    stages = [part.split("%")[1].strip() for part in shown.split("\r") if "%" in part]
    assert stages == ["Reading", "Mapping", "Validating", "Writing", "Done"]
    quiet = _stderr_through_a_terminal(
        ["ingest", str(path), "--dataset", "orders", "--format", "json"], tmp_path / "b"
    )
    assert quiet == ""


def test_cli_loads_while_a_reader_process_is_serving(tmp_path):
    """The dashboard's gateway keeps serving while the CLI commits from another process."""
    from analytics.warehouse import QueryGateway, Warehouse

    warehouse = Warehouse(tmp_path / "wh")
    gateway = QueryGateway(warehouse)
    assert gateway.query("SELECT count(*) FROM orders").item() == 0
    path = write(tmp_path, "orders.csv", ORDERS)
    before = warehouse.data_version()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "--warehouse",
            str(warehouse.root),
            "ingest",
            str(path),
            "--dataset",
            "orders",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert warehouse.data_version() != before
    assert gateway.query("SELECT count(*), sum(amount) FROM orders").row(0) == (2, 30.5)


def test_loads_and_rollbacks_leave_the_kpi_rollups_current(tmp_path, wh, capsys):
    from analytics import rollups
    from analytics.warehouse import Warehouse

    def current_key() -> str | None:
        rollup = rollups.current(Warehouse(wh), "orders")
        return None if rollup is None else rollup.key

    good = write(tmp_path, "jan.csv", ORDERS)
    run(capsys, "ingest", str(good), "--dataset", "orders", "--dry-run")
    assert current_key() is None
    code, _, err = run(capsys, "ingest", str(good), "--dataset", "orders")
    assert code == 0
    assert err.startswith("Summarised for the dashboards: orders ")
    assert current_key() == f"orders0-customersnone-r{rollups.LAYOUT}"
    more = write(tmp_path, "feb.csv", ORDERS.replace("O1", "O3").replace("O2", "O4"))
    assert run(capsys, "ingest", str(more), "--dataset", "orders")[0] == 0
    assert current_key() == f"orders1-customersnone-r{rollups.LAYOUT}"
    code, _, err = run(capsys, "rollback", "orders", "--to", "0", "--format", "json")
    assert (code, err) == (0, "")  # JSON output stays quiet
    assert current_key() == f"orders2-customersnone-r{rollups.LAYOUT}"
