"""Segments per data version: built once after a load, stored as derived tables, read by
every page and command.

`refresh` builds, for the current versions of customers, orders, surveys and tickets, in the
warehouse's `_segments/` folder:

- `segments-<key>.customers.parquet`: one row per known customer as of the end of the data:
  RFM measures, scores and segment; cluster (a stable id) and its name; the clustering
  features; lifetime value (P(alive) now and 30 days earlier, expected purchases over 90,
  180 and 365 days, CLV over the horizon, value at risk).
- `segments-<key>.facts.parquet`: the counts the customers' facts are made of, from which
  the next segmentation of data that only appends to this one's counts again only the
  customers the new rows can change (`recount`).
- `segments-<key>.quarters.parquet`: every buyer's RFM segment at each quarter end, and
  `.migration.parquet`: the flows between every quarter end and every later one.
- `segments-<key>.summary.parquet`, `.projection.parquet` and `.fading.parquet`: the
  segment table's cells (per method), the Profiles tab's map and the first customers to
  call of a user who sees every customer, computed as any reader computes them from the
  files above: reading every customer for them takes seconds at a million customers, and
  they are the same for all such users.
- `segments-<key>.json` (written last): the reference date, the data versions, the models'
  parameters (lifetime value fits with their covariance, the holdout check, the clusters'
  centres, names, silhouettes) and how long the build took.

A segmentation is named by the dataset versions, the value settings and `LAYOUT`, and is
used only while they are current. Cluster ids are matched to the previous segmentation's
(Hungarian matching on centres) so that names and colours do not jump after a load. Files
are written atomically, builds are serialised across processes by a file lock, and the
latest `KEEP` segmentations stay. Readers narrow rows to the gateway's access.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from analytics import builds, clv
from analytics import definitions as rules
from analytics.errors import ConfigError
from analytics.periods import period_end, period_label, period_start
from analytics.segments import features as feats
from analytics.segments import recount
from analytics.segments.migration import every_migration, quarter_segments
from analytics.segments.rfm import rfm_table
from analytics.warehouse import (
    FULL_ACCESS,
    SEGMENTS_FOLDER,
    QueryGateway,
    Warehouse,
)

if TYPE_CHECKING:
    from analytics.segments.clustering import CustomerClusterer

FOLDER = SEGMENTS_FOLDER
PREFIX = "segments"
KEEP = 3
LAYOUT = 5  # raise with any change to what a segmentation holds
DATASETS_USED = ("customers", "orders", "surveys", "tickets")
HORIZONS = (90, 180, 365)
FADING_DAYS = 30  # P(alive) is compared with its value this many days earlier
HOLDOUT_SHARE = 0.25  # the last quarter of the purchase history checks the purchase model
UNIT_DAYS = 7.0
GRADIENT_PREFIX = "dclv_"  # per-customer CLV gradient columns, for intervals on sums


@dataclass(frozen=True)
class ValueSettings:
    """How lifetime value is counted: margin on revenue, annual discount rate, horizon."""

    margin: float = 1.0
    annual_discount: float = 0.10
    horizon_days: int = 365

    def __post_init__(self) -> None:
        if not 0 < self.margin <= 1:
            raise ConfigError(f"The margin must be in (0, 1]. Got {self.margin!r} instead.")
        if not 0 <= self.annual_discount < 1:
            raise ConfigError(
                f"The annual discount rate must be in [0, 1). Got {self.annual_discount!r} instead."
            )
        if self.horizon_days < 1:
            raise ConfigError(
                f"The horizon must be at least 1 day. Got {self.horizon_days!r} instead."
            )

    def key(self) -> str:
        return f"m{self.margin:g}-d{self.annual_discount:g}-h{self.horizon_days}"

    def model_settings(self) -> dict[str, Any]:
        """These settings as `analytics.clv.customer_value`'s keyword arguments."""
        return {
            "horizon_days": self.horizon_days,
            "margin": self.margin,
            "annual_discount": self.annual_discount,
            "unit_days": UNIT_DAYS,
        }


