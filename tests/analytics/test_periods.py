"""Calendar periods: starts, labels (ISO weeks across year ends), parsing, shifts, year-ago."""

from datetime import date

import pytest

from analytics.errors import ConfigError
from analytics.periods import (
    check_grain,
    parse_period,
    period_end,
    period_label,
    period_start,
    periods_between,
    shift,
    year_ago,
)

# (day, grain, start of its period, label). ISO weeks checked against a calendar: 1 Jan 2025 is
# a Wednesday, so week 1 of 2025 starts on Monday 30 Dec 2024; 2020 and 2026 have 53 weeks.
PERIODS = [
    (date(2025, 7, 14), "day", date(2025, 7, 14), "2025-07-14"),
    (date(2024, 2, 29), "day", date(2024, 2, 29), "2024-02-29"),
    (date(2025, 7, 14), "week", date(2025, 7, 14), "2025-W29"),
    (date(2025, 7, 6), "week", date(2025, 6, 30), "2025-W27"),
    (date(2024, 12, 30), "week", date(2024, 12, 30), "2025-W01"),
    (date(2025, 1, 1), "week", date(2024, 12, 30), "2025-W01"),
    (date(2024, 12, 29), "week", date(2024, 12, 23), "2024-W52"),
    (date(2021, 1, 3), "week", date(2020, 12, 28), "2020-W53"),
    (date(2021, 1, 4), "week", date(2021, 1, 4), "2021-W01"),
    (date(2023, 1, 1), "week", date(2022, 12, 26), "2022-W52"),
    (date(2027, 1, 3), "week", date(2026, 12, 28), "2026-W53"),
    (date(2025, 7, 31), "month", date(2025, 7, 1), "2025-07"),
    (date(2025, 12, 31), "month", date(2025, 12, 1), "2025-12"),
    (date(2025, 3, 31), "quarter", date(2025, 1, 1), "2025-Q1"),
    (date(2025, 4, 1), "quarter", date(2025, 4, 1), "2025-Q2"),
    (date(2025, 8, 15), "quarter", date(2025, 7, 1), "2025-Q3"),
    (date(2025, 12, 31), "quarter", date(2025, 10, 1), "2025-Q4"),
    (date(2025, 12, 31), "year", date(2025, 1, 1), "2025"),
]


@pytest.mark.parametrize(("day", "grain", "start", "label"), PERIODS)
def test_period_start_and_label(day, grain, start, label):
    assert period_start(day, grain) == start
    assert period_label(start, grain) == label


@pytest.mark.parametrize(("day", "grain", "start", "label"), PERIODS)
def test_parse_period_is_the_inverse_of_the_label(day, grain, start, label):
    assert parse_period(label, grain) == start
    assert parse_period(f" {label} ", grain) == start


@pytest.mark.parametrize(
    ("label", "grain"),
    [
        ("2025-13", "month"),
        ("2025-7", "month"),
        ("July 2025", "month"),
        ("2025-Q5", "quarter"),
        ("2025-Q0", "quarter"),
        ("2025-W53", "week"),  # 2025 has 52 ISO weeks
        ("2025-W00", "week"),
        ("2025-02-29", "day"),
        ("2025/07/14", "day"),
        ("25", "year"),
        ("2025-07", "quarter"),
    ],
)
def test_parse_period_rejects_labels_of_no_such_period(label, grain):
    with pytest.raises(ConfigError, match="is not a"):
        parse_period(label, grain)


def test_parse_period_message_shows_an_example():
    with pytest.raises(ConfigError, match="2025-Q3"):
        parse_period("Q3", "quarter")


