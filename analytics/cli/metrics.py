"""Metric commands: KPIs by period, cohort retention, and the KPI definitions."""

from __future__ import annotations

import argparse
from pathlib import Path

from analytics.cli.common import (
    add_command,
    filters_from,
    format_arg,
    gateway_for,
    print_frame,
    record_export,
    scope_args,
)
from analytics.cohorts import cohort_table
from analytics.kpis import KPI_BY_KEY, trend
from analytics.kpis import render_markdown as render_metrics
from analytics.periods import GRAINS
from analytics.warehouse import Warehouse


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "kpis", _cmd_kpis, "KPIs by period, with sample sizes and 95%% intervals.")
    p.add_argument("--period", choices=list(GRAINS), default="month", help="period (month)")
    scope_args(p)
    p.add_argument(
        "--kpi",
        action="extend",
        nargs="+",
        metavar="KEY",
        help=f"KPIs to compute (default: all): {', '.join(KPI_BY_KEY)}",
    )
    format_arg(p, csv=True)

    p = add_command(
        sub, "cohorts", _cmd_cohorts, "Cohort retention: customers or revenue by cohort."
    )
    p.add_argument("--period", choices=["month", "quarter"], default="month")
    p.add_argument("--measure", choices=["customers", "revenue"], default="customers")
    scope_args(p)
    format_arg(p, csv=True)

    p = add_command(sub, "metrics", _cmd_metrics, "Print the KPI definitions (docs/metrics.md).")
    p.add_argument("--write", type=Path, help="write it to this file instead")


_KPI_COLUMNS = ["kpi", "period", "group", "value", "n", "ci_low", "ci_high", "hidden"]


def _cmd_kpis(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    filters = filters_from(args)
    keys = args.kpi or list(KPI_BY_KEY)
    table = trend(gateway_for(args, warehouse), keys, filters, args.period, by=args.by)
    if args.format == "table":
        table = table.select(
            "kpi",
            "period",
            "group",
            "value",
            "n",
            "ci_low",
            "ci_high",
            "delta",
            "delta_significant",
            "hidden",
        )
        if args.by is None:
            table = table.drop("group")
        if table["hidden"].null_count() == table.height:
            table = table.drop("hidden")
    else:
        table = table.select(_KPI_COLUMNS)
    print_frame(table, args.format, empty="No data in that range.")
    record_export(args, warehouse, user, "kpis", table.height)
    return 0


def _cmd_cohorts(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    table = cohort_table(
        gateway_for(args, warehouse), filters_from(args), args.period, args.measure, by=args.by
    )
    if args.by is None and args.format == "table":
        table = table.drop("group")
    if args.format == "table" and table["hidden"].null_count() == table.height:
        table = table.drop("hidden")
    print_frame(table, args.format, empty="No completed orders in that range.")
    record_export(args, warehouse, user, "cohorts", table.height)
    return 0


def _cmd_metrics(args: argparse.Namespace, warehouse: Warehouse, user: str) -> int:
    text = render_metrics()
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0
