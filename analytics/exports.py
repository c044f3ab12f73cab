"""Files people download: CSV with formula-injection protection."""

from __future__ import annotations

import io

import polars as pl

# A spreadsheet treats a cell starting with one of these as a formula (OWASP CWE-1236),
# including the full-width forms some spreadsheet apps also accept.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# Signed numbers such as "-12.50" are data, not formulas, and stay as they are.
_PLAIN_NUMBER = r"^[-+]?[0-9][0-9.,]*$"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote."""
    pattern = "^[" + "".join("\\" + p if p in "-+" else p for p in FORMULA_PREFIXES) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern) & ~pl.col(c).str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def safe_csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV (UTF-8 with BOM so Excel reads accents) with formula cells neutralised."""
    return b"\xef\xbb\xbf" + neutralise_formulas(frame).write_csv().encode("utf-8")


def xlsx_bytes(frame: pl.DataFrame, sheet: str = "Touchpoint") -> bytes:
    """An Excel workbook of `frame` (text is written as text, never as a formula)."""
    buffer = io.BytesIO()
    frame.write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()
