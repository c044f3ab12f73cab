"""Whatever bytes arrive, reading them either works or raises a TouchpointError.

Collecting the frame is part of "works": a lazy frame that fails later would surface as a
traceback in the validation step instead of a message at upload.
"""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analytics.errors import TouchpointError
from analytics.ingest.readers import PROBLEM_COLUMN, ROW_COLUMN, read_export

CSV_PIECES = st.sampled_from(
    [
        b",",
        b";",
        b"\t",
        b"|",
        b'"',
        b'""',
        b"\n",
        b"\r\n",
        b"\r",
        b" ",
        b"  ",
        b"a",
        b"12",
        b"{",
        b"}",
        b"\xc3\xa9",
        b"\xe9",
        b"\xef\xbb\xbf",
        b"PK\x03\x04",
        b'{"ImportId":"QID1"}',
        b"Response",
    ]
)


def _read_or_refuse(content: bytes) -> None:
    try:
        table = read_export(content, file_name="fuzz.csv")
    except TouchpointError:
        return
    frame = table.frame.collect()
    assert frame.columns == [*table.headers, ROW_COLUMN, PROBLEM_COLUMN]
    assert frame.schema[ROW_COLUMN] == pl.Int64
    assert all(frame.schema[name] == pl.String for name in table.headers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
@example(b'a,b\n1,"2\n')
@example(b'a,b\n1,x"y\n3,4\n')
@example(b"\xff\xfea\x00")
def test_random_bytes_read_or_raise_a_touchpoint_error(content):
    _read_or_refuse(content)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CSV_PIECES, max_size=60).map(b"".join))
def test_csv_like_bytes_read_or_raise_a_touchpoint_error(content):
    _read_or_refuse(content)
