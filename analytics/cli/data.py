"""Data commands: the sample company, loading exports, load history, rollback, mapping
profiles and the data contract."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

import polars as pl

from analytics import contract, derived
from analytics.cli.common import EXIT_REFUSED, add_command, format_arg, print_frame
from analytics.errors import MappingError, ReadError
from analytics.ingest.mapping import list_profiles, save_profile
from analytics.ingest.pipeline import ingest
from analytics.warehouse import Warehouse, history_frame


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "sample", _cmd_sample, "Write the seeded sample company's exports to a folder."
    )
    p.add_argument("--customers", type=int, default=20_000, help="number of customers (20000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (7)")
    p.add_argument("--out", type=Path, default=Path("data/sample"), help="folder (data/sample)")
    p.add_argument("--load", action="store_true", help="also load the files into the warehouse")
    format_arg(p)

    p = add_command(sub, "ingest", _cmd_ingest, "Read, map, validate and load one export.")
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
    format_arg(p)

    p = add_command(sub, "history", _cmd_history, "List the loads and rollbacks of each dataset.")
    p.add_argument("--dataset", choices=list(contract.DATASETS))
    format_arg(p, csv=True)

    p = add_command(
        sub, "rollback", _cmd_rollback, "Restore a dataset to an earlier version (a new commit)."
    )
    p.add_argument("dataset", choices=list(contract.DATASETS))
    p.add_argument("--to", type=int, required=True, metavar="VERSION")
    format_arg(p)

    p = add_command(sub, "mappings", _cmd_mappings, "List the saved mapping profiles.")
    p.add_argument("--dataset", choices=list(contract.DATASETS))
    format_arg(p, csv=True)

    p = add_command(sub, "contract", _cmd_contract, "Print the data contract as Markdown.")
    p.add_argument("--write", type=Path, help="write it to this file instead")


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
    print_frame(frame, args.format, empty="No loads yet.")
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
    The rest (record-dimension parts, the segmentation) is left to the dashboard's background
    and to the commands that need it."""
    built = derived.refresh_base(warehouse)
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
    print_frame(frame, args.format, empty="No saved mapping profiles.")
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
