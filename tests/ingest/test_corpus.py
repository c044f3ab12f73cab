"""A corpus of malformed and awkward exports: each reports its exact problem and changes nothing.

Every case starts from a warehouse holding a known customers and orders version; a refused
file must leave `data_version()` and the rows exactly as they were.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass

import polars as pl
import pytest

from analytics.errors import TouchpointError
from analytics.ingest.pipeline import ingest
from analytics.warehouse import QueryGateway, Warehouse

CUSTOMERS = b"customer_id,name,region\nC1,Ada,EMEA\nC2,Bo,APAC\nC3,Cy,Americas\n"
ORDERS = b"order_id,customer_id,order_date,amount\nO1,C1,2025-01-05,10.0\nO2,C2,2025-01-06,20.0\n"
HEADER = b"Order ID,Customer ID,Order Date,Total,Qty,Status\n"


@pytest.fixture
def warehouse(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    ingest(CUSTOMERS, dataset_name="customers", warehouse=wh, file_name="crm.csv")
    ingest(ORDERS, dataset_name="orders", warehouse=wh, file_name="shop.csv")
    return wh


def snapshot(wh: Warehouse) -> tuple[str, list[tuple]]:
    rows = QueryGateway(wh).query("SELECT order_id, amount FROM orders ORDER BY order_id").rows()
    return wh.data_version(), rows


@dataclass(frozen=True)
class Refused:
    """A case whose file is refused: the expected problems as (code, column, count, examples)."""

    name: str
    content: bytes
    problems: list[tuple[str, str | None, int, list[tuple[int | None, str | None]]]]
    dataset: str = "orders"


REFUSED = [
    Refused("header_only.csv", HEADER, [("no_rows", None, 0, [])]),
    Refused(
        "missing_amount.csv",
        b"Order ID,Customer ID,Order Date\nO9,C1,2025-02-01\n",
        [("missing_column", "amount", 0, [])],
    ),
    Refused(
        "missing_two.csv",
        b"Order ID,Total\nO9,5\n",
        [("missing_column", "customer_id, order_date", 0, [])],
    ),
    Refused(
        "bad_date.csv",
        HEADER + b"O3,C1,2025-02-01,5,1,paid\nO4,C1,yesterday,5,1,paid\n",
        [("unparseable", "order_date", 1, [(3, "yesterday")])],
    ),
    Refused(
        "bad_amount.csv",
        HEADER + b"O3,C1,2025-02-01,abc,1,paid\nO4,C1,2025-02-01,12.5,1,paid\n",
        [("unparseable", "amount", 1, [(2, "abc")])],
    ),
    Refused(
        "infinite_amount.csv",
        HEADER + b"O3,C1,2025-02-01,inf,1,paid\n",
        [("unparseable", "amount", 1, [(2, "inf")])],
    ),
    Refused(
        "negative_quantity.csv",
        HEADER + b"O3,C1,2025-02-01,5,-2,paid\n",
        [("out_of_range", "quantity", 1, [(2, "-2")])],
    ),
    Refused(
        "fractional_quantity.csv",
        HEADER + b"O3,C1,2025-02-01,5,1.5,paid\n",
        [("unparseable", "quantity", 1, [(2, "1.5")])],
    ),
    Refused(
        "unknown_status.csv",
        HEADER + b"O3,C1,2025-02-01,5,1,lost in space\n",
        [("unparseable", "status", 1, [(2, "lost in space")])],
    ),
    Refused(
        "duplicate_in_file.csv",
        HEADER + b"O3,C1,2025-02-01,5,1,paid\nO3,C2,2025-02-02,6,1,paid\nO3,C2,2025-02-03,7,1,\n",
        [("duplicate_key", "order_id", 2, [(3, "O3"), (4, "O3")])],
    ),
    Refused(
        "duplicate_of_loaded.csv",
        HEADER + b"O1,C1,2025-02-01,5,1,paid\nO5,C1,2025-02-01,5,1,paid\n",
        [("duplicate_existing", "order_id", 1, [(2, "O1")])],
    ),
    Refused(
        "empty_required.csv",
        HEADER + b"O3,,2025-02-01,5,1,paid\n",
        [("required_missing", "customer_id", 1, [(2, None)])],
    ),
    Refused(
        "many_problems.csv",
        HEADER
        + b"O3,C1,2025-13-45,x,1,paid\nO4,C1,2025-02-01,5,-1,void\n,C2,2025-02-01,5,1,paid\n",
        [
            ("unparseable", "order_date", 1, [(2, "2025-13-45")]),
            ("unparseable", "amount", 1, [(2, "x")]),
            ("out_of_range", "quantity", 1, [(3, "-1")]),
            ("required_missing", "order_id", 1, [(4, None)]),
        ],
    ),
    Refused(
        "nps_out_of_range.csv",
        b"ResponseId,RecordedDate,NPS score\nR1,2025-03-01 10:00,11\nR2,2025-03-01 10:05,9\n",
        [("out_of_range", "nps", 1, [(2, "11")])],
        "surveys",
    ),
    Refused(
        "csat_zero.csv",
        b"response_id,responded_at,csat\nR1,2025-03-01,0\n",
        [("out_of_range", "csat", 1, [(2, "0")])],
        "surveys",
    ),
    Refused(
        "ces_eight.csv",
        b"response_id,responded_at,ces\nR1,2025-03-01,8\n",
        [("out_of_range", "ces", 1, [(2, "8")])],
        "surveys",
    ),
    Refused(
        "nps_fraction.csv",
        b"response_id,responded_at,nps\nR1,2025-03-01,7.5\n",
        [("unparseable", "nps", 1, [(2, "7.5")])],
        "surveys",
    ),
    Refused(
        "no_score.csv",
        b"response_id,responded_at,nps,csat,comment\nR1,2025-03-01,,,just a comment\n",
        [("no_score", "nps, csat, ces", 1, [(2, None)])],
        "surveys",
    ),
    Refused(
        "ticket_missing_opened.csv",
        b"ticket_id,customer_id,opened_at\nT1,C1,\n",
        [("required_missing", "opened_at", 1, [(2, None)])],
        "tickets",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_refused_files_report_exactly_and_change_nothing(warehouse, case):
    before = snapshot(warehouse)
    result = ingest(
        case.content, dataset_name=case.dataset, warehouse=warehouse, file_name=case.name
    )
    assert not result.loaded
    found = [
        (p.code, p.column, p.count, [(e.row, e.value) for e in p.examples])
        for p in result.report.errors
    ]
    assert sorted(found, key=str) == sorted(case.problems, key=str)
    assert snapshot(warehouse) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("blank.csv", b"  \n\n \r\n", "blank.csv is empty"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
        ("report.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        ("orders.csv", gzip.compress(ORDERS), "gzip"),
        ("orders.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ".xlsx"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(warehouse, name, content, message):
    before = snapshot(warehouse)
    with pytest.raises(TouchpointError) as err:
        ingest(content, dataset_name="orders", warehouse=warehouse, file_name=name)
    assert message in str(err.value)
    assert snapshot(warehouse) == before


def test_zip_that_is_not_a_workbook_is_refused(warehouse):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orders.csv", ORDERS)
    before = snapshot(warehouse)
    with pytest.raises(TouchpointError):
        ingest(buffer.getvalue(), dataset_name="orders", warehouse=warehouse, file_name="o.zip")
    assert snapshot(warehouse) == before


def test_ragged_rows_are_reported_with_their_line(warehouse):
    content = (
        HEADER + b"O3,C1,2025-02-01,5,1,paid,EXTRA\nO4,C1,2025-02-01,5\nO5,C1,2025-02-01,5,1,paid\n"
    )
    result = ingest(content, dataset_name="orders", warehouse=warehouse, file_name="ragged.csv")
    assert not result.loaded
    (problem,) = [p for p in result.report.errors if p.code == "unreadable_row"]
    assert problem.count == 2
    assert [e.row for e in problem.examples] == [2, 3]
    assert problem.examples[0].value == "row has 7 fields but the header has 6"
    assert problem.examples[1].value == "row has 4 fields but the header has 6"


def test_invalid_json_line_is_reported(warehouse):
    content = (
        b'{"order_id": "O7", "customer_id": "C1", "order_date": "2025-02-01", "amount": 3}\n'
        b'{"order_id": "O8", "customer_id": \n'
    )
    before = snapshot(warehouse)
    result = ingest(content, dataset_name="orders", warehouse=warehouse, file_name="o.jsonl")
    assert not result.loaded
    (problem,) = result.report.errors
    assert (problem.code, problem.count) == ("unreadable_row", 1)
    assert snapshot(warehouse) == before


def test_quarantine_loads_valid_rows_and_sets_the_rest_aside(warehouse):
    content = HEADER + (
        b"O3,C1,2025-02-01,5,1,paid\n"
        b"O4,C1,someday,6,1,paid\n"
        b'O5,C2,2025-02-02,"=HYPERLINK(""http://x"")",1,refunded\n'
        b"O6,C3,2025-02-03,7.25,2,canceled\n"
    )
    result = ingest(
        content,
        dataset_name="orders",
        warehouse=warehouse,
        file_name="mixed.csv",
        on_error="quarantine",
    )
    assert result.loaded and result.rows_loaded == 2
    rows = (
        QueryGateway(warehouse)
        .query(
            "SELECT order_id, amount, quantity, status FROM orders WHERE order_id IN ('O3','O6') "
            "ORDER BY order_id"
        )
        .rows()
    )
    assert rows == [("O3", 5.0, 1, "completed"), ("O6", 7.25, 2, "cancelled")]
    quarantine = pl.read_csv(result.quarantine_path, infer_schema=False)
    assert quarantine.columns == [
        "row",
        "Order ID",
        "Customer ID",
        "Order Date",
        "Total",
        "Qty",
        "Status",
        "reason",
    ]
    assert quarantine.select("row", "Total", "reason").rows() == [
        ("3", "6", "order_date: 'someday' is not a date (read as YYYY-MM-DD)"),
        ("4", '\'=HYPERLINK("http://x")', "amount: '=HYPERLINK(\"http://x\")' is not a number"),
    ]
    latest = warehouse.history("orders")[0]
    assert (latest.rows_read, latest.rows_loaded, latest.rows_rejected) == (4, 2, 2)
    assert latest.source_file == "mixed.csv"


def test_all_rows_invalid_under_quarantine_loads_nothing(warehouse):
    before = snapshot(warehouse)
    result = ingest(
        HEADER + b"O3,C1,never,5,1,paid\n",
        dataset_name="orders",
        warehouse=warehouse,
        file_name="bad.csv",
        on_error="quarantine",
    )
    assert (result.loaded, result.message) == (False, "Nothing was loaded: no row is valid.")
    assert snapshot(warehouse) == before


def test_orphan_customers_are_a_warning_and_load(warehouse):
    result = ingest(
        HEADER + b"O3,C404,2025-02-01,5,1,paid\nO4,C1,2025-02-01,5,1,paid\n",
        dataset_name="orders",
        warehouse=warehouse,
        file_name="orphans.csv",
    )
    assert result.loaded
    (warning,) = result.report.warnings
    assert (warning.code, warning.count, warning.examples[0].row, warning.examples[0].value) == (
        "orphan_customer",
        1,
        2,
        "C404",
    )


def test_ambiguous_day_month_dates_are_reported_and_load(warehouse):
    result = ingest(
        HEADER + b"O3,C1,03/04/2025,5,1,paid\nO4,C1,05/06/2025,5,1,paid\n",
        dataset_name="orders",
        warehouse=warehouse,
        file_name="ambiguous.csv",
    )
    assert result.loaded
    assert [p.code for p in result.report.warnings] == ["ambiguous_date"]
    dates = QueryGateway(warehouse).query(
        "SELECT order_date FROM orders WHERE order_id IN ('O3','O4') ORDER BY order_id"
    )
    assert [str(d) for d in dates["order_date"]] == ["2025-04-03", "2025-06-05"]


def test_orders_without_ids_get_derived_ids_and_reload_is_caught(warehouse):
    content = b"Customer,Date,Total\nC1,2025-02-01,5\nC1,2025-02-01,5\nC2,2025-02-02,9.5\n"
    first = ingest(content, dataset_name="orders", warehouse=warehouse, file_name="noid.csv")
    assert first.loaded and first.rows_loaded == 3
    assert [p.code for p in first.report.warnings] == ["derived_key"]
    again = ingest(content, dataset_name="orders", warehouse=warehouse, file_name="noid.csv")
    assert not again.loaded
    assert [(p.code, p.count) for p in again.report.errors] == [("duplicate_existing", 3)]


def test_replace_mode_replaces_and_keeps_history(warehouse):
    result = ingest(
        HEADER + b"O9,C1,2025-03-01,99,1,\n",
        dataset_name="orders",
        warehouse=warehouse,
        file_name="replace.csv",
        mode="replace",
    )
    assert result.loaded
    assert snapshot(warehouse)[1] == [("O9", 99.0)]
    warehouse.rollback("orders", 0, user="test")
    assert snapshot(warehouse)[1] == [("O1", 10.0), ("O2", 20.0)]


def test_stray_quote_deep_in_a_csv_is_a_read_error(warehouse):
    """Regression: a quote problem past the sniffed first 64 KB raised Polars' ComputeError."""
    rows = ["order_id,customer_id,order_date,amount"]
    rows += [f"O{i},C1,2025-01-01,{i}" for i in range(20_000)]
    rows.insert(15_000, 'O99999,C1,2025-01-01,5" TV,"x')
    before = snapshot(warehouse)
    with pytest.raises(TouchpointError) as err:
        ingest(
            ("\n".join(rows) + "\n").encode(),
            dataset_name="orders",
            warehouse=warehouse,
            file_name="quote.csv",
        )
    assert str(err.value).startswith("quote.csv cannot be read past its first rows: ")
    assert snapshot(warehouse) == before


