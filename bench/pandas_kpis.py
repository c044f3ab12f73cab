"""The baseline: every KPI by quarter from a warehouse's Parquet files, with pandas 3.

    .venv/bin/python bench/pandas_kpis.py bench/out/kpis_1000000_1 > values.json

What a data team would write instead of Touchpoint: list each Delta table's files, read the
columns needed with pandas (pyarrow engine and dtypes), and compute the 18 KPIs of
docs/metrics.md per calendar quarter of the data, written independently of Touchpoint's code.
Prints one JSON object {kpi: {period: value}}; `bench/kpis_cli.py` times it as a whole process
against `python -m analytics kpis --period quarter` and checks that every value agrees.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from deltalake import DeltaTable


def read(root: Path, name: str, columns: list[str]) -> pd.DataFrame:
    files = DeltaTable(str(root / name)).file_uris()
    parts = [pd.read_parquet(f, columns=columns, dtype_backend="pyarrow") for f in files]
    return pd.concat(parts, ignore_index=True)


def quarter(column: pd.Series) -> pd.Series:
    """Quarter index (year * 4 + quarter - 1): integers group far faster than labels."""
    return column.dt.year.astype("int64") * 4 + (column.dt.month.astype("int64") - 1) // 3


def label(index: int) -> str:
    return f"{index // 4}-Q{index % 4 + 1}"


def ratio(part: pd.Series, whole: pd.Series, scale: float = 100.0) -> pd.Series:
    whole = whole.astype("float64")
    return (scale * part.astype("float64") / whole).where(whole > 0)


def kpis(root: Path) -> dict[str, dict[str, float | None]]:
    orders = read(root, "orders", ["customer_id", "order_date", "amount", "status"])
    surveys = read(root, "surveys", ["responded_at", "nps", "csat", "ces"])
    tickets = read(root, "tickets", ["opened_at", "first_response_at", "resolved_at", "csat"])
    out: dict[str, pd.Series] = {}

    # Orders: completed unless returned or cancelled (no status counts as completed).
    status = orders["status"].fillna("completed")
    orders["q"] = quarter(orders["order_date"])
    done = orders[~status.isin(["returned", "cancelled"])]
    periods = sorted(orders["q"].dropna().unique())
    by_q = done.groupby("q")
    revenue = by_q["amount"].sum().reindex(periods, fill_value=0.0)
    count = by_q.size().reindex(periods, fill_value=0)
    returned = orders[status.eq("returned")].groupby("q").size().reindex(periods, fill_value=0)
    out["revenue"], out["orders"] = revenue, count.astype("float64")
    out["aov"] = ratio(revenue, count, 1.0)
    out["return_rate"] = ratio(returned, count + returned)

    # Customers per quarter: active, new, repeat, retained, and their value to date.
    per_customer = done.groupby(["customer_id", "q"], observed=True).agg(
        n=("amount", "size"), rev=("amount", "sum")
    )
    per_customer = per_customer.reset_index().sort_values(["customer_id", "q"])
    per_customer["orders_to_date"] = per_customer.groupby("customer_id")["n"].cumsum()
    per_customer["value_to_date"] = per_customer.groupby("customer_id")["rev"].cumsum()
    index = {p: i for i, p in enumerate(periods)}
    per_customer["k"] = per_customer["q"].map(index)
    per_customer["previous_k"] = per_customer.groupby("customer_id")["k"].shift(1)
    grouped = per_customer.groupby("q")
    active = grouped.size().reindex(periods, fill_value=0)
    first = per_customer.drop_duplicates("customer_id")
    new = first.groupby("q").size().reindex(periods, fill_value=0)
    repeaters = (
        per_customer[per_customer["orders_to_date"] >= 2]
        .groupby("q")
        .size()
        .reindex(periods, fill_value=0)
    )
    retained = (
        per_customer[per_customer["previous_k"] == per_customer["k"] - 1]
        .groupby("q")
        .size()
        .reindex(periods, fill_value=0)
    )
    previous_active = active.shift(1, fill_value=0)
    out["active_customers"] = active.astype("float64")
    out["new_customers"] = new.astype("float64")
    out["repeat_purchase_rate"] = ratio(repeaters, active)
    out["retention_rate"] = ratio(retained, previous_active)
    out["churn_rate"] = ratio(previous_active - retained, previous_active)
    # Historical value at each quarter's end: every customer's revenue to date, carried
    # forward through the quarters they bought nothing in.
    wide = per_customer.pivot(index="customer_id", columns="q", values="value_to_date")
    wide = wide.reindex(columns=periods).astype("float64").ffill(axis=1)
    out["clv_historical"] = wide.mean(axis=0)

    # Surveys.
    surveys["q"] = quarter(surveys["responded_at"])
    answers = surveys.groupby("q")
    scored = answers["nps"].count()
    promoters = surveys[surveys["nps"] >= 9].groupby("q").size()
    detractors = surveys[surveys["nps"] <= 6].groupby("q").size()
    survey_periods = scored.index
    out["nps"] = ratio(
        promoters.reindex(survey_periods, fill_value=0)
        - detractors.reindex(survey_periods, fill_value=0),
        scored,
    )
    satisfied = surveys[surveys["csat"] >= 4].groupby("q").size()
    out["csat"] = ratio(satisfied.reindex(survey_periods, fill_value=0), answers["csat"].count())
    out["ces"] = answers["ces"].mean().astype("float64")
    out["responses"] = answers.size().astype("float64")

    # Tickets: medians of the hours to the first response and to resolution.
    tickets["q"] = quarter(tickets["opened_at"])
    opened = tickets["opened_at"].astype("datetime64[us]")
    for key, column in (
        ("first_response_hours", "first_response_at"),
        ("resolution_hours", "resolved_at"),
    ):
        seconds = (tickets[column].astype("datetime64[us]") - opened).dt.total_seconds()
        hours = pd.DataFrame({"q": tickets["q"], "h": seconds / 3600.0})
        out[key] = hours[hours["h"] >= 0].groupby("q")["h"].median().astype("float64")
    by_ticket = tickets.groupby("q")
    out["tickets"] = by_ticket.size().astype("float64")
    rated_ok = tickets[tickets["csat"] >= 4].groupby("q").size()
    out["ticket_csat"] = ratio(
        rated_ok.reindex(by_ticket.size().index, fill_value=0), by_ticket["csat"].count()
    )

    return {
        key: {
            label(int(p)): (None if v is None or not np.isfinite(v) else float(v))
            for p, v in series.astype("float64").items()
        }
        for key, series in out.items()
    }


if __name__ == "__main__":
    json.dump(kpis(Path(sys.argv[1])), sys.stdout)