@dataclass(frozen=True)
class Segmentation:
    """One stored segmentation: where its files are and what its meta file says."""

    folder: Path
    key: str
    meta: dict[str, Any]

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.meta["as_of"])

    def path(self, part: str) -> Path:
        return self.folder / f"segments-{self.key}.{part}.parquet"

    @property
    def clusters(self) -> list[dict[str, Any]]:
        return list(self.meta.get("clusters", {}).get("table", []))


def _versions(
    warehouse: Warehouse, value: ValueSettings, at: builds.Pins | None = None
) -> tuple[str, dict[str, int | None]] | None:
    versions = builds.versions_of(warehouse, DATASETS_USED, at)
    if versions["orders"] is None:
        return None
    return builds.key_of(versions, _suffix(value)), versions


def _suffix(value: ValueSettings) -> str:
    return f"{value.key()}-s{LAYOUT}"


def current(
    warehouse: Warehouse, value: ValueSettings = ValueSettings(), *, at: builds.Pins | None = None
) -> Segmentation | None:
    """The segmentation of the current data (or of the versions pinned `at`), or None when
    it is not built (yet)."""
    named = _versions(warehouse, value, at)
    if named is None:
        return None
    folder = warehouse.root / FOLDER
    meta = builds.read_meta(folder, PREFIX, named[0])
    return None if meta is None else Segmentation(folder, named[0], meta)


def earlier(
    warehouse: Warehouse,
    value: ValueSettings = ValueSettings(),
    *,
    like: builds.Pins | None = None,
) -> Segmentation | None:
    """The latest segmentation with these settings of data the current data only appends to
    (`builds.earlier`, with `like`): what the pages show, saying so, while `current` is
    being built."""
    folder = warehouse.root / FOLDER
    found = builds.earlier(warehouse, folder, PREFIX, _suffix(value), like)
    return None if found is None else Segmentation(folder, *found)


def pending(warehouse: Warehouse, value: ValueSettings = ValueSettings()) -> bool:
    """Whether the current data has orders but no segmentation yet."""
    return _versions(warehouse, value) is not None and current(warehouse, value) is None


def refresh(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    value: ValueSettings = ValueSettings(),
    at: builds.Pins | None = None,
) -> float | None:
    """Build the segmentation of the current data (or of the versions pinned `at`) if it is
    missing; seconds taken, or None when there was nothing to build. Safe to call from
    several processes at once."""
    folder = warehouse.root / FOLDER
    base = (gateway or QueryGateway(warehouse, threads=2)).scoped(FULL_ACCESS)

    def make(key: str, versions: dict[str, int | None]) -> None:
        previous = builds.latest_meta(folder, PREFIX)
        _build(base.at_versions(versions), folder, key, versions, value, previous)

    return builds.build_once(folder, PREFIX, lambda: _versions(warehouse, value, at), make, KEEP)


# ----- building -------------------------------------------------------------------------------


def _build(
    gateway: QueryGateway,
    folder: Path,
    key: str,
    versions: dict[str, int | None],
    value: ValueSettings,
    previous: dict[str, Any] | None,
) -> None:
    started = time.perf_counter()
    first, as_of = gateway.query(
        "SELECT CAST(min(order_date) AS DATE) AS lo, CAST(max(order_date) AS DATE) AS hi "
        "FROM orders"
    ).row(0)
    cutoffs = model_cutoffs(gateway, as_of)
    top = feats.top_channels(gateway, as_of)
    counts, recounted = _counts(gateway, folder, previous, versions, as_of, cutoffs, top)
    facts = feats.finished_facts(counts, cutoffs, top)
    table, meta = segment_frame(gateway, as_of, value=value, previous=previous, facts=facts)
    meta |= {
        "versions": versions,
        "key": key,
        "first": first.isoformat(),
        "facts": recount.basis(as_of, cutoffs, top) | {"recounted": recounted},
    }
    builds.write_parquet(counts, folder / f"{PREFIX}-{key}.{recount.PART}.parquet")
    builds.write_parquet(table, folder / f"{PREFIX}-{key}.customers.parquet")
    quarters, flows = _quarters(gateway, folder, first, as_of, versions, previous, table)
    builds.write_parquet(quarters, folder / f"{PREFIX}-{key}.quarters.parquet")
    builds.write_parquet(flows, folder / f"{PREFIX}-{key}.migration.parquet")
    _write_everyone(gateway, Segmentation(folder, key, meta))
    meta["seconds"] = round(time.perf_counter() - started, 2)
    builds.write_json(meta, folder / f"{PREFIX}-{key}.json")


