"""Configuration: one declared table of settings, read once at start-up and passed down.

Analytics code never reads the environment itself; the CLI and the dashboard call
`load_settings(os.environ)` and hand the values on as arguments.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analytics.errors import ConfigError
from analytics.storage import check_location, default_local_dir, is_object_store

if TYPE_CHECKING:
    from analytics.warehouse import Warehouse


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "warehouse",
        "TOUCHPOINT_WAREHOUSE",
        "data/warehouse",
        "Folder holding the Delta tables (one per dataset), mapping profiles and quarantines; "
        "or an object-store URI (`s3://bucket/prefix`, `gs://...`, "
        "`abfss://container@account.dfs.core.windows.net/...`) holding the tables, with "
        "credentials from the environment as `deltalake` reads them.",
    ),
    Setting(
        "local_dir",
        "TOUCHPOINT_LOCAL_DIR",
        "",
        "For a warehouse on an object store: the local folder of derived tables, locks, "
        "mapping profiles, quarantines and the audit log (default `data/local/<bucket>/<prefix>`).",
    ),
    Setting(
        "sample_on_empty",
        "TOUCHPOINT_SAMPLE_ON_EMPTY",
        "true",
        "Load the sample company when the dashboard starts on an empty warehouse "
        "(`false` starts empty, ready for uploads).",
    ),
    Setting(
        "max_upload_mb",
        "TOUCHPOINT_MAX_UPLOAD_MB",
        "200",
        "Largest file the Data page accepts, in MB (bigger files load through the CLI).",
    ),
    Setting(
        "rollback_days",
        "TOUCHPOINT_ROLLBACK_DAYS",
        "30",
        "How long every earlier version stays restorable; older unreferenced files are vacuumed.",
    ),
    Setting(
        "user",
        "TOUCHPOINT_USER",
        "",
        "Name recorded in the load history (defaults to the operating-system user).",
    ),
    Setting(
        "accounts",
        "TOUCHPOINT_ACCOUNTS",
        ".streamlit/accounts.toml",
        "Local accounts file (users, roles, password hashes), written by "
        "`python -m analytics users`. With no accounts Touchpoint runs in single-user local mode.",
    ),
    Setting(
        "session_minutes",
        "TOUCHPOINT_SESSION_MINUTES",
        "480",
        "Minutes a local sign-in lasts before the user must sign in again.",
    ),
    Setting(
        "min_group",
        "TOUCHPOINT_MIN_GROUP",
        "5",
        "Viewers see no KPI value computed from fewer customers, responses or tickets than this.",
    ),
    Setting(
        "clv_margin",
        "TOUCHPOINT_CLV_MARGIN",
        "1.0",
        "Share of revenue counted as customer lifetime value (gross margin, in (0, 1]; 1 counts "
        "revenue).",
    ),
    Setting(
        "clv_discount",
        "TOUCHPOINT_CLV_DISCOUNT",
        "0.10",
        "Annual discount rate of future value in lifetime value, in [0, 1).",
    ),
    Setting(
        "clv_horizon_days",
        "TOUCHPOINT_CLV_HORIZON_DAYS",
        "365",
        "Days ahead that customer lifetime value counts.",
    ),
    Setting(
        "engine",
        "TOUCHPOINT_ENGINE",
        "duckdb",
        "The engine that runs the queries: `duckdb` (embedded, the default) or `spark` "
        "(Apache Spark; needs `pip install 'touchpoint[spark]'` and Java 17).",
    ),
    Setting(
        "spark_master",
        "TOUCHPOINT_SPARK_MASTER",
        "local[*]",
        "With the Spark engine: `local[*]` (this machine), a standalone cluster "
        "(`spark://host:7077`) or a Spark Connect server (`sc://host:15002`).",
    ),
    Setting(
        "allow_unsecured",
        "TOUCHPOINT_ALLOW_UNSECURED",
        "false",
        "Serve without sign-in on an address other than localhost (`true`); refused otherwise.",
    ),
)


@dataclass(frozen=True)
class Settings:
    # The warehouse's local folder: the warehouse itself, or an object-store warehouse's
    # local side (`warehouse_location` then holds its URI).
    warehouse: Path
    sample_on_empty: bool
    max_upload_mb: int
    rollback_days: int
    user: str
    accounts: Path
    session_minutes: int
    min_group: int
    allow_unsecured: bool
    clv_margin: float
    clv_discount: float
    clv_horizon_days: int
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    warehouse_location: str = ""

    def open_warehouse(self) -> Warehouse:
        """The warehouse these settings name."""
        from analytics.warehouse import Warehouse

        return Warehouse(
            self.warehouse_location or self.warehouse,
            rollback_days=self.rollback_days,
            local_dir=self.warehouse,
        )


ENGINES = ("duckdb", "spark")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def load_settings(environ: Mapping[str, str], **overrides: str | None) -> Settings:
    """Read every declared setting from `environ` (then `overrides`), validated with a hint."""
    raw = {s.name: environ.get(s.env, s.default) for s in SETTINGS}
    raw.update({k: v for k, v in overrides.items() if v is not None})
    by_name = {s.name: s for s in SETTINGS}

    def flag(name: str) -> bool:
        value = raw[name].strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(
            f"The setting {by_name[name].env} must be true or false. Got {raw[name]!r} instead."
        )

    def positive_int(name: str) -> int:
        try:
            value = int(raw[name])
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(
                f"The setting {by_name[name].env} must be a whole number >= 1. "
                f"Got {raw[name]!r} instead."
            )
        return value

    def fraction(name: str, *, low_open: bool) -> float:
        try:
            value = float(raw[name])
        except ValueError:
            value = -1.0
        ok = (0 < value <= 1) if low_open else (0 <= value < 1)
        if not ok:
            bounds = "(0, 1]" if low_open else "[0, 1)"
            raise ConfigError(
                f"The setting {by_name[name].env} must be a number in {bounds}. "
                f"Got {raw[name]!r} instead."
            )
        return value

    engine = raw["engine"].strip().lower()
    if engine not in ENGINES:
        raise ConfigError(
            f"The setting TOUCHPOINT_ENGINE must be one of {', '.join(ENGINES)}. "
            f"Got {raw['engine']!r} instead."
        )
    master = raw["spark_master"].strip()
    if not (master.startswith(("local", "spark://", "sc://", "yarn", "k8s://"))):
        raise ConfigError(
            "The setting TOUCHPOINT_SPARK_MASTER must be local[*], a spark:// or sc:// URL "
            f"(or yarn, k8s://...). Got {raw['spark_master']!r} instead."
        )
    location = raw["warehouse"].strip()
    if is_object_store(location):
        location = check_location(location)
        local = Path(raw["local_dir"] or default_local_dir(location)).expanduser()
    else:
        check_location(location)  # a scheme Touchpoint cannot store tables on
        local = Path(location).expanduser()
        location = ""
    return Settings(
        warehouse=local,
        warehouse_location=location,
        sample_on_empty=flag("sample_on_empty"),
        max_upload_mb=positive_int("max_upload_mb"),
        rollback_days=positive_int("rollback_days"),
        user=raw["user"] or _os_user(),
        accounts=Path(raw["accounts"]).expanduser(),
        session_minutes=positive_int("session_minutes"),
        min_group=positive_int("min_group"),
        allow_unsecured=flag("allow_unsecured"),
        clv_margin=fraction("clv_margin", low_open=True),
        clv_discount=fraction("clv_discount", low_open=False),
        clv_horizon_days=positive_int("clv_horizon_days"),
        engine=engine,
        spark_master=master,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
