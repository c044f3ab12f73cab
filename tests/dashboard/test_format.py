"""Number formatting for people: table-driven, exact strings."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashboard import format as fmt


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (fmt.count, 0, "0"),
        (fmt.count, 20_000, "20,000"),
        (fmt.count, 1_234_567, "1,234,567"),
        (fmt.money, 1_234_567.4, "$1,234,567"),
        (fmt.money, 1_379.75, "$1,380"),
        (fmt.money, 0.0, "$0"),
        (fmt.money, -0.4, "$0"),
        (fmt.money, -1_500.0, "-$1,500"),
        (fmt.money_exact, 1_379.75, "$1,379.75"),
        (fmt.money_exact, -2.5, "-$2.50"),
        (fmt.score, 32.44, "32.4"),
        (fmt.score, 25.0, "25.0"),
        (fmt.score, -12.25, "-12.2"),
        (fmt.score, -0.04, "0.0"),
        (fmt.score, None, "—"),
        (fmt.percent, 200 / 3, "66.7%"),
        (fmt.percent, 78.06, "78.1%"),
        (fmt.percent, None, "—"),
        (fmt.file_size, 512, "512 bytes"),
        (fmt.file_size, 1536, "1.5 KB"),
        (fmt.file_size, 250 * 1024 * 1024, "250.0 MB"),
    ],
)
def test_formats(func, value, expected):
    assert func(value) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 24, 2, 10, tzinfo=UTC), "24 Nov 2026 02:10 UTC"),
        (
            datetime(2026, 11, 24, 3, 10, tzinfo=timezone(timedelta(hours=1))),
            "24 Nov 2026 02:10 UTC",
        ),
        (datetime(2026, 1, 5, 9, 0), "5 Jan 2026 09:00 UTC"),
    ],
)
def test_timestamp_is_utc(moment, expected):
    assert fmt.timestamp(moment) == expected


def test_freshness_lists_loaded_then_missing_datasets():
    line = fmt.freshness(
        {
            "customers": datetime(2026, 11, 24, 2, 10, tzinfo=UTC),
            "orders": datetime(2026, 11, 24, 2, 12, tzinfo=UTC),
            "surveys": None,
            "events": None,
        }
    )
    assert line == (
        "Last loads: customers 24 Nov 2026 02:10 UTC · orders 24 Nov 2026 02:12 UTC. "
        "Not loaded yet: surveys, events."
    )


def test_freshness_groups_datasets_loaded_in_the_same_minute():
    first = datetime(2026, 11, 24, 2, 10, 5, tzinfo=UTC)
    line = fmt.freshness(
        {"customers": first, "orders": first + timedelta(seconds=30), "surveys": None}
    )
    assert line == "Last loads: customers, orders 24 Nov 2026 02:10 UTC. Not loaded yet: surveys."


def test_freshness_of_an_empty_warehouse_is_empty():
    assert fmt.freshness({"customers": None} | {}) == "Not loaded yet: customers."
    assert fmt.freshness({}) == ""


@pytest.mark.parametrize(
    ("value", "what", "expected"),
    [
        (1, "row", "1 row"),
        (0, "row", "0 rows"),
        (19_874, "row", "19,874 rows"),
        (126, "invalid row", "126 invalid rows"),
    ],
)
def test_rows_pluralises(value, what, expected):
    assert fmt.rows(value, what) == expected


def test_plain_text_escapes_markdown():
    assert fmt.plain_text("[x](http://e) *a_b*.csv") == r"\[x\]\(http\://e\) \*a\_b\*\.csv"


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Region", "region"), ("Acquisition channel", "acquisition channel"),
     ("RFM segment", "RFM segment"), ("A", "a"), ("", "")],
)  # fmt: skip
def test_a_label_in_a_sentence_keeps_its_acronym(label, expected):
    assert fmt.in_sentence(label) == expected