def _counts(
    gateway: QueryGateway,
    folder: Path,
    previous: dict[str, Any] | None,
    versions: dict[str, int | None],
    as_of: date,
    cutoffs: tuple[date, ...],
    top: list[str],
) -> tuple[pl.DataFrame, int | None]:
    """The counts the customer facts are made of (`features.counted_facts`), and how many
    customers were counted again: from the previous segmentation's counts when the data
    only appends to its data (`recount`), else every customer's (None)."""
    if previous is not None and str(previous.get("key", "")).endswith(f"-s{LAYOUT}"):
        stored = Segmentation(folder, previous["key"], previous).path(recount.PART)
        if stored.exists():
            found = recount.recounted_facts(
                gateway, pl.read_parquet(stored), previous, versions, as_of, cutoffs, top
            )
            if found is not None:
                return found
    return feats.counted_facts(gateway, as_of, cutoffs, top), None


def _quarters(
    gateway: QueryGateway,
    folder: Path,
    first: date,
    as_of: date,
    versions: dict[str, int | None],
    previous: dict[str, Any] | None,
    latest: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The segments at every quarter end and the flows between them. The quarters the
    previous segmentation scored that no order since reaches (orders only appended after
    them: `Warehouse.appended`) are kept with their flows; the others are scored again.
    The last quarter's sums are `latest`'s (the customers' table as of `as_of`)."""
    kept = _kept_quarters(gateway, folder, first, versions, previous)
    if kept is None:
        quarters = quarter_segments(gateway, first, as_of, latest=latest)
        return quarters, every_migration(quarters)
    rows, flows, since = kept
    if since > as_of:  # the same orders: every quarter as it was
        return rows, flows
    scored = quarter_segments(gateway, first, as_of, since=since, latest=latest)
    quarters = pl.concat([rows, scored]).sort("quarter_end", "customer_id")
    after = period_label(since, "quarter")
    flows = pl.concat(
        [flows.filter(pl.col("after") < after), every_migration(quarters, after_from=after)]
    )
    return quarters, flows.sort("before", "after", "from_segment", "to_segment")


def _kept_quarters(
    gateway: QueryGateway,
    folder: Path,
    first: date,
    versions: dict[str, int | None],
    previous: dict[str, Any] | None,
) -> tuple[pl.DataFrame, pl.DataFrame, date] | None:
    """The previous segmentation's quarter-end segments and flows still true of the orders
    now, and the day from whose quarter on they are not (after `as_of` when the orders are
    the same); None when nothing can be kept."""
    if previous is None or not str(previous.get("key", "")).endswith(f"-s{LAYOUT}"):
        return None
    since, until = previous.get("versions", {}).get("orders"), versions["orders"]
    if since is None or until is None or previous.get("first") != first.isoformat():
        return None
    before = Segmentation(folder, previous["key"], previous)
    if not (before.path("quarters").exists() and before.path("migration").exists()):
        return None
    rows, flows = (
        pl.read_parquet(before.path("quarters")),
        pl.read_parquet(before.path("migration")),
    )
    if since == until:
        return rows, flows, date.max
    files = gateway.warehouse.appended("orders", since, until)
    if files is None:
        return None
    earliest = pl.scan_parquet(list(files)).select(pl.col("order_date").min()).collect().item()
    if earliest is None:
        return rows, flows, date.max
    # A quarter is kept when it was whole (not cut at the last data day) and ended before
    # the earliest appended order; the scoring starts again at the quarter after the last.
    complete = rows.filter(pl.col("quarter_end") < earliest)["quarter_end"].unique().sort()
    whole = [end for end in complete if end == period_end(period_start(end, "quarter"), "quarter")]
    if not whole:
        return None
    since_day = whole[-1] + timedelta(days=1)
    return rows.filter(pl.col("quarter_end") < since_day), flows, since_day


def _write_everyone(gateway: QueryGateway, segmentation: Segmentation) -> None:
    """The answers of a user who sees every customer, from the parts written so far and
    read as the pages read them (the meta file, written last, still missing)."""
    # Imported here: they read segmentations, so they import this module.
    from analytics.segments.fading import PART as FADING
    from analytics.segments.fading import fading_rows
    from analytics.segments.profiles import PART as PROJECTION
    from analytics.segments.profiles import projected
    from analytics.segments.summary import PART as SUMMARY
    from analytics.segments.summary import everyone_cells

    builds.write_parquet(everyone_cells(gateway, segmentation), segmentation.path(SUMMARY))
    builds.write_parquet(projected(gateway, segmentation), segmentation.path(PROJECTION))
    builds.write_parquet(fading_rows(gateway, segmentation), segmentation.path(FADING))


def segment_frame(
    gateway: QueryGateway,
    as_of: date,
    *,
    value: ValueSettings = ValueSettings(),
    method: str = "kmeans",
    k: int | None = None,
    previous: dict[str, Any] | None = None,
    facts: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Every known customer's RFM segment, cluster and lifetime value as of `as_of` (the
    stored table's columns), and what the models learned. Read through `gateway` as it is:
    pass an unrestricted one, since segments mean the same for every user. `facts`, when
    given, are `features.customer_facts` as of `as_of` with the `model_cutoffs`."""
    meta: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "value": {
            "margin": value.margin,
            "annual_discount": value.annual_discount,
            "horizon_days": value.horizon_days,
        },
    }
    if facts is None:
        facts = feats.customer_facts(gateway, as_of, model_cutoffs(gateway, as_of))
    table = rfm_table(facts, as_of)
    try:
        table, model_meta = _with_models(gateway, facts, table, as_of, value, previous, method, k)
        meta |= model_meta
    except ConfigError as exc:  # too little data for the models: RFM still stands
        meta["models_skipped"] = str(exc)
        table = table.with_columns(
            cluster=pl.lit(None, dtype=pl.Int64), cluster_name=pl.lit(None, dtype=pl.String)
        )
    return table, meta


def _with_models(
    gateway: QueryGateway,
    facts: pl.DataFrame,
    table: pl.DataFrame,
    as_of: date,
    value: ValueSettings,
    previous: dict[str, Any] | None,
    method: str,
    k: int | None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    summary = feats.purchase_summary(facts, as_of, UNIT_DAYS)
    purchases, spend = fit_models(summary)
    values = lifetime_values(facts, summary, purchases, spend, as_of, value)
    features = feats.clustering_features(facts, as_of, purchases, spend)
    # Imported when building: reading the segmentation (every page) needs no scikit-learn.
    from analytics.segments.clustering import CustomerClusterer

    clusterer = CustomerClusterer(
        method=method, n_clusters=k, init_centres=_previous_centres(previous, method)
    ).fit(feats.feature_matrix(features))
    clusters, cluster_meta = _clusters(clusterer, features, previous)
    joined = (
        table.join(values, on="customer_id", how="left")
        .join(clusters, on="customer_id", how="left")
        .join(
            features.select(
                "customer_id",
                *[pl.col(f.name).alias(f"feature_{f.name}") for f in feats.FEATURES],
            ),
            on="customer_id",
            how="left",
        )
    )
    meta = {
        "purchases": _fit_meta(purchases),
        "spend": _fit_meta(spend),
        "holdout": holdout_check(facts, as_of, calibration_end(gateway, as_of)),
        "clusters": cluster_meta,
    }
    return joined, meta


def _previous_centres(previous: dict[str, Any] | None, method: str) -> np.ndarray | None:
    """The previous segmentation's cluster centres (features' units), when it clustered
    by the same method on the same features: where this one's clustering starts from."""
    clusters = (previous or {}).get("clusters", {})
    names = [f.name for f in feats.FEATURES]
    if clusters.get("method") != method or clusters.get("features") != names:
        return None
    table = clusters.get("table", [])
    if not table:
        return None
    return np.array([[c["centre"][n] for n in names] for c in table], dtype=float)


def fit_models(summary: pl.DataFrame) -> tuple[clv.Fit, clv.Fit]:
    """The BG/NBD (purchases) and Gamma-Gamma (spend) fits of `summary`, side by side: they
    overlap where numpy releases the interpreter's lock."""
    with ThreadPoolExecutor(1) as pool:
        spend = pool.submit(clv.fit_gamma_gamma, summary)
        purchases = clv.fit_bgnbd(summary)  # its complaint first, when both have one
        return purchases, spend.result()


def model_cutoffs(gateway: QueryGateway, as_of: date) -> tuple[date, ...]:
    """The earlier dates the models read purchase histories at: `FADING_DAYS` before `as_of`
    (P(alive) then) and the holdout check's calibration end."""
    return tuple(sorted({as_of - timedelta(days=FADING_DAYS), calibration_end(gateway, as_of)}))


def fit_from_meta(meta: dict[str, Any]) -> clv.Fit:
    """A stored fit (`_fit_meta`) as a `clv.Fit` again."""
    params = meta["params"]
    return clv.Fit(
        tuple(params),
        tuple(float(v) for v in params.values()),
        np.array(meta["log_covariance"], dtype=float),
        float(meta["log_likelihood"]),
        int(meta["n"]),
        bool(meta["converged"]),
    )


def _fit_meta(fit: clv.Fit) -> dict[str, Any]:
    return {
        "params": fit.as_dict(),
        "standard_errors": fit.standard_errors(),
        "log_covariance": fit.log_covariance.tolist(),
        "log_likelihood": fit.log_likelihood,
        "n": fit.n,
        "converged": fit.converged,
    }


def lifetime_values(
    facts: pl.DataFrame,
    summary: pl.DataFrame,
    purchases: clv.Fit,
    spend: clv.Fit,
    as_of: date,
    value: ValueSettings,
) -> pl.DataFrame:
    """Per buyer of `summary`: P(alive) now and `FADING_DAYS` earlier (`facts` holds that
    cut-off), expected purchases over `HORIZONS`, CLV, value at risk and the CLV gradients
    (`GRADIENT_PREFIX`)."""
    x = summary["frequency"].to_numpy().astype(float)
    t_x, T = summary["recency"].to_numpy(), summary["T"].to_numpy()
    columns: dict[str, Any] = {
        "customer_id": summary["customer_id"],
        "p_alive_now": clv.p_alive(purchases, x, t_x, T),
    }
    values = clv.customer_values(
        purchases,
        spend,
        summary,
        horizons=[days / UNIT_DAYS for days in HORIZONS],
        **value.model_settings(),
    )
    for days in HORIZONS:
        columns[f"purchases_{days}d"] = values.purchases[days / UNIT_DAYS]
    columns["clv"] = values.value
    columns |= {f"{GRADIENT_PREFIX}{name}": g for name, g in values.gradients.items()}
    columns["value_at_risk"] = values.if_alive * (1.0 - columns["p_alive_now"])
    frame = pl.DataFrame(columns)
    # P(alive) a month earlier, from the purchases known then: falling means fading.
    earlier = as_of - timedelta(days=FADING_DAYS)
    before = feats.purchase_summary(feats.facts_at(facts, earlier), earlier, UNIT_DAYS)
    xb = before["frequency"].to_numpy().astype(float)
    then = before.select("customer_id").with_columns(
        p_alive_before=pl.Series(
            clv.p_alive(purchases, xb, before["recency"].to_numpy(), before["T"].to_numpy())
        )
    )
    return frame.join(then, on="customer_id", how="left")


def calibration_end(gateway: QueryGateway, as_of: date) -> date:
    """The default end of the purchase model's calibration: the last `HOLDOUT_SHARE` of the
    completed purchase history up to `as_of` is held out."""
    first = gateway.query(
        f"SELECT CAST(min(order_date) AS DATE) AS d FROM orders "
        f"WHERE {rules.sql_rules()['completed']} AND customer_id IS NOT NULL"
    )["d"][0]
    if first is None or first >= as_of:
        return as_of
    return as_of - timedelta(days=int((as_of - first).days * HOLDOUT_SHARE))


def holdout_check(
    facts: pl.DataFrame, as_of: date, calibration_end: date, fit: clv.Fit | None = None
) -> dict[str, Any]:
    """Fit on the history up to `calibration_end` (one of `facts`' cut-offs; or take `fit`,
    made on it), predict the repeat purchases after it up to `as_of`, and compare with what
    happened, per number of calibration repeat purchases (0-6, 7+)."""
    summary = feats.purchase_summary(
        feats.facts_at(facts, calibration_end), calibration_end, UNIT_DAYS
    )
    fit = fit or clv.fit_bgnbd(summary)
    holdout_weeks = (as_of - calibration_end).days / UNIT_DAYS
    x = summary["frequency"].to_numpy().astype(float)
    predicted = clv.expected_purchases(
        fit, holdout_weeks, x, summary["recency"].to_numpy(), summary["T"].to_numpy()
    )
    after = facts.select("customer_id", "purchase_days").join(
        summary.select("customer_id", "frequency"), on="customer_id", how="inner"
    )
    comparison = (
        summary.select("customer_id", "frequency")
        .with_columns(predicted=pl.Series(predicted))
        .join(after.select("customer_id", "purchase_days"), on="customer_id", how="left")
        .with_columns(
            actual=pl.col("purchase_days") - pl.col("frequency") - 1,
            bucket=pl.col("frequency").clip(upper_bound=7),
        )
        .group_by("bucket")
        .agg(
            customers=pl.len(),
            predicted=pl.col("predicted").mean(),
            actual=pl.col("actual").mean(),
        )
        .sort("bucket")
    )
    return {
        "calibration_end": calibration_end.isoformat(),
        "holdout_days": (as_of - calibration_end).days,
        "params": fit.as_dict(),
        "predicted_total": float(predicted.sum()),
        "actual_total": int(
            comparison.select((pl.col("actual") * pl.col("customers")).sum()).item()
        ),
        "by_calibration_purchases": comparison.to_dicts(),
    }


def _clusters(
    clusterer: CustomerClusterer, features: pl.DataFrame, previous: dict[str, Any] | None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    from analytics.segments.clustering import cluster_names, match_clusters

    centres = clusterer.scaler_.inverse_transform(clusterer.cluster_centers_)
    known = (previous or {}).get("clusters", {}).get("table", [])
    names = [f.name for f in feats.FEATURES]
    earlier = (
        np.array([[c["centre"][n] for n in names] for c in known])
        if known
        else np.empty((0, len(names)))
    )
    ids_of = [c["id"] for c in known]
    if known:
        # Compare in the new scaling, so every feature weighs as it does in the clustering.
        scaled_before = clusterer.scaler_.transform(earlier)
        matched = match_clusters(scaled_before, clusterer.cluster_centers_)
        stable = {
            k: ids_of[j] if j < len(ids_of) else max(ids_of) + 1 + j - len(ids_of)
            for k, j in matched.items()
        }
    else:
        stable = {k: k for k in range(clusterer.n_clusters_)}
    profiles = [dict(zip(names, row, strict=True)) for row in clusterer.cluster_centers_]
    titles = cluster_names(profiles)
    labels = np.array([stable[k] for k in clusterer.labels_])
    revenue = features["revenue"].to_numpy()
    table = []
    for k in range(clusterer.n_clusters_):
        members = clusterer.labels_ == k
        table.append(
            {
                "id": stable[k],
                "name": titles[k],
                "customers": int(members.sum()),
                "revenue_share": float(revenue[members].sum() / max(revenue.sum(), 1e-9)),
                "centre": dict(zip(names, centres[k].tolist(), strict=True)),
                "profile": profiles[k],
            }
        )
    table.sort(key=lambda c: c["id"])
    frame = features.select("customer_id").with_columns(
        cluster=pl.Series(labels, dtype=pl.Int64),
        cluster_name=pl.Series([titles[k] for k in clusterer.labels_], dtype=pl.String),
    )
    meta = {
        "method": clusterer.method,
        "started_from_previous": clusterer.started_from_previous_,
        "k_tolerance": clusterer.k_tolerance,
        "k": clusterer.n_clusters_,
        "silhouette": {str(k): v for k, v in clusterer.silhouette_.items()},
        "features": names,
        "table": table,
    }
    return frame, meta