def test_quarantined_duplicates_keep_their_values(warehouse):
    content = HEADER + (
        b"O3,C1,2025-02-01,5,1,paid\nO3,C2,2025-02-02,6.5,2,refunded\nO4,C3,2025-02-03,7,1,\n"
    )
    result = ingest(
        content,
        dataset_name="orders",
        warehouse=warehouse,
        file_name="dups.csv",
        on_error="quarantine",
    )
    assert (result.loaded, result.rows_loaded) == (True, 2)
    quarantine = pl.read_csv(result.quarantine_path, infer_schema=False)
    assert quarantine.rows() == [
        (
            "3",
            "O3",
            "C2",
            "2025-02-02",
            "6.5",
            "2",
            "returned",
            "order_id 'O3' appears earlier in the file",
        ),
    ]


def test_quarantine_preview_reads_back_the_file(warehouse):
    from analytics.ingest.pipeline import quarantine_preview

    content = HEADER + b"O3,C1,never,5,1,paid\nO4,C1,2025-02-01,x,1,paid\nO5,C1,2025-02-01,5,1,\n"
    result = ingest(
        content,
        dataset_name="orders",
        warehouse=warehouse,
        file_name="q.csv",
        on_error="quarantine",
    )
    preview, total = quarantine_preview(result.quarantine_path, rows=1)
    assert total == 2
    assert preview.rows() == [
        (
            "2",
            "O3",
            "C1",
            "never",
            "5",
            "1",
            "paid",
            "order_date: 'never' is not a date (read as YYYY-MM-DD)",
        ),
    ]


def test_the_history_records_the_sha256_of_the_file(warehouse, tmp_path):
    import hashlib

    lines = [b"order_id,customer_id,order_date,amount"]
    lines += [f"O{i},C{i % 97},2025-01-{1 + i % 28:02d},{i % 500}".encode() for i in range(60_000)]
    path = tmp_path / "orders.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")  # larger than the hashing buffer
    result = ingest(path, dataset_name="orders", warehouse=warehouse, mode="replace")
    assert result.loaded, result.message
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert warehouse.history("orders")[0].sha256 == result.sha256
