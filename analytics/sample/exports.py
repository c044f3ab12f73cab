"""Write the sample company the way real systems export it: one file per source system.

Each source has its own header style; every header is either a canonical column, one of its
synonyms in `analytics.contract`, or a deliberate extra attribute (the survey ratings).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from analytics.contract import attribute_name
from analytics.sample import vocabulary as vocab
from analytics.sample.company import SampleCompany
from analytics.sample.profiles import RATING_ATTRIBUTES

# canonical column -> header, in the column order of each export.
CRM_HEADERS: dict[str, str] = {
    "customer_id": "Customer ID",
    "name": "Full Name",
    "email": "Email",
    "phone": "Phone",
    "country": "Country",
    "region": "Region",
    "city": "City",
    "plan": "Plan",
    "acquisition_channel": "Lead Source",
    "signup_date": "Created Date",
    "birth_year": "Year of Birth",
    "gender": "Gender",
}

SHOP_HEADERS: dict[str, str] = {
    "order_id": "Order Number",
    "customer_id": "Customer ID",
    "order_date": "Order Date",
    "amount": "Total",
    "quantity": "Qty",
    "product": "Product Name",
    "product_category": "Category",
    "channel": "Sales Channel",
    "status": "Order Status",
    "discount": "Discount Amount",
}

# Qualtrics: header, question text, import id (the three header rows of a Qualtrics export).
SURVEY_HEADERS: dict[str, tuple[str, str, str]] = {
    "response_id": ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    "responded_at": (
        "RecordedDate",
        "Recorded Date",
        '{"ImportId":"recordedDate","timeZone":"UTC"}',
    ),
    "customer_id": (
        "ExternalReference",
        "External Data Reference",
        '{"ImportId":"externalDataReference"}',
    ),
    "nps": (
        "Q1_NPS",
        "How likely are you to recommend us to a friend or colleague?",
        '{"ImportId":"QID1"}',
    ),
    "csat": ("Q2_CSAT", "Overall, how satisfied are you with us?", '{"ImportId":"QID2"}'),
    "ces": (
        "Q3_CES",
        "How easy was it to get what you needed today?",
        '{"ImportId":"QID3"}',
    ),
    "comment": (
        "Q4_Comment",
        "What is the main reason for your score?",
        '{"ImportId":"QID4_TEXT"}',
    ),
    "touchpoint": ("Touchpoint", "Touchpoint", '{"ImportId":"Touchpoint"}'),
    "channel": (
        "DistributionChannel",
        "Distribution Channel",
        '{"ImportId":"distributionChannel"}',
    ),
    **{
        attribute_name(header): (
            header,
            "How would you rate us on the following? - " + header.removesuffix(" rating"),
            f'{{"ImportId":"QID5_{i}"}}',
        )
        for i, header in enumerate(RATING_ATTRIBUTES, start=1)
    },
}

HELPDESK_HEADERS: dict[str, str] = {
    "ticket_id": "Ticket ID",
    "customer_id": "Requester ID",
    "opened_at": "Created At",
    "first_response_at": "First Reply At",
    "resolved_at": "Solved At",
    "channel": "Via",
    "category": "Topic",
    "priority": "Priority",
    "status": "Status",
    "csat": "Satisfaction Rating",
}

EVENT_COLUMNS: tuple[str, ...] = ("customer_id", "occurred_at", "touchpoint", "stage", "channel")

_DATE = "%Y-%m-%d"
_DATETIME = "%Y-%m-%d %H:%M:%S"
_IN_TRANSIT_DAYS = 4  # the shop still says "shipped" for orders this recent


def write_crm_customers(company: SampleCompany, path: Path) -> None:
    frame = company.customers.select(pl.col(c).alias(h) for c, h in CRM_HEADERS.items())
    frame.write_csv(path, date_format=_DATE)


def write_shop_orders(company: SampleCompany, path: Path) -> None:
    in_transit = pl.col("order_date") > pl.lit(company.end) - pl.duration(days=_IN_TRANSIT_DAYS)
    shop_status = (
        pl.when((pl.col("status") == "completed") & in_transit)
        .then(pl.lit(vocab.SHOP_STATUS_IN_TRANSIT))
        .otherwise(pl.col("status").replace_strict(vocab.SHOP_STATUS))
    )
    frame = company.orders.with_columns(shop_status.alias("status")).select(
        pl.col(c).alias(h) for c, h in SHOP_HEADERS.items()
    )
    frame.write_csv(path, separator=";", date_format=_DATE, float_precision=2)


def write_survey_export(company: SampleCompany, path: Path) -> None:
    """Qualtrics layout: UTF-8 with BOM, three header rows, then one row per response."""
    head = io.StringIO()
    writer = csv.writer(head, lineterminator="\n")
    for row in range(3):
        writer.writerow([texts[row] for texts in SURVEY_HEADERS.values()])
    body = company.surveys.select(list(SURVEY_HEADERS)).write_csv(
        include_header=False, datetime_format=_DATETIME
    )
    path.write_bytes(("\ufeff" + head.getvalue() + body).encode("utf-8"))


def write_helpdesk_tickets(company: SampleCompany, path: Path) -> None:
    frame = company.tickets.select(pl.col(c).alias(h) for c, h in HELPDESK_HEADERS.items())
    frame.write_csv(path, datetime_format=_DATETIME)


def write_touchpoint_events(company: SampleCompany, path: Path) -> None:
    # Second precision and a high zstd level keep the committed copy small.
    frame = company.events.select(EVENT_COLUMNS).with_columns(
        pl.col("occurred_at").dt.cast_time_unit("ms")
    )
    frame.write_parquet(path, compression="zstd", compression_level=19, statistics=False)
