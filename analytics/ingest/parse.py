"""Turn the String columns of a raw export into dates and numbers, deciding formats from data.

Detection looks at a sample of values (`detect_date_format`, `detect_decimal_comma`); the
expressions (`date_expr`, `number_expr`) are plain vectorised Polars so they run on the whole
column lazily, and give null where a value does not parse, so the caller can report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import polars as pl

DateKind = Literal["iso", "yyyymmdd", "dmy", "mdy", "excel_serial", "empty"]

_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_SERIAL_RANGE = (20_000, 80_000)
_MICROSECONDS_PER_DAY = 86_400_000_000
_DAY_MONTH_TIMES = ("%H:%M:%S%.f", "%H:%M")

_CURRENCY = r"(?i)US\$|USD|EUR|GBP|JPY|CHF|[$€£¥]"
# Grouped integer part (or plain digits), optional fraction, optional exponent.
_DOT_DECIMAL = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?(?:[eE][+-]?\d+)?$"
_COMMA_DECIMAL = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d*)?(?:[eE][+-]?\d+)?$"

# Checked in this order: on a tie the earlier kind wins.
_KINDS: tuple[DateKind, ...] = ("iso", "yyyymmdd", "excel_serial", "dmy", "mdy")


@dataclass(frozen=True)
class DateFormat:
    """The date style of a column, as decided from its values."""

    kind: DateKind
    ambiguous: bool = False
    note: str | None = None


def detect_date_format(sample: pl.Series, column: str) -> DateFormat:
    """Decide a column's date style from a sample of its values.

    Each style is tried on the sample and the one that parses most values wins (ties go to
    ISO, then YYYYMMDD, Excel serial, DD/MM/YYYY, MM/DD/YYYY). Day-first and month-first are
    told apart by values whose first or second part is above 12; when every value fits both,
    DD/MM/YYYY is chosen and the result is flagged ambiguous with a note for the report.

    Parameters
    ----------
    sample : pl.Series
        Up to ~10k String values of the column; nulls and blanks are ignored.
    column : str
        The column's name, used in the note.

    Returns
    -------
    DateFormat
        `kind="empty"` when the sample has no value; `kind="iso"` when no style parses any
        value, so that every value is then reported as not a date.
    """
    values = sample.cast(pl.String).str.strip_chars().drop_nulls()
    frame = values.filter(values != "").to_frame("value")
    if frame.is_empty():
        return DateFormat("empty")
    parsed = frame.select(
        date_expr("value", DateFormat(kind)).is_not_null().alias(kind) for kind in _KINDS
    )
    counts = {kind: int(parsed[kind].sum()) for kind in _KINDS}
    best = max(_KINDS, key=lambda kind: counts[kind])
    if counts[best] == 0:
        return DateFormat("iso")
    if best == "dmy" and parsed["dmy"].equals(parsed["mdy"]):
        return DateFormat(
            "dmy",
            ambiguous=True,
            note=(
                f"{column}: every value fits both DD/MM/YYYY and MM/DD/YYYY; read as DD/MM/YYYY. "
                "Map with a profile or fix the export if that is wrong."
            ),
        )
    return DateFormat(best)


def date_expr(column: str, fmt: DateFormat) -> pl.Expr:
    """Parse a String column into `pl.Datetime("us")` in the given style.

    ISO values may be dates or date-times (`T` or a space, optional seconds and fraction,
    `Z` or a UTC offset, converted to naive UTC). Day-first and month-first values may use
    `/`, `-` or `.` and carry a time `HH:MM[:SS]`. Excel serials count days from 1899-12-30
    and are accepted between 20000 and 80000 (1954 to 2119). "empty" reads values as ISO.

    Parameters
    ----------
    column : str
        The String column to parse.
    fmt : DateFormat
        The style, usually from `detect_date_format`.

    Returns
    -------
    pl.Expr
        Datetime("us") named `column`; null where a value does not parse in that style.
    """
    value = pl.col(column).str.strip_chars()
    if fmt.kind == "yyyymmdd":
        parsed = value.str.to_datetime("%Y%m%d", strict=False, time_unit="us")
    elif fmt.kind == "excel_serial":
        parsed = _excel_serial(value)
    elif fmt.kind in ("dmy", "mdy"):
        parsed = _day_month(value, day_first=fmt.kind == "dmy")
    else:
        # "empty" had no values to go by; should any turn up, ISO is the only safe reading.
        parsed = _iso(value)
    return parsed.alias(column)


def _iso(value: pl.Expr) -> pl.Expr:
    # One layout for every variant: "YYYY-MM-DD HH:MM:SS[.f][+HH:MM]".
    spaced = value.str.replace(r"^(\d{4}-\d{1,2}-\d{1,2})[Tt ]", "$1 ")
    zulu = spaced.str.replace(r"[Zz]$", "+00:00")
    seconds = zulu.str.replace(r"^(\S+ \d{1,2}:\d{2})($|[+-])", "$1:00$2")
    with_offset = seconds.str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC"
    ).dt.replace_time_zone(None)
    return pl.coalesce(
        with_offset,
        seconds.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"),
        seconds.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"),
    )


def _day_month(value: pl.Expr, *, day_first: bool) -> pl.Expr:
    date = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    slashed = value.str.replace(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})", "$1/$2/$3")
    formats = [f"{date} {time}" for time in _DAY_MONTH_TIMES] + [date]
    return pl.coalesce(
        [slashed.str.to_datetime(layout, strict=False, time_unit="us") for layout in formats]
    )


def _excel_serial(value: pl.Expr) -> pl.Expr:
    days = pl.when(value.str.contains(r"^\d+(?:\.\d+)?$")).then(
        value.cast(pl.Float64, strict=False)
    )
    low, high = _EXCEL_SERIAL_RANGE
    offset = pl.duration(microseconds=(days * _MICROSECONDS_PER_DAY).round().cast(pl.Int64))
    return pl.when(days.is_between(low, high)).then(
        pl.lit(_EXCEL_EPOCH, pl.Datetime("us")) + offset
    )


def detect_decimal_comma(sample: pl.Series) -> bool:
    """Whether numbers in the sample use a decimal comma ("1.234,50", "12,5").

    A value votes for its last separator being the decimal mark when the other separator
    appears before it ("1.234,50") or when fewer or more than three digits follow it
    ("12,5", "3.14"); "1,234" and "1.234" could be either and do not vote. The comma wins
    only with more votes than the point.

    Parameters
    ----------
    sample : pl.Series
        String values of one column; nulls are ignored.

    Returns
    -------
    bool
        True when the comma is the decimal mark.
    """
    cleaned = _clean_number(pl.col("value"))
    last = cleaned.str.extract(r"([.,])(\d+)\)?$", 1)
    digits = cleaned.str.extract(r"([.,])(\d+)\)?$", 2).str.len_chars()
    before = cleaned.str.replace(r"[.,]\d+\)?$", "")
    other_first = (
        pl.when(last == ",")
        .then(before.str.contains(".", literal=True))
        .otherwise(before.str.contains(",", literal=True))
    )
    decisive = other_first | (digits != 3)
    votes = (
        sample.cast(pl.String)
        .drop_nulls()
        .to_frame("value")
        .select(
            (decisive & (last == ",")).sum().alias("comma"),
            (decisive & (last == ".")).sum().alias("point"),
        )
    )
    return bool(votes["comma"].item() > votes["point"].item())


def number_expr(column: str, *, decimal_comma: bool) -> pl.Expr:
    """Parse a String column of amounts into finite Float64 values.

    Currency symbols and codes ($ € £ ¥ USD EUR GBP JPY CHF), spaces and thousands
    separators are removed; "(12.50)" is negative like "-12.50". A value whose digit
    grouping does not fit the decimal mark (e.g. "1,2,3") is not a number.

    Parameters
    ----------
    column : str
        The String column to parse.
    decimal_comma : bool
        True when "," is the decimal mark and "." groups thousands, usually from
        `detect_decimal_comma`.

    Returns
    -------
    pl.Expr
        Float64 named `column`; null where a value is not a finite number.
    """
    cleaned = _clean_number(pl.col(column))
    negative = cleaned.str.contains(r"^\(.*\)$")
    bare = cleaned.str.replace(r"^\((.*)\)$", "$1")
    if decimal_comma:
        shape, plain = _COMMA_DECIMAL, bare.str.replace_all(".", "", literal=True)
        plain = plain.str.replace(",", ".", literal=True)
    else:
        shape, plain = _DOT_DECIMAL, bare.str.replace_all(",", "", literal=True)
    number = pl.when(bare.str.contains(shape) & bare.str.contains(r"\d")).then(
        plain.cast(pl.Float64, strict=False)
    )
    signed = pl.when(negative).then(-number).otherwise(number)
    return pl.when(signed.is_finite()).then(signed).alias(column)


def _clean_number(value: pl.Expr) -> pl.Expr:
    return value.str.replace_all(_CURRENCY, "").str.replace_all(r"[\s']", "")
