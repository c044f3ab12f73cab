"""parse: date styles and numbers decided from data, parsed by vectorised expressions."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from analytics.ingest.parse import (
    DateFormat,
    date_expr,
    detect_date_format,
    detect_decimal_comma,
    number_expr,
)


def parse_dates(values: list[str | None]) -> tuple[DateFormat, list[datetime | None]]:
    sample = pl.Series("d", values, dtype=pl.String)
    fmt = detect_date_format(sample, "order_date")
    parsed = sample.to_frame().select(date_expr("d", fmt)).to_series()
    assert parsed.dtype == pl.Datetime("us")
    return fmt, parsed.to_list()


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (
            [
                "2025-01-05",
                "2025-1-5",
                "2025-01-05T10:30",
                "2025-01-05 10:30:15",
                "2025-01-05T10:30:15.250",
                "2025-01-05T10:30:00Z",
                "2025-01-05T10:30:00+02:00",
                "2025-01-05 23:30:00-0130",
            ],
            "iso",
            [
                datetime(2025, 1, 5),
                datetime(2025, 1, 5),
                datetime(2025, 1, 5, 10, 30),
                datetime(2025, 1, 5, 10, 30, 15),
                datetime(2025, 1, 5, 10, 30, 15, 250_000),
                datetime(2025, 1, 5, 10, 30),
                datetime(2025, 1, 5, 8, 30),
                datetime(2025, 1, 6, 1, 0),
            ],
        ),
        (
            ["20250105", "19991231"],
            "yyyymmdd",
            [datetime(2025, 1, 5), datetime(1999, 12, 31)],
        ),
        (
            ["25/12/2024", "05-01-2025 07:05", "31.01.2025 23:59:59", "1/2/2025"],
            "dmy",
            [
                datetime(2024, 12, 25),
                datetime(2025, 1, 5, 7, 5),
                datetime(2025, 1, 31, 23, 59, 59),
                datetime(2025, 2, 1),
            ],
        ),
        (
            ["12/25/2024", "01-05-2025 07:05", "1.31.2025"],
            "mdy",
            [datetime(2024, 12, 25), datetime(2025, 1, 5, 7, 5), datetime(2025, 1, 31)],
        ),
        (
            ["45123", "45123.5", " 45658 "],
            "excel_serial",
            [datetime(2023, 7, 16), datetime(2023, 7, 16, 12), datetime(2025, 1, 1)],
        ),
    ],
    ids=["iso", "yyyymmdd", "dmy", "mdy", "excel-serial"],
)
def test_each_date_style_is_detected_and_parsed(values, kind, expected):
    fmt, parsed = parse_dates(values)
    assert fmt == DateFormat(kind)
    assert parsed == expected


def test_day_month_that_fit_both_orders_are_ambiguous_and_read_day_first():
    fmt, parsed = parse_dates(["03/04/2025", "05/06/2025", None])
    assert fmt == DateFormat(
        "dmy",
        ambiguous=True,
        note=(
            "order_date: every value fits both DD/MM/YYYY and MM/DD/YYYY; read as DD/MM/YYYY. "
            "Map with a profile or fix the export if that is wrong."
        ),
    )
    assert parsed == [datetime(2025, 4, 3), datetime(2025, 6, 5), None]


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (
            ["2025-01-05", "yesterday", "2025-02-30", "2025-13-01", "05/01/2025", ""],
            "iso",
            [datetime(2025, 1, 5), None, None, None, None, None],
        ),
        (
            ["25/12/2024", "12/25/2024", "31/12/2024", "2024-12-31"],
            "dmy",
            [datetime(2024, 12, 25), None, datetime(2024, 12, 31), None],
        ),
        (
            ["45123", "12", "99999", "4.5e4"],
            "excel_serial",
            [datetime(2023, 7, 16), None, None, None],
        ),
        (["20251301", "20250105"], "yyyymmdd", [None, datetime(2025, 1, 5)]),
    ],
    ids=["iso", "dmy", "excel-serial", "yyyymmdd"],
)
def test_values_that_do_not_fit_the_style_become_null(values, kind, expected):
    fmt, parsed = parse_dates(values)
    assert fmt.kind == kind
    assert parsed == expected


@pytest.mark.parametrize(
    ("values", "kind"),
    [([], "empty"), ([None, " ", ""], "empty"), (["soon", "later"], "iso")],
    ids=["no-values", "blank-values", "nothing-parses"],
)
def test_no_usable_date_values(values, kind):
    fmt, parsed = parse_dates(values)
    assert fmt == DateFormat(kind)
    assert parsed == [None] * len(values)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1.234,50", "12,5"], True),
        (["€ 1.234,56"], True),
        (["(3,25)", "7"], True),
        (["1,234.50", "3.14"], False),
        (["12.5", "1,234"], False),
        (["1,234", "1.234", "7"], False),
        ([], False),
    ],
)
def test_decimal_comma_is_detected_from_the_values(values, expected):
    assert detect_decimal_comma(pl.Series(values, dtype=pl.String)) is expected


@pytest.mark.parametrize(
    ("value", "decimal_comma", "expected"),
    [
        ("12.5", False, 12.5),
        ("-12.5", False, -12.5),
        ("+2", False, 2.0),
        ("$1,234.50", False, 1234.5),
        ("-$3", False, -3.0),
        ("US$4", False, 4.0),
        ("USD 1,000", False, 1000.0),
        ("12 EUR", False, 12.0),
        ("£7.10", False, 7.1),
        ("¥100", False, 100.0),
        ("(12.50)", False, -12.5),
        ("1 234.5", False, 1234.5),
        ("1e3", False, 1000.0),
        (".5", False, 0.5),
        ("1,2,3", False, None),
        ("12,5", False, None),
        ("inf", False, None),
        ("nan", False, None),
        ("abc", False, None),
        ("", False, None),
        (None, False, None),
        ("1.234,50", True, 1234.5),
        ("12,5", True, 12.5),
        ("€ 1.234.567,8", True, 1234567.8),
        ("(3,25)", True, -3.25),
        ("1 234,5", True, 1234.5),
        ("12.5", True, None),
        ("1,2,3", True, None),
    ],
)
def test_numbers_are_parsed(value, decimal_comma, expected):
    frame = pl.DataFrame({"amount": [value]}, schema={"amount": pl.String})
    parsed = frame.select(number_expr("amount", decimal_comma=decimal_comma)).to_series()
    assert parsed.dtype == pl.Float64
    assert parsed.to_list() == [expected]
