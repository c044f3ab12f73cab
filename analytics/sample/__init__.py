"""A seeded sample company across the five canonical datasets, with planted truths.

`write_sample_company` writes the exports a real company would hand over (a CRM CSV, a shop's
semicolon CSV, a Qualtrics export, a help-desk CSV and a Parquet event log); `sample_company`
returns the same company as canonical frames together with its ground truth, and
`planted_groups` returns each customer's planted behavioural group. The planted truths and
their numbers are documented in `data/sample/README.md`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from analytics.errors import ConfigError
from analytics.sample import exports
from analytics.sample.company import SampleCompany, generate_company, generate_groups
from analytics.sample.profiles import (
    ACQUISITION,
    GROUPS,
    MONTH_SEASONALITY,
    PROSPECT,
    RATING_ATTRIBUTES,
    AcquisitionChannel,
    GroupProfile,
)
from analytics.sample.vocabulary import DELIVERY_THEME_PATTERN, STAGES, TOUCHPOINT_STAGE

__all__ = [
    "ACQUISITION",
    "DELIVERY_THEME_PATTERN",
    "GROUPS",
    "MONTH_SEASONALITY",
    "PROSPECT",
    "RATING_ATTRIBUTES",
    "SAMPLE_FILES",
    "STAGES",
    "TOUCHPOINT_STAGE",
    "AcquisitionChannel",
    "GroupProfile",
    "SampleCompany",
    "SampleFile",
    "planted_groups",
    "sample_company",
    "write_sample_company",
]

DEFAULT_CUSTOMERS = 20_000
DEFAULT_SEED = 7
DEFAULT_YEARS = 3
DEFAULT_END = date(2025, 12, 31)


@dataclass(frozen=True)
class SampleFile:
    """One written export and the canonical dataset it holds."""

    path: Path
    dataset: str


# File name -> dataset, in load order (customers first, so that orphans can be checked).
SAMPLE_FILES: dict[str, str] = {
    "crm_customers.csv": "customers",
    "shop_orders.csv": "orders",
    "survey_export.csv": "surveys",
    "helpdesk_tickets.csv": "tickets",
    "touchpoint_events.parquet": "events",
}

_WRITERS: dict[str, Callable[[SampleCompany, Path], None]] = {
    "crm_customers.csv": exports.write_crm_customers,
    "shop_orders.csv": exports.write_shop_orders,
    "survey_export.csv": exports.write_survey_export,
    "helpdesk_tickets.csv": exports.write_helpdesk_tickets,
    "touchpoint_events.parquet": exports.write_touchpoint_events,
}


def write_sample_company(
    out_dir: Path,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    years: int = DEFAULT_YEARS,
    end: date = DEFAULT_END,
) -> list[SampleFile]:
    """Write the sample company's five exports into `out_dir` (created when missing).

    Parameters
    ----------
    out_dir : Path
        Folder to write into; existing files of the same names are replaced.
    customers : int, default 20_000
        CRM contacts, in [50, 5_000_000]; about 80 % of them ever buy.
    seed : int, default 7
        Seed of `numpy.random.default_rng`; the same arguments give byte-identical files.
    years : int, default 3
        Length of the window in years, in [2, 10].
    end : datetime.date, default 2025-12-31
        Last day of the window.

    Returns
    -------
    list of SampleFile
        The written files in `SAMPLE_FILES` (load) order.
    """
    _validate("write_sample_company", customers, seed, years, end)
    company = generate_company(customers, seed, years, end)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dataset in SAMPLE_FILES.items():
        path = folder / name
        _WRITERS[name](company, path)
        written.append(SampleFile(path=path, dataset=dataset))
    return written


def sample_company(
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    years: int = DEFAULT_YEARS,
    end: date = DEFAULT_END,
) -> SampleCompany:
    """The same company as `write_sample_company` writes, as canonical frames with its truth.

    Frames use the canonical column names of `analytics.contract`; the survey rating
    attributes are named as ingest keeps them (`attr_delivery_speed_rating`, ...).
    """
    _validate("sample_company", customers, seed, years, end)
    return generate_company(customers, seed, years, end)


def planted_groups(
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    *,
    years: int = DEFAULT_YEARS,
    end: date = DEFAULT_END,
) -> pl.DataFrame:
    """Planted group of every customer: columns customer_id, group, acquisition_channel.

    `group` is one of the `GROUPS` names or "prospect" (a contact who never buys). The exports
    never contain it; tests compare segmentations against it.
    """
    _validate("planted_groups", customers, seed, years, end)
    return generate_groups(customers, seed, years, end)


def _validate(caller: str, customers: int, seed: int, years: int, end: date) -> None:
    _check_int(caller, "customers", customers, 50, 5_000_000)
    _check_int(caller, "seed", seed, 0, None)
    _check_int(caller, "years", years, 2, 10)
    if not isinstance(end, date) or isinstance(end, datetime):
        raise ConfigError(
            f"The 'end' parameter of {caller} must be an instance of 'datetime.date'. "
            f"Got {end!r} instead."
        )


def _check_int(caller: str, name: str, value: object, low: int, high: int | None) -> None:
    in_range = (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )
    if not in_range:
        bounds = f"[{low}, inf)" if high is None else f"[{low}, {high}]"
        raise ConfigError(
            f"The '{name}' parameter of {caller} must be an int in the range {bounds}. "
            f"Got {value!r} instead."
        )
