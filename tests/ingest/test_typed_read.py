"""The optimistic typed read gives exactly what the text pass gives, clean file or not.

Each case is validated twice: as read (plain files take the typed read) and with the typed
read switched off (`plain=None`, the text pass). Report, valid rows and invalid rows must be
identical; dirty files (and the few clean values Polars will not parse while reading) fall
back to the text pass, which reports every problem.
"""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics.contract import dataset
from analytics.ingest import validate as validation
from analytics.ingest.mapping import propose_mapping
from analytics.ingest.readers import read_export
from analytics.ingest.validate import Validated, validate

ORDERS = (
    b"Order ID,Customer ID,Order Date,Total,Qty,Status,Category\n"
    b"O1,C1,2025-01-05,10.5,1,delivered,Books\n"
    b"O2,C2,2025-01-06,20,2,Refunded,Home\n"
    b"O3,C1,2025-1-7,.5,3,,Toys\n"
    b"O4,C3,2025-01-08,-0,,canceled,Garden\n"
)
ORDERS_NO_ID = (
    b"customer_id,order_date,amount,quantity,status\n"
    b"C1,2025-01-05,10,1,completed\n"
    b"C1,2025-01-05,10,1,completed\n"
    b"C2,2025-02-01,1e3,2,refunded\n"
)
WHITESPACE = (
    b"order_id,customer_id,order_date,amount,channel,status\n"
    b" O1 ,C1 ,2025-01-05, 10.5,  web ,  delivered\n"
    b"O2,\tC2,2025-01-06,20, app,completed \n"
)
CUSTOMERS_ATTRIBUTES = (
    b"customer_id,name,signup_date,birth_year,loyalty_score,favourite_colour\n"
    b"C1,Ada,2024-03-01,1980,4.5,red\n"
    b"C2,Zo\xc3\xab,2024-03-02,1991,3,blue\n"
    b"C3,Bo,2024-03-03,,2,green\n"
)
SURVEYS_ISO_DATETIMES = (
    b"response_id,customer_id,responded_at,nps,csat,comment,touchpoint\n"
    b"R1,C1,2025-01-05 10:00:00,9,5,great,checkout\n"
    b"R2,C2,2025-01-05T11:30:00,,4,fine,support\n"
    b"R3,C3,2025-01-06 12:00,3,,meh,delivery\n"
)
TICKETS = (
    b"ticket_id,customer_id,opened_at,resolved_at,priority,csat\n"
    b"T1,C1,2025-01-05,2025-01-06,high,5\n"
    b"T2,C2,2025-01-07,2025-01-09,low,4\n"
)
EVENTS = (
    b"customer_id,occurred_at,touchpoint,channel\n"
    b"C1,2025-01-05 10:00:00,visit,web\n"
    b"C1,2025-01-05 10:05:00,checkout,web\n"
)
WIDE_WHITESPACE = (
    "order_id\tcustomer_id\torder_date\tamount\tchannel\tstatus\n"
    "O1\tC1\u00a0\t2025-01-05\t10.5\t\u3000web\tDELIVERED\n"
    "O2\tC2\t2025-01-06\t20\tapp\t Cancelled\u2003\n"
).encode()
CRLF = ORDERS.replace(b"\n", b"\r\n")
SEMICOLON = ORDERS.replace(b",", b";")

CLEAN = [
    ("orders", ORDERS),
    ("orders", ORDERS_NO_ID),
    ("orders", WHITESPACE),
    ("orders", WIDE_WHITESPACE),
    ("orders", CRLF),
    ("orders", SEMICOLON),
    ("customers", CUSTOMERS_ATTRIBUTES),
    ("surveys", SURVEYS_ISO_DATETIMES),
    ("tickets", TICKETS),
    ("events", EVENTS),
]
FALLBACK = [
    ("orders", ORDERS + b"O5,C1,2025-01-09,abc,1,delivered,Books\n"),  # not a number
    ("orders", ORDERS + b"O5,C1,2025-01-09,inf,1,delivered,Books\n"),  # Polars reads inf
    ("orders", ORDERS + b"O5,C1,2025-02-30,1,1,delivered,Books\n"),  # no such day
    ("orders", ORDERS + b"O5,C1,2025-01-09 10:00,1,1,delivered,Books\n"),  # time in a date
    ("orders", ORDERS + b"O5,C1,2025-01-09,1,1.5,delivered,Books\n"),  # not a whole number
    ("orders", ORDERS + b"O5,C1,2025-01-09,1,1,lost,Books\n"),  # unknown status
    ("orders", ORDERS + b"O1,C1,2025-01-09,1,1,delivered,Books\n"),  # repeated key
    ("orders", ORDERS + b"O5,C1,2025-01-09,-1,1,delivered,Books\n"),  # out of range
    ("orders", ORDERS + b"O5,C1,2025-01-09,1\n"),  # too few fields
    ("orders", ORDERS + b"O5,C1,2025-01-09,1,1,delivered,\n"),  # an empty last field
    ("orders", ORDERS + b"O5,C1,2025-01-09,1,1,delivered,Books,extra\n"),  # too many fields
    ("orders", ORDERS + b",,,,,,\n"),  # an empty record
    ("orders", ORDERS + b"\nO5,C1,2025-01-09,1,1,delivered,Books\n"),  # a blank line
    ("orders", CRLF + b"\r\nO5,C1,2025-01-09,1,1,delivered,Books\r\n"),  # a blank CRLF line
    ("orders", ORDERS + b"O5,C1,2025-01-09,   ,1,delivered,Books\n"),  # blank required value
    ("orders", ORDERS + b"O5,C1,2025-01-09,1 ,1,delivered,Books\n"),  # Polars rejects "1 "
    ("orders", ORDERS + b"O5,,2025-01-09,1,1,delivered,Books\n"),  # missing customer
    ("surveys", SURVEYS_ISO_DATETIMES + b"R4,C4,2025-01-07 09:00:00,,,none,web\n"),  # no score
    ("customers", CUSTOMERS_ATTRIBUTES + b"C4,Cy,2024-03-04,1850,x,red\n"),  # birth_year range
]