@pytest.mark.parametrize(
    ("start", "grain", "steps", "expected"),
    [
        (date(2024, 12, 31), "day", 1, date(2025, 1, 1)),
        (date(2025, 1, 1), "day", -1, date(2024, 12, 31)),
        (date(2024, 12, 30), "week", -1, date(2024, 12, 23)),
        (date(2024, 12, 23), "week", 1, date(2024, 12, 30)),
        (date(2020, 12, 28), "week", 1, date(2021, 1, 4)),
        (date(2024, 12, 1), "month", 1, date(2025, 1, 1)),
        (date(2025, 1, 1), "month", -1, date(2024, 12, 1)),
        (date(2025, 1, 1), "month", -13, date(2023, 12, 1)),
        (date(2024, 10, 1), "quarter", 1, date(2025, 1, 1)),
        (date(2025, 1, 1), "quarter", -5, date(2023, 10, 1)),
        (date(2024, 1, 1), "year", -1, date(2023, 1, 1)),
    ],
)
def test_shift_crosses_year_ends(start, grain, steps, expected):
    assert shift(start, grain, steps) == expected


@pytest.mark.parametrize(
    ("start", "grain", "end"),
    [
        (date(2024, 2, 1), "month", date(2024, 2, 29)),
        (date(2025, 2, 1), "month", date(2025, 2, 28)),
        (date(2024, 12, 30), "week", date(2025, 1, 5)),
        (date(2025, 10, 1), "quarter", date(2025, 12, 31)),
        (date(2024, 1, 1), "year", date(2024, 12, 31)),
        (date(2024, 2, 29), "day", date(2024, 2, 29)),
    ],
)
def test_period_end(start, grain, end):
    assert period_end(start, grain) == end


@pytest.mark.parametrize(
    ("start", "grain", "expected"),
    [
        (date(2025, 1, 1), "month", date(2024, 1, 1)),
        (date(2025, 3, 1), "month", date(2024, 3, 1)),
        (date(2025, 1, 1), "quarter", date(2024, 1, 1)),
        (date(2025, 10, 1), "quarter", date(2024, 10, 1)),
        (date(2025, 1, 1), "year", date(2024, 1, 1)),
        (date(2025, 3, 1), "day", date(2024, 3, 1)),  # not 29 February 2024
        (date(2025, 2, 28), "day", date(2024, 2, 28)),
        (date(2024, 2, 29), "day", date(2023, 2, 28)),  # no 29 February in 2023
        (date(2024, 3, 1), "day", date(2023, 3, 1)),
        (date(2025, 3, 3), "week", date(2024, 3, 4)),  # 2025-W10 -> 2024-W10
        (date(2024, 12, 30), "week", date(2024, 1, 1)),  # 2025-W01 -> 2024-W01
        (date(2020, 3, 2), "week", date(2019, 3, 4)),  # 2020-W10 -> 2019-W10
    ],
)
def test_year_ago(start, grain, expected):
    assert year_ago(start, grain) == expected


# Regression (fixed): year_ago for weeks goes back 52 weeks, which is not the same ISO week number
# after a 53-week year (2021-W10 -> 2020-W11, 2021-W01 -> 2020-W02)
@pytest.mark.parametrize(
    ("label", "expected_label"),
    [("2021-W10", "2020-W10"), ("2021-W01", "2020-W01"), ("2027-W20", "2026-W20")],
)
def test_year_ago_of_a_week_after_a_53_week_year_is_the_same_iso_week(label, expected_label):
    assert period_label(year_ago(parse_period(label, "week"), "week"), "week") == expected_label


def test_periods_between_lists_every_period_start():
    assert periods_between(date(2024, 11, 15), date(2025, 2, 3), "month") == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]
    assert periods_between(date(2024, 12, 31), date(2025, 1, 6), "week") == [
        date(2024, 12, 30),
        date(2025, 1, 6),
    ]
    assert periods_between(date(2025, 5, 5), date(2025, 5, 5), "quarter") == [date(2025, 4, 1)]


def test_check_grain_names_the_allowed_values():
    assert check_grain("week") == "week"
    with pytest.raises(ConfigError, match="day, week, month, quarter, year"):
        check_grain("fortnight")
