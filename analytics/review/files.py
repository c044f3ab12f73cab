"""The review's files (HTML, PDF, PPTX) and its replay as of pinned data versions.

Drawing files needs the figures, which live in the dashboard (`analytics` never imports
plotly or the dashboard: DESIGN.md §1). The dashboard offers its renderer through the
`touchpoint.review_files` entry point (pyproject.toml), and this module finds it there, as
pandas finds its plotting backends: the command line writes the very files the Review page
offers for download.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol

from analytics.contract import DATASETS
from analytics.errors import ConfigError
from analytics.review.core import Review
from analytics.warehouse import QueryGateway

FORMATS = ("html", "pdf", "pptx")
GROUP = "touchpoint.review_files"


class Renderer(Protocol):
    def __call__(
        self,
        review: Review,
        file_format: str,
        *,
        audience: str,
        progress: Callable[[float, str], None] | None = None,
    ) -> bytes: ...


def renderer() -> Renderer:
    """The installed renderer of review files."""
    found = entry_points(group=GROUP, name="render")
    if not found:
        raise ConfigError(
            "The review's file formats are not installed. Reinstall Touchpoint "
            "(pip install -e . in its folder, or make run) and try again."
        )
    loaded: Renderer = next(iter(found)).load()
    return loaded


def parse_versions(text: str) -> dict[str, int]:
    """`customers=3,orders=5,...` (as a review prints it) as dataset versions; every
    dataset named must exist and every version be a whole number."""
    pins: dict[str, int] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        if not part.strip():
            continue
        if not sep or name not in DATASETS:
            raise ConfigError(
                f"--as-of-versions takes DATASET=VERSION pairs separated by commas (datasets: "
                f"{', '.join(DATASETS)}), as a review prints them. {part.strip()!r} is not one."
            )
        try:
            pins[name] = int(value)
        except ValueError:
            raise ConfigError(
                f"--as-of-versions: the version of {name} must be a whole number, not {value!r}."
            ) from None
    if not pins:
        raise ConfigError("--as-of-versions names no dataset version.")
    return pins


def pinned(gateway: QueryGateway, pins: dict[str, int]) -> QueryGateway:
    """`gateway` reading the datasets as of `pins`; a version that was never committed is
    named with the ones there are."""
    warehouse = gateway.warehouse
    for name, version in pins.items():
        latest = warehouse.version(name)
        if latest is None or not 0 <= version <= latest:
            there = "none" if latest is None else f"0 to {latest}"
            raise ConfigError(f"There is no version {version} of {name}: its versions are {there}.")
        try:
            kept = all(warehouse.store.exists(f) for f in warehouse.files(name, version))
        except Exception:  # the log entry itself is gone
            kept = False
        if not kept:
            raise ConfigError(
                f"Version {version} of {name} can no longer be read: its files were removed "
                f"when they passed the rollback window ({warehouse.rollback_days} days)."
            )
    return gateway.at_versions(pins)
