"""CSV exports neutralise spreadsheet formulas (OWASP CWE-1236) and keep numbers as they are."""

import polars as pl
import pytest

from analytics.exports import neutralise_formulas, safe_csv_bytes


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("＝1+1", "'＝1+1"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("1,234.5", "1,234.5"),
        ("plain text", "plain text"),
        (None, None),
    ],
)
def test_neutralise_formulas(cell, written):
    frame = pl.DataFrame({"value": [cell], "n": [1]}, schema={"value": pl.String, "n": pl.Int64})
    assert neutralise_formulas(frame).rows() == [(written, 1)]


def test_safe_csv_has_a_bom_and_neutralised_cells():
    data = safe_csv_bytes(pl.DataFrame({"comment": ["=1+1", "fine"]}))
    assert data == "\ufeffcomment\n'=1+1\nfine\n".encode()