def both_ways(name: str, content: bytes, **context: pl.Series) -> tuple[Validated, Validated]:
    raw = read_export(content, file_name=f"{name}.csv")
    ds = dataset(name)
    matches = propose_mapping(list(raw.headers), name)
    typed = validate(raw, ds, matches, **context)
    text = validate(dataclasses.replace(raw, plain=None), ds, matches, **context)
    return typed, text


def assert_same(typed: Validated, text: Validated) -> None:
    assert typed.report == text.report
    assert_frame_equal(typed.valid, text.valid)
    assert_frame_equal(typed.invalid, text.invalid)


@pytest.mark.parametrize(("name", "content"), CLEAN + FALLBACK)
def test_typed_read_matches_the_text_pass(name, content):
    typed, text = both_ways(name, content)
    assert_same(typed, text)


@pytest.mark.parametrize(("name", "content"), CLEAN)
def test_clean_files_are_validated_once_from_the_typed_read(name, content, monkeypatch):
    raw = read_export(content, file_name=f"{name}.csv")
    passes: list[bool] = []
    text_pass = validation._validate

    def spy(raw, frame, *args):
        passes.append(frame is raw.frame)
        return text_pass(raw, frame, *args)

    monkeypatch.setattr(validation, "_validate", spy)
    checked = validate(raw, dataset(name), propose_mapping(list(raw.headers), name))
    assert passes == [False]
    assert checked.report.ok
    assert checked.invalid.height == 0


def test_typed_read_matches_with_loaded_keys_and_customers():
    existing = pl.Series("order_id", ["O4", "O9"])
    customers = pl.Series("customer_id", ["C1", "C2"])
    typed, text = both_ways("orders", ORDERS, existing_keys=existing, known_customers=customers)
    assert_same(typed, text)
    assert [p.code for p in typed.report.problems] == ["duplicate_existing", "orphan_customer"]


def test_typed_read_warns_about_orphans_like_the_text_pass():
    customers = pl.Series("customer_id", ["C1", "C2"])
    typed, text = both_ways("orders", ORDERS_NO_ID, known_customers=customers[:1])
    assert_same(typed, text)
    assert typed.report.ok
    assert [p.code for p in typed.report.warnings] == ["derived_key", "orphan_customer"]


def test_a_quote_character_keeps_the_text_pass():
    content = ORDERS.replace(b"O3,", b'"O3",')
    assert read_export(content, file_name="orders.csv").plain is None


def test_category_lookup_lowercases_like_the_general_rule():
    from analytics.contract import STATUS_SYNONYMS

    words = list(STATUS_SYNONYMS)
    values = [*words, *(w.upper() for w in words), *(w.title() for w in words)]
    values += [None, "", "lost", "DELİVERED", "İ", "Ok ", "ÉTÉ", "ǅ"]
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    expr, helpers = validation._fast_categories("s")
    fast = frame.with_columns(**helpers).select(expr.alias("v"))["v"]
    general = frame.select(
        pl.col("s").str.to_lowercase().replace_strict(STATUS_SYNONYMS, default=None).alias("v")
    )["v"]
    assert fast.to_list() == general.to_list()


def test_distinct_hashes_prove_distinct_keys():
    assert validation._distinct_hashes(pl.Series([], dtype=pl.String))
    assert validation._distinct_hashes(pl.Series(["O1"]))
    assert validation._distinct_hashes(pl.Series([f"O{i}" for i in range(10_000)]))
    assert not validation._distinct_hashes(pl.Series(["O1", "O2", "O3", "O2"]))
    assert not validation._distinct_hashes(pl.Series([3, 1, 2, 1]))
