"""The data contract: the five canonical datasets every export is mapped onto (DESIGN.md §2).

Rules are data: each column declares its kind, whether it is required, its range or allowed
values, and the header synonyms that map an export's columns onto it automatically.
`docs/data-contract.md` is generated from this module (`python -m analytics contract`) and a
test fails when the two drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import polars as pl

from analytics.definitions import (
    CES_SCALE,
    COMPLETED,
    CSAT_SCALE,
    NOT_COMPLETED,
    NPS_SCALE,
)
from analytics.errors import WarehouseError

ColumnKind = Literal["id", "text", "category", "date", "datetime", "int", "float"]

POLARS_TYPES: dict[str, pl.DataType] = {
    "id": pl.String(),
    "text": pl.String(),
    "category": pl.String(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "int": pl.Int64(),
    "float": pl.Float64(),
}


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, kind, rules and the headers that mean it."""

    name: str
    kind: ColumnKind
    description: str
    required: bool = False
    synonyms: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] = ()

    @property
    def dtype(self) -> pl.DataType:
        return POLARS_TYPES[self.kind]

    @property
    def rule_text(self) -> str:
        parts = []
        if self.minimum is not None and self.maximum is not None:
            lo, hi = _fmt_bound(self.minimum), _fmt_bound(self.maximum)
            parts.append(f"{lo}–{hi}")
        elif self.minimum is not None:
            parts.append(f">= {_fmt_bound(self.minimum)}")
        if self.kind == "float":
            parts.append("finite")
        if self.allowed:
            parts.append("one of " + ", ".join(f"`{a}`" for a in self.allowed))
        return "; ".join(parts)


