"""Ingest: read -> map -> validate -> load, as one call for the CLI and as steps for the app.

Bad input never partially loads and never touches the loaded data: validation finishes before
anything is written, and the write is one Delta commit.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import polars as pl

from analytics import audit
from analytics.contract import DATASETS, dataset
from analytics.errors import ReadError
from analytics.exports import safe_csv_bytes
from analytics.ingest.mapping import (
    ColumnMatch,
    apply_overrides,
    find_profile,
    get_profile,
    profile_matches,
    propose_mapping,
)
from analytics.ingest.readers import RawTable, read_export
from analytics.ingest.validate import Validated, ValidationReport, validate
from analytics.warehouse import LoadMode, Warehouse

ErrorPolicy = Literal["reject", "quarantine"]
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class MappingProposal:
    """Where each header goes, and the saved profile that decided it (if one matched)."""

    matches: list[ColumnMatch]
    profile: str | None
    note: str | None


@dataclass(frozen=True)
class LoadResult:
    """What happened to one export."""

    dataset: str
    report: ValidationReport
    loaded: bool
    version: int | None
    rows_loaded: int
    quarantine_path: Path | None
    mapping: list[ColumnMatch]
    profile: str | None
    sha256: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "loaded": self.loaded,
            "version": self.version,
            "rows_loaded": self.rows_loaded,
            "quarantine": str(self.quarantine_path) if self.quarantine_path else None,
            "profile": self.profile,
            "sha256": self.sha256,
            "message": self.message,
            "mapping": {m.source: m.kept_as for m in self.mapping},
            "report": self.report.to_dict(),
        }


def guess_dataset(headers: list[str]) -> tuple[str, float]:
    """The dataset an export most likely holds, with a confidence in [0, 1].

    Weighs the share of the dataset's required columns found and the share of the file's
    headers that map onto the dataset, so a file with a customer id and order columns is
    recognised as orders rather than customers.
    """
    best = ("customers", -1.0)
    for name, ds in DATASETS.items():
        mapped = {m.target for m in propose_mapping(headers, name) if m.target}
        required = [c for c in ds.required if not (c == ds.key and ds.derive_key)]
        required_share = sum(c in mapped for c in required) / len(required)
        header_share = len(mapped) / len(headers) if headers else 0.0
        score = (required_share + 0.5 * header_share) / 1.5
        if score > best[1]:
            best = (name, score)
    return best[0], round(best[1], 2)


def suggest_mapping(raw: RawTable, dataset_name: str, warehouse: Warehouse) -> MappingProposal:
    """A saved profile when one was made for exactly these headers, else automatic matching."""
    profile = find_profile(warehouse.mappings_dir, dataset_name, raw.headers)
    if profile is not None:
        return MappingProposal(
            profile_matches(profile, raw.headers),
            profile.name,
            f"Mapped with the saved profile '{profile.name}': its headers match this file.",
        )
    return MappingProposal(propose_mapping(raw.headers, dataset_name), None, None)


def resolve_mapping(
    raw: RawTable,
    dataset_name: str,
    warehouse: Warehouse,
    *,
    profile: str | None = None,
    overrides: Mapping[str, str] | None = None,
) -> MappingProposal:
    """The mapping to use: a named profile, else a matching one, else automatic; then overrides."""
    if profile:
        saved = get_profile(warehouse.mappings_dir, profile)
        proposal = MappingProposal(
            profile_matches(saved, raw.headers), saved.name, f"Mapped with profile '{saved.name}'."
        )
    else:
        proposal = suggest_mapping(raw, dataset_name, warehouse)
    if overrides:
        matches = apply_overrides(proposal.matches, overrides, dataset_name)
        return MappingProposal(matches, proposal.profile, proposal.note)
    return proposal


def check_export(
    raw: RawTable,
    dataset_name: str,
    matches: list[ColumnMatch],
    warehouse: Warehouse,
    *,
    mode: LoadMode = "append",
) -> Validated:
    """Validate a mapped export against the contract and against what is already loaded."""
    ds = dataset(dataset_name)
    existing = None
    if mode == "append" and ds.key:
        existing = warehouse.read(ds.name, columns=[ds.key]).get_column(ds.key, default=None)
    customers = None
    if ds.references_customers:
        customers = warehouse.read("customers", columns=["customer_id"]).get_column(
            "customer_id", default=None
        )
    try:
        return validate(raw, ds, matches, existing_keys=existing, known_customers=customers)
    except pl.exceptions.PolarsError as exc:
        # The readers sniff the start of a file; damage further in (a stray quote deep in
        # a CSV) only shows when the whole file is parsed.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReadError(
            f"{raw.info.file_name} cannot be read past its first rows: {detail}. Export it "
            "again (as CSV with quoted text, or as Excel) and upload the new file."
        ) from None


def ingest(
    source: Path | bytes,
    *,
    dataset_name: str,
    warehouse: Warehouse,
    file_name: str | None = None,
    sheet: str | None = None,
    profile: str | None = None,
    overrides: Mapping[str, str] | None = None,
    mode: LoadMode = "append",
    on_error: ErrorPolicy = "reject",
    dry_run: bool = False,
    user: str = "",
    progress: Progress | None = None,
) -> LoadResult:
    """Read, map, validate and (unless `dry_run`) load one export as one Delta commit.

    Parameters
    ----------
    source : Path or bytes
        The export file, or its content (uploads).
    dataset_name : str
        One of customers, orders, surveys, tickets, events.
    on_error : {"reject", "quarantine"}
        `reject` loads nothing when any row is invalid; `quarantine` loads the valid rows and
        writes the invalid ones, with a `reason` column, to a CSV in the warehouse.
    mode : {"append", "replace"}
        Add to what is loaded (keys must be new) or replace it.

    Returns
    -------
    LoadResult
        `loaded` is False when the policy refused the file; the report says why.
    """
    step = progress or (lambda stage, fraction: None)
    dataset(dataset_name)
    name = file_name or (source.name if isinstance(source, Path) else "upload")
    step("Reading", 0.05)
    hasher = _Sha256(source)
    raw = read_export(source, file_name=name, sheet=sheet)
    step("Mapping", 0.15)
    proposal = resolve_mapping(raw, dataset_name, warehouse, profile=profile, overrides=overrides)
    lock = warehouse.lock(dataset_name)
    with lock:
        step("Validating", 0.25)
        checked = check_export(raw, dataset_name, proposal.matches, warehouse, mode=mode)
        report = checked.report
        if proposal.note:
            report = _with_note(report, proposal.note)
        sha = hasher.hexdigest()
        refusal = _refusal(report, on_error, mode)
        if dry_run or refusal:
            message = refusal or f"Dry run: {report.rows_valid:,} rows would load, nothing written."
            return LoadResult(
                dataset_name,
                report,
                False,
                None,
                0,
                None,
                proposal.matches,
                proposal.profile,
                sha,
                message,
            )
        step("Writing", 0.7)
        metadata = {
            "source_file": name,
            "sha256": sha,
            "rows_read": report.rows_read,
            "rows_loaded": checked.valid.height,
            "rows_rejected": checked.invalid.height,
            "mapping": proposal.profile or "automatic",
            "user": user,
        }
        version = warehouse.commit(dataset_name, checked.valid, mode=mode, metadata=metadata)
    quarantine = None
    if checked.invalid.height:
        step("Writing quarantine", 0.95)
        quarantine = write_quarantine(warehouse, dataset_name, version, sha, checked.invalid)
    audit.record(
        warehouse.root,
        "load",
        user,
        {
            "dataset": dataset_name,
            "version": version,
            "file": name,
            "mode": mode,
            "rows_loaded": checked.valid.height,
            "rows_rejected": checked.invalid.height,
        },
    )
    step("Done", 1.0)
    message = f"Loaded {checked.valid.height:,} rows into {dataset_name} (version {version})."
    if quarantine is not None:
        message += f" {checked.invalid.height:,} invalid rows were quarantined."
    return LoadResult(
        dataset_name,
        report,
        True,
        version,
        checked.valid.height,
        quarantine,
        proposal.matches,
        proposal.profile,
        sha,
        message,
    )


def _refusal(report: ValidationReport, on_error: ErrorPolicy, mode: LoadMode) -> str | None:
    if report.blocking:
        return "Nothing was loaded: " + report.errors[0].message
    if report.errors and on_error == "reject":
        return (
            f"Nothing was loaded: {report.rows_invalid:,} of {report.rows_read:,} rows are "
            "invalid and the policy is reject. Fix them, or load with the quarantine policy "
            "to load the valid rows and set the others aside."
        )
    if report.rows_valid == 0:
        kept = " The loaded data was left as it is." if mode == "replace" else ""
        return "Nothing was loaded: no row is valid." + kept
    return None


def _with_note(report: ValidationReport, note: str) -> ValidationReport:
    return ValidationReport(
        report.dataset,
        report.file_name,
        report.rows_read,
        report.rows_invalid,
        report.problems,
        (note, *report.notes),
        report.blocking,
    )


def quarantine_csv(invalid: pl.DataFrame) -> bytes:
    """The invalid rows as a CSV (original values plus `reason`), safe to open in Excel."""
    return safe_csv_bytes(invalid)


def write_quarantine(
    warehouse: Warehouse, dataset_name: str, version: int, sha: str, invalid: pl.DataFrame
) -> Path:
    folder = warehouse.quarantine_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{dataset_name}-v{version}-{stamp}-{sha[:8]}.csv"
    path.write_bytes(quarantine_csv(invalid))
    return path


def quarantine_preview(path: Path, rows: int = 200) -> tuple[pl.DataFrame, int]:
    """The first `rows` quarantined rows of a quarantine file (as text) and how many it holds."""
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    return frame.head(rows), frame.height


def list_quarantines(warehouse: Warehouse) -> list[Path]:
    folder = warehouse.quarantine_dir
    return sorted(folder.glob("*.csv"), reverse=True) if folder.is_dir() else []


class _Sha256:
    """sha256 of the source, computed in a background thread while the file is read."""

    def __init__(self, source: Path | bytes) -> None:
        self._digest = ""
        if isinstance(source, bytes):
            self._digest = hashlib.sha256(source).hexdigest()
            self._thread: threading.Thread | None = None
        else:
            self._thread = threading.Thread(target=self._hash_file, args=(source,), daemon=True)
            self._thread.start()

    def _hash_file(self, path: Path) -> None:
        h = hashlib.sha256()
        # One reused buffer that stays in cache: cheaper than reading fresh 8 MB chunks.
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        try:
            with open(path, "rb", buffering=0) as handle:
                while size := handle.readinto(buffer):
                    h.update(view[:size])
        except OSError:
            return
        self._digest = h.hexdigest()

    def hexdigest(self) -> str:
        if self._thread is not None:
            self._thread.join()
        return self._digest


__all__ = [
    "LoadResult",
    "MappingProposal",
    "check_export",
    "guess_dataset",
    "ingest",
    "list_quarantines",
    "quarantine_csv",
    "quarantine_preview",
    "resolve_mapping",
    "suggest_mapping",
]
