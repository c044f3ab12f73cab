"""The audit log: who signed in, loaded, rolled back, exported or changed access, and when.

One JSON object per line in `<warehouse>/_audit/audit.jsonl`, appended under a file lock so
that the dashboard's sessions and the CLI can write at the same time. Entries are never
rewritten; the log holds user names and what was done, never data or passwords.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import polars as pl

Event = Literal[
    "sign_in",
    "sign_in_refused",
    "sign_out",
    "load",
    "rollback",
    "export",
    "access_change",
    "settings_change",
]
EVENTS: tuple[Event, ...] = get_args(Event)
AUDIT_FILE = Path("_audit") / "audit.jsonl"

AUDIT_SCHEMA = pl.Schema(
    {"at": pl.String(), "event": pl.String(), "user": pl.String(), "details": pl.String()}
)


def record(
    warehouse_root: Path,
    event: Event,
    user: str,
    details: Mapping[str, object] | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Append one entry: the moment (UTC), the event, who, and a few details."""
    if event not in EVENTS:
        raise ValueError(f"The audit event must be one of {', '.join(EVENTS)}. Got {event!r}.")
    entry = {
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "event": event,
        "user": user,
        "details": {k: _plain(v) for k, v in (details or {}).items()},
    }
    path = Path(warehouse_root) / AUDIT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_log(warehouse_root: Path, *, newest: int | None = None) -> pl.DataFrame:
    """The log, newest first (`newest` entries at most), with details as `key=value` text."""
    path = Path(warehouse_root) / AUDIT_FILE
    if not path.exists():
        return pl.DataFrame(schema=AUDIT_SCHEMA)
    rows = []
    with path.open(encoding="utf-8") as log:
        for line in log:
            if not line.strip():
                continue
            entry = json.loads(line)
            details = ", ".join(f"{k}={v}" for k, v in sorted(entry.get("details", {}).items()))
            rows.append((entry["at"], entry["event"], entry["user"], details))
    rows.reverse()
    if newest is not None:
        rows = rows[:newest]
    return pl.DataFrame(rows, schema=AUDIT_SCHEMA, orient="row")


def _plain(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