def _fmt_bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Dataset:
    """One canonical dataset: its columns, unique key and cross-column rules."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str | None
    time_column: str
    derive_key: bool = False
    references_customers: bool = True
    at_least_one_of: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}


# Order statuses as exported by shops, mapped onto the three the contract knows.
STATUS_SYNONYMS: dict[str, str] = {
    "completed": "completed",
    "complete": "completed",
    "paid": "completed",
    "shipped": "completed",
    "delivered": "completed",
    "fulfilled": "completed",
    "closed": "completed",
    "ok": "completed",
    "returned": "returned",
    "return": "returned",
    "refunded": "returned",
    "refund": "returned",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "cancel": "cancelled",
    "void": "cancelled",
    "voided": "cancelled",
}

_CUSTOMER_ID_SYNONYMS = (
    "customer id",
    "customerid",
    "cust_id",
    "cust id",
    "customer",
    "customer number",
    "customer no",
    "client",
    "client id",
    "clientid",
    "account id",
    "contact id",
    "user id",
    "userid",
    "member id",
    "external data reference",
    "externalreference",
    "requester id",
    "shopper id",
)

CUSTOMERS = Dataset(
    name="customers",
    description="One row per customer, from the CRM.",
    key="customer_id",
    time_column="signup_date",
    references_customers=False,
    columns=(
        Column("customer_id", "id", "Unique customer identifier.", True, _CUSTOMER_ID_SYNONYMS),
        Column(
            "signup_date",
            "date",
            "Date the customer signed up or was created.",
            synonyms=(
                "signup",
                "sign up date",
                "signed up",
                "created",
                "created at",
                "created date",
                "creation date",
                "registration date",
                "registered",
                "customer since",
                "join date",
                "joined",
                "first seen",
            ),
        ),
        Column(
            "name",
            "text",
            "Customer's full name.",
            synonyms=("full name", "customer name", "client name", "contact name", "fullname"),
        ),
        Column(
            "email",
            "text",
            "E-mail address.",
            synonyms=("e-mail", "email address", "e-mail address", "mail", "contact email"),
        ),
        Column(
            "phone",
            "text",
            "Phone number.",
            synonyms=("phone number", "telephone", "tel", "mobile", "mobile phone", "cell"),
        ),
        Column(
            "country",
            "category",
            "Country (name or ISO code).",
            synonyms=("country code", "country name", "nation", "billing country"),
        ),
        Column(
            "region",
            "category",
            "Sales or geographic region.",
            synonyms=("sales region", "area", "territory", "geo", "market"),
        ),
        Column("city", "category", "City.", synonyms=("town", "billing city", "locality")),
        Column(
            "plan",
            "category",
            "Plan, tier or membership level.",
            synonyms=("tier", "subscription", "membership", "plan name", "package", "level"),
        ),
        Column(
            "acquisition_channel",
            "category",
            "Channel through which the customer was acquired.",
            synonyms=(
                "acquisition",
                "source",
                "lead source",
                "signup source",
                "utm source",
                "utm_source",
                "referral source",
                "marketing channel",
                "first touch channel",
                "acquisition source",
            ),
        ),
        Column(
            "birth_year",
            "int",
            "Year of birth.",
            synonyms=("year of birth", "yob", "born", "birthyear"),
            minimum=1900,
            maximum=2030,
        ),
        Column("gender", "category", "Gender as recorded.", synonyms=("sex",)),
    ),
)

ORDERS = Dataset(
    name="orders",
    description="One row per order, from the shop or billing system.",
    key="order_id",
    time_column="order_date",
    derive_key=True,
    columns=(
        Column(
            "order_id",
            "id",
            "Unique order identifier (derived deterministically, with a warning, when absent).",
            True,
            (
                "order id",
                "orderid",
                "order number",
                "order no",
                "order #",
                "order",
                "invoice",
                "invoice id",
                "invoice number",
                "invoice no",
                "transaction id",
                "transactionid",
                "txn id",
                "purchase id",
            ),
        ),
        Column("customer_id", "id", "Customer who placed the order.", True, _CUSTOMER_ID_SYNONYMS),
        Column(
            "order_date",
            "date",
            "Date the order was placed.",
            True,
            (
                "date",
                "order date",
                "ordered at",
                "order time",
                "purchase date",
                "purchased at",
                "transaction date",
                "invoice date",
                "created at",
                "created",
                "order datetime",
                "orderdate",
            ),
        ),
        Column(
            "amount",
            "float",
            "Gross order value in currency units.",
            True,
            (
                "total",
                "order total",
                "amount",
                "revenue",
                "value",
                "order value",
                "gross",
                "gross amount",
                "sales",
                "price",
                "total price",
                "grand total",
                "net sales",
                "total amount",
                "amount (gross)",
                "sum",
            ),
        ),
        Column(
            "quantity",
            "int",
            "Number of items.",
            synonyms=("qty", "units", "items", "item count", "quantity ordered", "count"),
            minimum=0,
        ),
        Column(
            "product",
            "text",
            "Product name or SKU.",
            synonyms=("product name", "item", "item name", "sku", "article", "product id"),
        ),
        Column(
            "product_category",
            "category",
            "Product category.",
            synonyms=("category", "product type", "department", "product group", "item category"),
        ),
        Column(
            "channel",
            "category",
            "Sales channel (web, store, app, ...).",
            synonyms=("sales channel", "order channel", "source channel", "store type"),
        ),
        Column(
            "status",
            "category",
            "Order status; shop words such as `refunded` or `canceled` are mapped.",
            synonyms=("order status", "state", "fulfillment status", "payment status"),
            allowed=(COMPLETED, *NOT_COMPLETED),
        ),
        Column(
            "discount",
            "float",
            "Discount granted, in currency units.",
            synonyms=("discount amount", "discounts", "rebate", "coupon value", "markdown"),
            minimum=0,
        ),
    ),
)

SURVEYS = Dataset(
    name="surveys",
    description="One row per survey response (NPS, CSAT and/or CES), from the survey tool.",
    key="response_id",
    time_column="responded_at",
    at_least_one_of=("nps", "csat", "ces"),
    columns=(
        Column(
            "response_id",
            "id",
            "Unique response identifier.",
            True,
            (
                "responseid",
                "response id",
                "respondent id",
                "respondentid",
                "survey response id",
                "submission id",
                "answer id",
            ),
        ),
        Column(
            "customer_id",
            "id",
            "Customer who answered; may be empty for anonymous responses.",
            synonyms=_CUSTOMER_ID_SYNONYMS,
        ),
        Column(
            "responded_at",
            "datetime",
            "When the response was submitted.",
            True,
            (
                "recordeddate",
                "recorded date",
                "enddate",
                "end date",
                "submitted at",
                "submitted",
                "submission date",
                "date submitted",
                "response date",
                "responded",
                "completed at",
                "date",
                "timestamp",
                "created at",
            ),
        ),
        Column(
            "nps",
            "int",
            "Likelihood to recommend, 0–10.",
            synonyms=(
                "nps score",
                "nps_score",
                "q1_nps",
                "likelihood to recommend",
                "recommend",
                "how likely are you to recommend us to a friend or colleague?",
                "net promoter score",
                "ltr",
                "nps rating",
            ),
            minimum=NPS_SCALE[0],
            maximum=NPS_SCALE[1],
        ),
        Column(
            "csat",
            "int",
            "Satisfaction, 1–5.",
            synonyms=(
                "csat score",
                "satisfaction",
                "overall satisfaction",
                "customer satisfaction",
                "satisfaction score",
                "q2_csat",
            ),
            minimum=CSAT_SCALE[0],
            maximum=CSAT_SCALE[1],
        ),
        Column(
            "ces",
            "int",
            "Customer effort, 1–7 (lower is easier).",
            synonyms=(
                "ces score",
                "effort",
                "customer effort",
                "customer effort score",
                "effort score",
                "ease",
                "q3_ces",
            ),
            minimum=CES_SCALE[0],
            maximum=CES_SCALE[1],
        ),
        Column(
            "comment",
            "text",
            "Free-text comment.",
            synonyms=(
                "comments",
                "feedback",
                "verbatim",
                "open text",
                "open_text",
                "remarks",
                "why",
                "reason",
                "text",
                "q4_comment",
            ),
        ),
        Column(
            "touchpoint",
            "category",
            "Touchpoint the survey was about (delivery, support call, ...).",
            synonyms=("survey touchpoint", "interaction", "moment", "trigger", "event"),
        ),
        Column(
            "channel",
            "category",
            "Channel the survey was answered in.",
            synonyms=("distributionchannel", "distribution channel", "survey channel", "medium"),
        ),
    ),
)

TICKETS = Dataset(
    name="tickets",
    description="One row per support ticket, from the help desk.",
    key="ticket_id",
    time_column="opened_at",
    columns=(
        Column(
            "ticket_id",
            "id",
            "Unique ticket identifier.",
            True,
            ("ticket id", "ticketid", "ticket", "ticket number", "ticket #", "case id", "case"),
        ),
        Column("customer_id", "id", "Customer who raised the ticket.", True, _CUSTOMER_ID_SYNONYMS),
        Column(
            "opened_at",
            "datetime",
            "When the ticket was opened.",
            True,
            (
                "created at",
                "created",
                "opened",
                "open date",
                "date opened",
                "creation date",
                "submitted at",
                "created date",
                "requested",
            ),
        ),
        Column(
            "first_response_at",
            "datetime",
            "When an agent first replied.",
            synonyms=(
                "first response",
                "first reply",
                "first reply at",
                "first response time",
                "first responded at",
                "responded at",
            ),
        ),
        Column(
            "resolved_at",
            "datetime",
            "When the ticket was resolved.",
            synonyms=(
                "resolved",
                "solved at",
                "solved",
                "closed at",
                "close date",
                "resolution date",
            ),
        ),
        Column(
            "channel",
            "category",
            "Channel of contact (email, phone, chat, ...).",
            synonyms=("via", "source", "contact channel", "origin", "medium"),
        ),
        Column(
            "category",
            "category",
            "Ticket category or topic.",
            synonyms=("topic", "type", "ticket type", "issue type", "reason", "subject category"),
        ),
        Column("priority", "category", "Priority.", synonyms=("urgency", "severity", "prio")),
        Column("status", "category", "Ticket status.", synonyms=("state", "ticket status")),
        Column(
            "text",
            "text",
            "What the customer wrote: the ticket's description or first message (read for "
            "sentiment and themes with the survey comments).",
            synonyms=(
                "description",
                "body",
                "message",
                "ticket text",
                "details",
                "customer message",
                "first message",
                "question",
                "request",
                "subject",
            ),
        ),
        Column(
            "csat",
            "int",
            "Satisfaction rating given for the ticket, 1–5.",
            synonyms=("satisfaction", "satisfaction rating", "csat score", "rating"),
            minimum=CSAT_SCALE[0],
            maximum=CSAT_SCALE[1],
        ),
    ),
)

EVENTS = Dataset(
    name="events",
    description="One row per touchpoint event (web visit, email open, store visit, ...).",
    key="event_id",
    time_column="occurred_at",
    derive_key=True,
    columns=(
        Column("customer_id", "id", "Customer the event belongs to.", True, _CUSTOMER_ID_SYNONYMS),
        Column(
            "occurred_at",
            "datetime",
            "When the event happened.",
            True,
            (
                "timestamp",
                "time",
                "event time",
                "event timestamp",
                "date",
                "datetime",
                "occurred",
                "event date",
                "ts",
            ),
        ),
        Column(
            "touchpoint",
            "category",
            "Touchpoint (ad click, website visit, checkout, support call, ...).",
            True,
            ("event", "event name", "event type", "action", "interaction", "activity", "page"),
        ),
        Column(
            "stage",
            "category",
            "Journey stage; inferred from the touchpoint when absent.",
            synonyms=("journey stage", "funnel stage", "lifecycle stage", "phase"),
        ),
        Column(
            "channel",
            "category",
            "Channel of the event.",
            synonyms=("source", "medium", "platform", "device"),
        ),
        Column(
            "event_id",
            "id",
            "Unique event identifier (derived deterministically when absent).",
            synonyms=("event id", "eventid", "id", "uuid", "message id"),
        ),
    ),
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (CUSTOMERS, ORDERS, SURVEYS, TICKETS, EVENTS)}


def dataset(name: str) -> Dataset:
    """Return the dataset called `name`, or raise a message listing the valid names."""
    try:
        return DATASETS[name]
    except KeyError:
        valid = ", ".join(DATASETS)
        raise WarehouseError(f"Unknown dataset '{name}'. Choose one of: {valid}.") from None


def normalise_header(header: str) -> str:
    """Fold a header for synonym matching: lower case, separators to spaces, trimmed."""
    text = header.strip().lower().replace("\ufeff", "")
    text = re.sub(r"[_\-\.\s/]+", " ", text)
    return text.strip()


def attribute_name(header: str) -> str:
    """Name under which an unmapped column is kept: snake case, safe for Delta and SQL."""
    text = re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")
    if not text:
        text = "column"
    if text[0].isdigit():
        text = "c_" + text
    return "attr_" + text


def render_markdown() -> str:
    """Render the contract as the Markdown page `docs/data-contract.md`."""
    lines = [
        "# Data contract",
        "",
        "Generated from `analytics/contract.py` by `python -m analytics contract`; "
        "a test fails when this page and the code disagree.",
        "",
        "Exports arrive with any header names; ingest maps them onto these columns by the "
        "synonyms below (case, spaces, `_`, `-` and `.` are ignored). Required columns are in "
        "**bold**. Unmapped extra columns are kept as attributes named `attr_<header>`.",
        "",
    ]
    for ds in DATASETS.values():
        lines += [f"## {ds.name}", "", ds.description, ""]
        key_note = f"Unique key: `{ds.key}`" if ds.key else "No unique key"
        if ds.derive_key:
            key_note += " (derived deterministically from the row, with a warning, when absent)"
        lines.append(key_note + ".")
        if ds.at_least_one_of:
            cols = ", ".join(f"`{c}`" for c in ds.at_least_one_of)
            lines.append(f"Each row needs at least one of {cols}.")
        if ds.references_customers:
            lines.append(
                "Customer ids not found in `customers` are reported as a warning (orphans)."
            )
        lines += [
            "",
            "| column | type | rule | meaning | also recognised as |",
            "|---|---|---|---|---|",
        ]
        for col in ds.columns:
            name = f"**{col.name}**" if col.required else col.name
            syn = (
                ", ".join(col.synonyms) if col.name != "customer_id" else "Customer ID, cust_id, …"
            )
            lines.append(f"| {name} | {col.kind} | {col.rule_text} | {col.description} | {syn} |")
        lines.append("")
    return "\n".join(lines)
