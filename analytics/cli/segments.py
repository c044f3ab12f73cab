"""Segment commands: customers' segments (RFM or clusters), segment migration, and the
lifetime-value models.

Without `--as-of`, `--k` or `--method gmm`, `segments` reads the segmentation stored for the
current data (building it first when a load came since); otherwise it computes one on the
spot. Customer-level output is for analysts and admins (viewers get `--summary`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from analytics import clv, derived, segments
from analytics.accounts import AccountStore
from analytics.cli.common import (
    add_command,
    date_arg,
    filters_from,
    format_arg,
    gateway_for,
    print_frame,
    record_export,
)
from analytics.errors import ConfigError
from analytics.segments import features as feats
from analytics.segments import store
from analytics.segments.store import UNIT_DAYS, segment_frame
from analytics.settings import load_settings
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse

CLUSTER_METHODS = ("kmeans", "gmm")
RFM_COLUMNS = [
    "customer_id",
    "segment",
    "r",
    "f",
    "m",
    "recency_days",
    "frequency",
    "monetary",
    "revenue",
    "tenure_days",
    "discount_share",
]


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "segments",
        _cmd_segments,
        "Customers' segments (RFM or behavioural clusters), or how they migrated.",
    )
    p.add_argument(
        "view",
        nargs="?",
        choices=["migration"],
        help="'migration': the RFM transition matrix between two quarter ends",
    )
    p.add_argument(
        "--method",
        choices=["rfm", *CLUSTER_METHODS],
        default="rfm",
        help="RFM segments (rfm), or clusters by KMeans (kmeans) or a Gaussian mixture (gmm)",
    )
    p.add_argument("--k", type=int, metavar="K", help="clusters (default: chosen by silhouette)")
    p.add_argument(
        "--as-of", type=date_arg, metavar="DATE", help="reference date (default: end of data)"
    )
    p.add_argument(
        "--summary", action="store_true", help="one record per segment instead of per customer"
    )
    p.add_argument(
        "--from", dest="before", metavar="QUARTER", help="migration: from this quarter (2025-Q1)"
    )
    p.add_argument(
        "--to", dest="after", metavar="QUARTER", help="migration: to this quarter (2025-Q2)"
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="keep only customers with this value (repeat for more)",
    )
    p.add_argument("--as-user", metavar="NAME", help="on behalf of this local account")
    p.add_argument("--docs", metavar="PATH", help="write the segment rules (docs/segments.md)")
    format_arg(p, csv=True)

    p = add_command(sub, "clv", _cmd_clv, "Fit the lifetime-value models (BG/NBD and Gamma-Gamma).")
    p.add_argument(
        "--calibration-end",
        type=date_arg,
        metavar="DATE",
        help="fit on purchases up to this day; the rest checks the fit (default: the last "
        "quarter of the purchase history is held out)",
    )
    p.add_argument("--horizon-days", type=int, metavar="N", help="CLV horizon (settings: 365)")
    p.add_argument("--customers", action="store_true", help="add every customer's predictions")
    p.add_argument("--as-user", metavar="NAME", help="on behalf of this local account")
    p.add_argument("--format", choices=["json"], default="json", help="output format")


def _cmd_segments(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    if args.docs:
        with open(args.docs, "w", encoding="utf-8") as out:
            out.write(segments.rfm.render_markdown())
        return 0
    args.start = args.end = None  # membership is as of a date, not over a range
    filters = filters_from(args)
    gateway = gateway_for(args, warehouse)
    settings = load_settings(os.environ)
    value = derived.value_settings(settings)
    if args.view == "migration":
        return _migration(args, warehouse, user, gateway, filters, value)
    if args.before or args.after:
        raise ConfigError("--from and --to belong to `segments migration`.")
    method = "rfm" if args.method == "rfm" else "cluster"
    stored = args.as_of is None and args.k is None and args.method != "gmm"
    if stored:
        segmentation = _stored(warehouse, value, quiet=args.format != "table")
        people = segments.segment_customers(gateway, segmentation, filters, method)
        if args.summary:
            table = segments.segment_summary(gateway, segmentation, filters, method)
            print_frame(table, args.format, empty="No customers.")
            record_export(args, warehouse, user, "segments summary", table.height)
            return 0
    else:
        if args.summary:
            raise ConfigError("--summary reads the stored segmentation: leave out --as-of, --k.")
        people = _computed(args, warehouse, gateway, filters, value)
    _require_customer_rights(args)
    if method == "rfm":
        table = people.select(RFM_COLUMNS)
    else:
        table = people.select(
            "customer_id",
            "segment",
            "cluster",
            *[f"feature_{f.name}" for f in feats.FEATURES],
            "orders" if "orders" in people.columns else "frequency",
            "revenue",
        )
    print_frame(table, args.format, empty="No customers.")
    record_export(args, warehouse, user, "segments", table.height)
    return 0


def _stored(
    warehouse: Warehouse, value: segments.ValueSettings, *, quiet: bool
) -> segments.Segmentation:
    found = segments.current(warehouse, value)
    if found is None:
        if not quiet:
            print("Segmenting the current data (once per load)…", file=sys.stderr)
        segments.refresh(warehouse, value=value)
        found = segments.current(warehouse, value)
    if found is None:
        raise ConfigError("There are no orders to segment yet. Load orders first.")
    return found


def _computed(
    args: argparse.Namespace,
    warehouse: Warehouse,
    gateway: QueryGateway,
    filters: Any,
    value: segments.ValueSettings,
) -> pl.DataFrame:
    """A segmentation computed on the spot (another date, k or method), narrowed as a stored
    one is read."""
    everyone = gateway.scoped(FULL_ACCESS)
    as_of = args.as_of or _last_order(everyone)
    method = args.method if args.method in CLUSTER_METHODS else "kmeans"
    frame, meta = segment_frame(everyone, as_of, value=value, method=method, k=args.k)
    if args.method in CLUSTER_METHODS and "models_skipped" in meta:
        raise ConfigError(f"Cannot cluster: {meta['models_skipped']}")
    visible = set(segments.visible_customer_ids(gateway, filters, as_of))
    frame = frame.filter(pl.col("customer_id").is_in(visible))
    if args.method == "rfm":
        return frame.with_columns(segment=pl.col("rfm_segment"))
    return frame.with_columns(segment=pl.col("cluster_name").fill_null(segments.UNCLUSTERED))


def _last_order(gateway: QueryGateway) -> date:
    last = gateway.query("SELECT CAST(max(order_date) AS DATE) AS d FROM orders")["d"][0]
    if last is None:
        raise ConfigError("There are no orders to segment yet. Load orders first.")
    return date.fromisoformat(str(last))


def _require_customer_rights(args: argparse.Namespace) -> None:
    if not args.as_user:
        return
    account = AccountStore(load_settings(os.environ).accounts).require(args.as_user)
    if not account.can("export_customers"):
        raise ConfigError(
            f"{account.name} is a {account.role}: customer-level output is for analysts and "
            "admins. Use `segments --summary` for one record per segment."
        )


def _migration(
    args: argparse.Namespace,
    warehouse: Warehouse,
    user: str,
    gateway: QueryGateway,
    filters: Any,
    value: segments.ValueSettings,
) -> int:
    if not args.before or not args.after:
        raise ConfigError("`segments migration` needs --from QUARTER and --to QUARTER.")
    segmentation = _stored(warehouse, value, quiet=args.format != "table")
    table = segments.segment_migration(gateway, segmentation, args.before, args.after, filters)
    print_frame(table, args.format, empty="No customers in those quarters.")
    record_export(args, warehouse, user, "segment migration", table.height)
    return 0


def _cmd_clv(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    settings = load_settings(os.environ)
    value = derived.value_settings(settings)
    if args.horizon_days is not None:
        value = segments.ValueSettings(value.margin, value.annual_discount, args.horizon_days)
    everyone = gateway_for(args, warehouse).scoped(FULL_ACCESS)
    as_of = _last_order(everyone)
    calibration_end = args.calibration_end or store.calibration_end(everyone, as_of)
    if calibration_end > as_of:
        raise ConfigError(
            f"The calibration end {calibration_end} is after the last order ({as_of})."
        )
    facts = feats.customer_facts(everyone, as_of, (calibration_end,))
    known = feats.purchase_summary(
        feats.facts_at(facts, calibration_end), calibration_end, UNIT_DAYS
    )
    purchases, spend = clv.fit_bgnbd(known), clv.fit_gamma_gamma(known)
    holdout = store.holdout_check(facts, as_of, calibration_end, purchases)
    output: dict[str, Any] = purchases.as_dict() | spend.as_dict()
    output["standard_errors"] = purchases.standard_errors() | spend.standard_errors()
    output["calibration_end"] = calibration_end.isoformat()
    output["unit_days"] = UNIT_DAYS
    output["holdout"] = holdout if calibration_end < as_of else None
    if args.customers:
        _require_customer_rights(args)
        visible = set(
            segments.visible_customer_ids(gateway_for(args, warehouse), segments.EVERYONE, as_of)
        )
        output["customers"] = _predictions(known, purchases, spend, value, visible)
    print(json.dumps(output, indent=2, default=str))
    record_export(args, warehouse, user, "clv", len(output.get("customers", [])))
    return 0


def _predictions(
    summary: pl.DataFrame,
    purchases: clv.Fit,
    spend: clv.Fit,
    value: segments.ValueSettings,
    visible: set[str],
) -> list[dict[str, Any]]:
    x = summary["frequency"].to_numpy().astype(float)
    t_x, T = summary["recency"].to_numpy(), summary["T"].to_numpy()
    columns: dict[str, Any] = {
        "p_alive": clv.p_alive(purchases, x, t_x, T),
        **{
            f"purchases_{days}d": clv.expected_purchases(purchases, days / UNIT_DAYS, x, t_x, T)
            for days in (90, 180, 365)
        },
        "expected_spend": clv.expected_spend(spend, x, summary["monetary"].to_numpy()),
        "clv": clv.customer_value(purchases, spend, summary, **value.model_settings()),
    }
    frame = summary.with_columns(
        **{name: pl.Series(np.asarray(values, dtype=float)) for name, values in columns.items()}
    ).filter(pl.col("customer_id").is_in(visible))
    return frame.to_dicts()
