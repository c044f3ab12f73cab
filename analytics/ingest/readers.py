"""Read a customer export into a table of strings, whatever shape it arrives in.

The format is decided from the content, never from the file name: Parquet, Excel (.xlsx),
JSON Lines, or delimited text (CSV/TSV in UTF-8, UTF-16 or Windows-1252, with the delimiter
and header row detected from the first 64 KB). Every column comes out as `pl.String`, stripped,
with empty values as null, plus two helper columns: `ROW_COLUMN` (the line or row number in the
source, for messages) and `PROBLEM_COLUMN` (a sentence when the row itself could not be read
cleanly, e.g. it has more fields than the header). Anything wrong with the file as a whole is a
`ReadError` that says what is wrong and how to fix it.

Large UTF-8 CSV files stay lazy: the frame is a `pl.scan_csv` of the file itself, zipped with a
`pl.scan_lines` of the same file that supplies line numbers and field counts, so a 500 MB export
is read by Polars in bounded memory and never passes through Python. When such a file is
plain (no quote character, so every line is one record), `RawTable.plain` also offers a
typed scan of it, so validation can let Polars parse numbers and dates while reading; the
pass that checks the encoding also notes where whitespace occurs, so that scan skips the
strip when no value can start or end with whitespace.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import math
import os
import re
import tempfile
import weakref
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import fastexcel
import polars as pl

from analytics.errors import ReadError

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

ROW_COLUMN = "__row"
PROBLEM_COLUMN = "__read_problem"

SNIFF_BYTES = 64 * 1024
"""How much of a text file is looked at to choose encoding, delimiter and header row."""

IN_MEMORY_LIMIT = 200 * 1024 * 1024
"""Text that must be re-encoded is kept in memory below this size, in a temporary file above."""

_CHUNK_BYTES = 1024 * 1024
_HEADER_SEARCH_ROWS = 50
_UPLOAD = "Upload the data as CSV, Excel (.xlsx), Parquet or JSON Lines instead."

# Decoders for the encoding names reported in SourceInfo; "utf-16" consumes the BOM itself.
_CODECS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16-le": "utf-16",
    "utf-16-be": "utf-16",
    "cp1252": "cp1252",
}

# Files people upload by mistake: (leading bytes, what is wrong and how to fix it).
_NOT_TABLES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", f"looks like a PNG image, not a table. {_UPLOAD}"),
    (b"\xff\xd8\xff", f"looks like a JPEG image, not a table. {_UPLOAD}"),
    (b"GIF8", f"looks like a GIF image, not a table. {_UPLOAD}"),
    (b"%PDF", f"looks like a PDF document, not a table. {_UPLOAD}"),
    (b"\x1f\x8b", "is gzip-compressed. Decompress it and upload the file inside."),
    (b"BZh", "is bzip2-compressed. Decompress it and upload the file inside."),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "looks like an old Excel 97-2003 workbook (.xls) or a password-protected Office "
        "file, which Touchpoint cannot read. Open it in Excel, save it as .xlsx or CSV "
        "(without a password) and upload that file.",
    ),
)

# ZIP members that identify Office files that are not workbooks.
_ZIP_KINDS: tuple[tuple[str, str], ...] = (
    ("word/", "a Word document (.docx)"),
    ("ppt/", "a PowerPoint presentation (.pptx)"),
)

# What `str.strip_chars()` strips (Unicode White_Space), as the UTF-8 bytes that can show it:
# ASCII whitespace other than the line feed, which ends every record of a plain text.
_ASCII_BLANKS = (b"\t", b"\x0b", b"\x0c", b"\r", b" ")
_WIDE_BLANKS = tuple(
    chr(code).encode()
    for code in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)

_QUALTRICS_IMPORT_ID = re.compile(r'^\{"ImportId":')
_SURVEYMONKEY_SUBLABELS = frozenset({"Response", "Open-Ended Response"})
_EXCEL_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


@dataclass(frozen=True)
class SourceInfo:
    """How a file was read: its format, the detected settings and what was skipped."""

    file_name: str
    format: Literal["csv", "excel", "parquet", "jsonl"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    header_row: int = 1
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlainText:
    """A UTF-8 delimited text whose lines are its records: it has no quote character.

    `padded` is False when no data line holds a whitespace character other than the
    delimiter, so no value can need stripping.
    """

    target: str | bytes
    delimiter: str
    data_line: int  # lines before the first data record
    headers: tuple[str, ...]
    padded: bool = True

    def scan(self, dtypes: Mapping[str, pl.DataType]) -> pl.LazyFrame:
        """Scan the records with some columns parsed by Polars while reading.

        Parameters
        ----------
        dtypes : mapping of str to pl.DataType
            The type of each header column Polars should parse; the others stay `pl.String`
            (stripped, empty values null, as in `RawTable.frame`).

        Returns
        -------
        pl.LazyFrame
            The header columns, `ROW_COLUMN` and `PROBLEM_COLUMN`, in the layout of
            `RawTable.frame`. Collecting it raises `pl.exceptions.PolarsError` when a value
            does not fit its type or a row has more fields than the header. Rows whose last
            field is empty get a `PROBLEM_COLUMN` sentence, because Polars pads rows with
            fewer fields than the header, and reads a blank line as a row of nulls, in the
            same way: a caller that needs to tell them apart reads `RawTable.frame` instead.
        """
        schema = {name: dtypes.get(name, pl.String) for name in self.headers}
        frame = pl.scan_csv(
            self.target,
            has_header=False,
            separator=self.delimiter,
            skip_lines=self.data_line,
            schema=schema,
            row_index_name=ROW_COLUMN,
            row_index_offset=self.data_line + 1,
            raise_if_empty=False,
            empty_string_is_null=True,
        )
        maybe_short = pl.when(pl.col(self.headers[-1]).is_null()).then(
            pl.lit("row may have fewer fields than the header")
        )
        frame = frame.select(
            *self.headers, pl.col(ROW_COLUMN).cast(pl.Int64), maybe_short.alias(PROBLEM_COLUMN)
        )
        # Empty fields are read as null; without padding no other value needs stripping.
        text = [i for i, name in enumerate(self.headers) if schema[name] == pl.String]
        return _finish(frame, len(self.headers), text if self.padded else [])


@dataclass(frozen=True)
class RawTable:
    """An export as strings: one `pl.String` column per header plus the two helper columns.

    `plain` is set when the export is a plain delimited text that can also be scanned typed.
    """

    frame: pl.LazyFrame
    info: SourceInfo
    headers: tuple[str, ...]
    plain: PlainText | None = None


# Customer exports have tens of columns; thousands mean a wrong or hostile file.
MAX_COLUMNS = 1000


def read_export(
    source: str | Path | bytes, *, file_name: str | None = None, sheet: str | None = None
) -> RawTable:
    """Read an export into a lazy table of strings, deciding its format from the content.

    Parameters
    ----------
    source : str, Path or bytes
        A path to the file, or its content (an upload).
    file_name : str, optional
        The name to use in messages; defaults to the path's name, or "The uploaded file".
    sheet : str, optional
        The worksheet to read from an Excel workbook; by default the first sheet with data.
        Ignored for other formats.

    Returns
    -------
    RawTable
        `frame` holds one `pl.String` column per header (stripped, empty values null, rows
        without any value dropped) plus `ROW_COLUMN` (Int64, 1-based line or sheet row of the
        row in the source) and `PROBLEM_COLUMN` (String, null or a sentence such as "row has
        7 fields but the header has 5"). `headers` lists the header columns in order.

    Raises
    ------
    ReadError
        When the file cannot be read as a table: missing, empty, not a table (image, PDF,
        archive, old .xls), undecodable text, a damaged workbook or an unknown sheet.
    """
    src = _open_source(source, file_name)
    kind = _detect_format(src)
    if kind == "parquet":
        return _capped(src, _read_parquet(src))
    if kind == "excel":
        return _capped(src, _read_excel(src, sheet))
    encoding, scanned = _detect_encoding(src)
    text = _sniff_text(src, encoding)
    if _is_json_lines(src, text):
        return _capped(src, _read_json_lines(src, encoding))
    table, spill = _read_delimited(src, encoding, text, scanned)
    if spill is not None:
        # The scan reads the temporary copy when collected; it goes when the table does.
        weakref.finalize(table, spill.unlink, missing_ok=True)
    return _capped(src, table)


def _capped(src: _Source, table: RawTable) -> RawTable:
    """The table, unless it has more columns than any customer export needs (a wide file
    would cost memory and time out of proportion before any check could explain it)."""
    if len(table.headers) > MAX_COLUMNS:
        raise ReadError(
            f"{src.name} has {len(table.headers):,} columns; Touchpoint reads exports with up to "
            f"{MAX_COLUMNS:,}. Export only the columns you need."
        )
    return table


def sheet_names(source: str | Path | bytes) -> tuple[str, ...]:
    """List the worksheets of an Excel (.xlsx) workbook, in workbook order.

    Raises
    ------
    ReadError
        When the source is not an .xlsx workbook or cannot be opened.
    """
    src = _open_source(source, None)
    if _detect_format(src) != "excel":
        raise ReadError(
            f"{src.name} is not an Excel workbook (.xlsx), so it has no sheets. "
            "Choose an .xlsx file to pick a sheet."
        )
    return tuple(_excel_reader(src).sheet_names)


# --- the source and its format -------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    name: str
    target: Path | bytes
    size: int
    head: bytes

    def stream(self) -> IO[bytes]:
        if isinstance(self.target, Path):
            return self.target.open("rb")
        return io.BytesIO(self.target)

    def scan_target(self) -> str | bytes:
        return str(self.target) if isinstance(self.target, Path) else self.target


def _open_source(source: str | Path | bytes, file_name: str | None) -> _Source:
    if isinstance(source, bytes):
        return _Source(file_name or "The uploaded file", source, len(source), source[:SNIFF_BYTES])
    path = Path(source)
    name = file_name or path.name
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            size = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise ReadError(f"{name} was not found at {path}. Check the path and try again.") from None
    except OSError as error:
        raise ReadError(
            f"{name} cannot be opened ({error.strerror or error}). "
            "Check that it is a file you are allowed to read."
        ) from None
    return _Source(name, path, size, head)


def _detect_format(src: _Source) -> Literal["parquet", "excel", "text"]:
    if src.size == 0:
        raise ReadError(
            f"{src.name} is empty (0 bytes). Export the data again and upload the new file."
        )
    if src.head.startswith(b"PAR1"):
        return "parquet"
    if src.head.startswith(b"PK\x03\x04"):
        _require_workbook(src)
        return "excel"
    for magic, problem in _NOT_TABLES:
        if src.head.startswith(magic):
            raise ReadError(f"{src.name} {problem}")
    return "text"


def _require_workbook(src: _Source) -> None:
    try:
        with src.stream() as stream, zipfile.ZipFile(stream) as archive:
            members = archive.namelist()
            mimetype = archive.read("mimetype") if "mimetype" in members else b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ReadError(
            f"{src.name} looks like a damaged ZIP or Excel file. "
            "Download or export it again and upload the new file."
        ) from None
    if "xl/workbook.xml" in members:
        return
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        raise ReadError(
            f"{src.name} is an OpenDocument spreadsheet (.ods). "
            "Save it as .xlsx or CSV and upload that file."
        )
    for prefix, what in _ZIP_KINDS:
        if any(member.startswith(prefix) for member in members):
            raise ReadError(f"{src.name} looks like {what}, not a table. {_UPLOAD}")
    raise ReadError(
        f"{src.name} is a ZIP archive, not an Excel workbook. "
        "Unzip it and upload the CSV or Excel file inside."
    )


# --- text: encoding and sniffing -----------------------------------------------------------


@dataclass(frozen=True)
class _Scanned:
    """What one pass over the raw bytes found: quotes, and where whitespace last shows.

    `tabs_end` and `blanks_end` are the offsets just past the last tab and the last other
    whitespace character (0 when there is none); unknown (the file size) for a file that is
    not UTF-8.
    """

    has_quote: bool
    tabs_end: int
    blanks_end: int


def _detect_encoding(src: _Source) -> tuple[str, _Scanned]:
    """The encoding name, and what a pass over the file found (quote characters may be in
    a file that is not UTF-8)."""
    unknown = _Scanned(True, src.size, src.size)
    if src.head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", unknown
    if src.head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", unknown
    if b"\x00" in src.head:
        raise _binary(src)
    bad_at, scanned = _scan_utf8(src)
    if src.head.startswith(codecs.BOM_UTF8):
        if bad_at is not None:
            raise ReadError(
                f"{src.name} starts with a UTF-8 marker but byte {bad_at + 1} is not UTF-8 "
                "text. Export it again as 'CSV UTF-8' and upload the new file."
            )
        return "utf-8-sig", scanned
    return ("utf-8" if bad_at is None else "cp1252"), scanned


def _scan_utf8(src: _Source) -> tuple[int | None, _Scanned]:
    """Validate UTF-8 over the whole file in chunks: (offset of the first bad byte, what the
    pass found)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_quote = False
    tabs_end = blanks_end = 0
    offset = 0
    carry = b""  # the end of the previous chunk, where a wide blank may start
    unknown = _Scanned(True, src.size, src.size)
    with src.stream() as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            has_quote = has_quote or b'"' in chunk
            tabs_end = _end_of_last(b"\t", chunk, offset, tabs_end)
            for blank in _ASCII_BLANKS[1:]:
                blanks_end = _end_of_last(blank, chunk, offset, blanks_end)
            try:
                # ASCII is valid UTF-8; skipping its decode keeps this pass cheap on big files.
                if not chunk.isascii():
                    decoder.decode(chunk)
                    joined = carry + chunk
                    for blank in _WIDE_BLANKS:
                        blanks_end = _end_of_last(blank, joined, offset - len(carry), blanks_end)
            except UnicodeDecodeError as error:
                return offset + error.start, unknown
            carry = chunk[-2:]
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset - 1, unknown
    return None, _Scanned(has_quote, tabs_end, blanks_end)


def _end_of_last(needle: bytes, chunk: bytes, offset: int, known: int) -> int:
    """The offset just past the last `needle` in `chunk` (which starts at `offset`), if later
    than `known`."""
    at = chunk.rfind(needle)
    return known if at < 0 else max(known, offset + at + len(needle))


def _sniff_text(src: _Source, encoding: str) -> str:
    whole = src.size <= len(src.head)
    try:
        text = codecs.getincrementaldecoder(_CODECS[encoding])().decode(src.head, final=whole)
    except UnicodeDecodeError:
        raise _undecodable(src, encoding) from None
    if not text.strip():
        raise ReadError(
            f"{src.name} is empty (it contains only blank lines or spaces). "
            "Export the data again and upload the new file."
        )
    controls = sum(1 for char in text if char < " " and char not in "\t\n\r\f\v")
    if controls > len(text) / 20:
        raise _binary(src)
    if whole:
        return text
    end = text.rfind("\n")
    if end < 0:
        raise ReadError(
            f"{src.name} has no line break in its first 64 KB, so it is not a CSV or JSON Lines "
            f"table. {_UPLOAD}"
        )
    return text[: end + 1]


def _binary(src: _Source) -> ReadError:
    return ReadError(f"{src.name} does not look like a table: it contains binary data. {_UPLOAD}")


def _undecodable(src: _Source, encoding: str) -> ReadError:
    return ReadError(
        f"{src.name} is not readable as {encoding} text (nor UTF-8). "
        "Save it as 'CSV UTF-8' from your spreadsheet or export tool and upload the new file."
    )


def _is_json_lines(src: _Source, text: str) -> bool:
    """Whether the first line is a JSON object; a JSON array is refused with its own message."""
    if re.match(r"\s*\[\s*\{", text):
        raise ReadError(
            f"{src.name} is a JSON array, not JSON Lines (one object per line). "
            "Export it as JSON Lines or CSV and upload that file."
        )
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False


# --- delimited text ------------------------------------------------------------------------


@dataclass(frozen=True)
class _SniffRow:
    fields: list[str]
    first_line: int
    last_line: int

    @property
    def filled(self) -> int:
        return sum(1 for field in self.fields if field.strip())


def _csv_reader(lines: Iterable[str], delimiter: str) -> CsvReader:
    if delimiter == " ":
        # Runs of spaces delimit; spaces at either end of a line are padding, not empty fields.
        stripped = (line.strip(" \t\r\n") for line in lines)
        return csv.reader(stripped, delimiter=" ", skipinitialspace=True)
    return csv.reader(lines, delimiter=delimiter)


def _sniff_rows(text: str, delimiter: str, *, partial: bool) -> list[_SniffRow]:
    reader = _csv_reader(io.StringIO(text, newline=""), delimiter)
    rows: list[_SniffRow] = []
    last = 0
    for fields in reader:
        rows.append(_SniffRow(fields, last + 1, reader.line_num))
        last = reader.line_num
    # The window may end inside a multi-line quoted field; that last record is unreliable.
    return rows[:-1] if partial and len(rows) > 1 else rows


def _choose_delimiter(text: str, partial: bool) -> str:
    best, best_score = ",", (0.0, 1)
    for delimiter in (",", ";", "\t", "|"):
        score = _consistency(_sniff_rows(text, delimiter, partial=partial))
        if score > best_score:
            best, best_score = delimiter, score
    if best_score[1] < 2 and re.search(r"\S {2,}\S", text):
        spaced = _consistency(_sniff_rows(text, " ", partial=partial))
        if spaced[1] >= 2 and spaced[0] >= 0.9:
            return " "
    return best


def _consistency(rows: Sequence[_SniffRow]) -> tuple[float, int]:
    """(share of non-blank rows with the most common field count, that count); 0 for 1 field."""
    widths = [len(row.fields) for row in rows if row.filled]
    if not widths:
        return 0.0, 1
    width = max(set(widths), key=lambda w: (widths.count(w), w))
    if width < 2:
        return 0.0, 1
    return widths.count(width) / len(widths), width


def _find_header(rows: Sequence[Sequence[str]]) -> int:
    """Index of the header: the first row with enough filled cells to name the columns.

    Titles, dates and filter lines above a header fill one cell, sometimes two; a header fills
    at least half of the widest row, or three cells, even when some of its names are blank.
    """
    filled = [sum(1 for cell in row if cell.strip()) for row in rows[:_HEADER_SEARCH_ROWS]]
    widest = max(filled, default=0)
    need = 1 if widest < 2 else min(3, max(2, math.ceil(widest / 2)))
    return next((i for i, count in enumerate(filled) if count >= need), 0)


def _survey_header(
    header: list[str], below: Sequence[Sequence[str]]
) -> tuple[list[str], int, str | None]:
    """Names, extra header rows to skip and a note, for Qualtrics and SurveyMonkey exports."""
    if len(below) >= 2 and _is_import_id_row(below[1]):
        return (
            header,
            2,
            "Qualtrics export: skipped 2 extra header rows below the header "
            "(question texts and import ids).",
        )
    if below and _SURVEYMONKEY_SUBLABELS & {cell.strip() for cell in below[0]}:
        names: list[str] = []
        question = ""
        subs = list(below[0]) + [""] * max(0, len(header) - len(below[0]))
        for name, sub in zip(header, subs, strict=False):
            if name.strip():
                question = name.strip()
                names.append(name)
            else:
                names.append(f"{question} - {sub.strip()}" if question and sub.strip() else "")
        return (
            names,
            1,
            "SurveyMonkey export: skipped the second header row and added its labels to the "
            "columns whose first header is blank.",
        )
    return header, 0, None


def _is_import_id_row(row: Sequence[str]) -> bool:
    cells = [cell.strip() for cell in row if cell.strip()]
    ids = sum(1 for cell in cells if _QUALTRICS_IMPORT_ID.match(cell))
    return bool(cells) and ids * 2 >= len(cells)


def _unique_headers(raw: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    taken = {ROW_COLUMN, PROBLEM_COLUMN}
    names: list[str] = []
    blank: list[str] = []
    renamed: list[str] = []
    for position, header in enumerate(raw, start=1):
        base = header.strip() or f"column_{position}"
        name, copy = base, 1
        while name in taken:
            copy += 1
            name = f"{base}_{copy}"
        taken.add(name)
        names.append(name)
        if not header.strip():
            blank.append(name)
        elif name != base:
            renamed.append(f"'{base}' -> {name}")
    notes = []
    if blank:
        notes.append(f"Columns without a header were named by position: {', '.join(blank)}.")
    if renamed:
        notes.append(f"Repeated headers were numbered: {', '.join(renamed)}.")
    return tuple(names), notes


def _skipped_note(above: Sequence[Sequence[str]]) -> list[str]:
    if not any(cell.strip() for row in above for cell in row):
        return []
    return [f"Skipped {_plural(len(above), 'row')} above the header (titles or blank lines)."]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class _Layout:
    """Where the data starts and what its columns are called, from the sniffed rows."""

    headers: tuple[str, ...]
    header_row: int
    data_record: int  # records (header, titles, survey rows) before the first data row
    data_line: int  # physical lines those records take in the sniffed text
    notes: tuple[str, ...]


def _layout(rows: Sequence[_SniffRow]) -> _Layout:
    cells = [row.fields for row in rows]
    at = _find_header(cells)
    notes = _skipped_note(cells[:at])
    header, extra, survey_note = _survey_header(list(cells[at]), cells[at + 1 : at + 3])
    if survey_note:
        notes.append(survey_note)
    body = [len(row.fields) for row in rows[at + 1 + extra :] if row.filled]
    # When most rows are wider than the header, the header is what is short, not the rows.
    width = max(set(body), key=body.count) if len(body) > 1 else len(header)
    if width > len(header) and body.count(width) * 2 > len(body):
        notes.append(
            f"The header has {_plural(len(header), 'name')} but most rows have {width} fields; "
            "the unnamed fields are read as extra columns."
        )
        header = header + [""] * (width - len(header))
    names, name_notes = _unique_headers(header)
    first_data = at + extra + 1
    return _Layout(
        names,
        rows[at].first_line,
        first_data,
        rows[first_data - 1].last_line,
        (*notes, *name_notes),
    )


def _quotes_are_clean(text: str, delimiter: str, partial: bool) -> bool:
    """Whether every quote opens or closes a whole field, as Polars' CSV parser requires.

    Quotes inside unquoted values (`55" TV`) or text after a closing quote make Polars fail
    at collect time, so such files are rewritten by Python's csv module first.
    """
    sep = re.escape(delimiter)
    field = re.compile(rf'(?:"[^"]*(?:""[^"]*)*"|[^"{sep}\r\n]*)(?={sep}|\r\n|\n|\Z)')
    unterminated = re.compile(r'"[^"]*(?:""[^"]*)*\Z')
    pos = 0
    while pos < len(text):
        match = field.match(text, pos)
        if match is None:
            return partial and unterminated.match(text, pos) is not None
        pos = match.end()
        pos += 2 if text.startswith("\r\n", pos) else 1
    return True


def _read_delimited(
    src: _Source, encoding: str, text: str, scanned: _Scanned
) -> tuple[RawTable, Path | None]:
    has_quote = scanned.has_quote
    partial = src.size > len(src.head)
    delimiter = _choose_delimiter(text, partial)
    rows = _sniff_rows(text, delimiter, partial=partial)
    if not any(row.filled for row in rows):
        raise ReadError(
            f"{src.name} has no values: every field in it is empty. "
            "Export the data again and upload the new file."
        )
    layout = _layout(rows)
    notes = list(layout.notes)
    if encoding == "cp1252":
        notes.insert(0, "The file is not valid UTF-8, so it was read as Windows-1252 text.")
    fast = (
        encoding in ("utf-8", "utf-8-sig")
        and delimiter != " "
        # Polars ends lines at "\n" only; Python's csv module also at a lone "\r".
        and re.search(r"\r(?!\n)", text) is None
        and (not has_quote or _quotes_are_clean(text, delimiter, partial))
    )
    spill: Path | None = None
    plain = None
    if fast:
        target: str | bytes = src.scan_target()
        frame = _scan_delimited(target, delimiter, layout.headers, layout.data_line, has_quote)
        if not has_quote:
            padded = _may_be_padded(src, scanned, delimiter, layout.data_line)
            plain = PlainText(target, delimiter, layout.data_line, layout.headers, padded)
    else:
        target, spill, data_line = _rewrite_as_utf8_csv(src, encoding, delimiter, layout)
        frame = _scan_delimited(target, ",", layout.headers, data_line, True)
    info = SourceInfo(
        file_name=src.name,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        header_row=layout.header_row,
        notes=tuple(notes),
    )
    return RawTable(frame, info, layout.headers, plain), spill


def _may_be_padded(src: _Source, scanned: _Scanned, delimiter: str, data_line: int) -> bool:
    """Whether a value of a plain text may start or end with whitespace: whether any data
    line (after the first `data_line` lines) holds a whitespace character other than the
    delimiter."""
    data_start = 0
    for _ in range(data_line):
        data_start = src.head.find(b"\n", data_start) + 1
        if data_start == 0:
            return True  # the data starts past the sniffed head: not known
    blanks_end = scanned.blanks_end
    if delimiter != "\t":
        blanks_end = max(blanks_end, scanned.tabs_end)
    return blanks_end > data_start


def _rewrite_as_utf8_csv(
    src: _Source, encoding: str, delimiter: str, layout: _Layout
) -> tuple[str | bytes, Path | None, int]:
    """Copy the records as UTF-8 comma-separated text, quoted where needed.

    Returns the copy, the temporary file holding it (if any) and the number of lines its
    header records take. Records keep their line breaks, so line numbers stay those of the
    source, except where the source was malformed (an unclosed quote gets closed).
    """
    spill: Path | None = None
    sink: IO[bytes] = io.BytesIO()
    if src.size > IN_MEMORY_LIMIT:
        handle, name = tempfile.mkstemp(prefix="touchpoint-", suffix=".csv")
        spill, sink = Path(name), os.fdopen(handle, "wb")
    try:
        data_line = _copy_records(src, encoding, delimiter, layout.data_record, sink)
    except (UnicodeDecodeError, csv.Error) as error:
        sink.close()
        if spill is not None:
            spill.unlink()
        if isinstance(error, UnicodeDecodeError):
            raise _undecodable(src, encoding) from None
        raise ReadError(
            f"{src.name} cannot be read as CSV ({error}). "
            "Export it again as CSV and upload the new file."
        ) from None
    if spill is not None:
        sink.close()
        return str(spill), spill, data_line
    assert isinstance(sink, io.BytesIO)
    return sink.getvalue(), None, data_line


def _copy_records(
    src: _Source, encoding: str, delimiter: str, header_records: int, sink: IO[bytes]
) -> int:
    with src.stream() as raw, io.TextIOWrapper(raw, _CODECS[encoding], newline="") as text:
        records = _csv_reader(text, delimiter)
        header = io.StringIO()
        head_writer = csv.writer(header, lineterminator="\n")
        head_writer.writerows(itertools.islice(records, header_records))
        out = io.TextIOWrapper(sink, encoding="utf-8", newline="")
        out.write(header.getvalue())
        csv.writer(out, lineterminator="\n").writerows(records)
        out.flush()
        out.detach()
    return header.getvalue().count("\n")


def _scan_delimited(
    target: str | bytes, delimiter: str, headers: tuple[str, ...], data_line: int, has_quote: bool
) -> pl.LazyFrame:
    width = len(headers)
    values = pl.scan_csv(
        target,
        has_header=False,
        separator=delimiter,
        skip_lines=data_line,
        schema=dict.fromkeys(headers, pl.String),
        truncate_ragged_lines=True,
        # Without these Polars judges the whole file by the field count of its first data row.
        extra_columns="ignore",
        missing_columns="insert",
        raise_if_empty=False,
    )
    lines = pl.scan_lines(target, row_index_name=ROW_COLUMN, row_index_offset=1).slice(data_line)
    if has_quote:
        records = _records_with_quotes(lines, delimiter, data_line)
        # Delimiters inside quoted values are not field breaks. Only the first `width` values
        # are kept, so a row that is too long may be reported with a few fields too many.
        inside = pl.sum_horizontal(
            pl.nth(list(range(width))).str.count_matches(delimiter, literal=True)
        )
    else:
        records = _records(lines, delimiter)
        inside = pl.lit(0)
    # Both scans split the file the same way; "extend" (pad the shorter with nulls) keeps a
    # corner case they disagree on, such as a stray BOM opening the data, from raising.
    frame = pl.concat([values, records], how="horizontal_extend")
    fields = pl.col("delimiters") - inside + 1
    # A blank line is no row at all: it gets no problem, so `_finish` drops it.
    problem = (
        pl.when(pl.col("blank") | (fields == width))
        .then(None)
        .when(fields == 1)
        .then(pl.lit(f"row has 1 field but the header has {width}"))
        .otherwise(pl.format(f"row has {{}} fields but the header has {width}", fields))
    )
    frame = frame.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64), problem.alias(PROBLEM_COLUMN))
    return _finish(frame, width)


def _records(lines: pl.LazyFrame, delimiter: str) -> pl.LazyFrame:
    """Delimiters per record when the file has no quote character: a line is a record."""
    line = pl.col("line")
    return lines.select(
        ROW_COLUMN,
        line.str.count_matches(delimiter, literal=True).alias("delimiters"),
        (line.str.len_bytes() == 0).alias("blank"),
    )


def _records_with_quotes(lines: pl.LazyFrame, delimiter: str, data_line: int) -> pl.LazyFrame:
    """First line and delimiter count of each record, where quoted values may span lines.

    A line continues the record above when the lines before it hold an odd number of quotes;
    a record ends on a line that the next line does not continue.
    """
    line = pl.col("line")
    odd = pl.col("odd")
    continues = pl.col("continues")
    counted = pl.col("counted")
    # Counting first lets the text go before the running sums, which need the rows in order.
    counts = lines.select(
        ROW_COLUMN,
        (line.str.count_matches('"', literal=True) % 2).alias("odd"),
        line.str.count_matches(delimiter, literal=True).alias("delimiters"),
        (line.str.len_bytes() == 0).alias("empty"),
    )
    return (
        counts.with_columns(((odd.cum_sum() - odd) % 2 == 1).alias("continues"))
        .with_columns(
            continues.shift(-1, fill_value=False).not_().alias("ends_record"),
            (pl.col("empty") & continues.not_()).alias("blank"),
            pl.col("delimiters").cum_sum().alias("counted"),
        )
        .filter(pl.col("ends_record"))
        .select(
            (pl.col(ROW_COLUMN).shift(1, fill_value=data_line) + 1).alias(ROW_COLUMN),
            (counted - counted.shift(1, fill_value=0)).alias("delimiters"),
            "blank",
        )
    )


def _finish(frame: pl.LazyFrame, width: int, text: Sequence[int] | None = None) -> pl.LazyFrame:
    """Strip values, make empty ones null and drop rows with neither a value nor a problem.

    `text` lists the positions of the String columns to strip when not all `width` columns
    are text (or none needs it).
    """
    columns = pl.nth(list(range(width)))
    positions = list(range(width)) if text is None else list(text)
    if positions:
        texts = pl.nth(positions)
        # Two steps so the strip runs once; when/then rather than `replace("", None)`, which
        # stops Polars from streaming the scan.
        frame = frame.with_columns(texts.str.strip_chars()).with_columns(
            pl.when(texts.str.len_bytes() > 0).then(texts)
        )
    return frame.filter(
        pl.any_horizontal(columns.is_not_null()) | pl.col(PROBLEM_COLUMN).is_not_null()
    ).select(columns, ROW_COLUMN, PROBLEM_COLUMN)


# --- Excel ---------------------------------------------------------------------------------


def _excel_reader(src: _Source) -> fastexcel.ExcelReader:
    try:
        return fastexcel.read_excel(src.scan_target())
    except (fastexcel.FastExcelError, OSError) as error:
        raise ReadError(
            f"{src.name} looks like an Excel workbook but cannot be opened "
            f"({str(error).splitlines()[0]}). "
            "Open it in Excel, save it again as .xlsx and upload the new file."
        ) from None


def _load_sheet(src: _Source, reader: fastexcel.ExcelReader, name: str) -> pl.DataFrame:
    try:
        # Every cell as text, and row 1 of the sheet as row 0 even when it is empty.
        sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
        frame: pl.DataFrame = sheet.to_polars()
    except fastexcel.FastExcelError as error:
        raise ReadError(
            f"Sheet '{name}' of {src.name} cannot be read ({str(error).splitlines()[0]}). "
            "Open the workbook in Excel, save it again as .xlsx and upload the new file."
        ) from None
    return frame


def _read_excel(src: _Source, sheet: str | None) -> RawTable:
    reader = _excel_reader(src)
    sheets = tuple(reader.sheet_names)
    listed = ", ".join(f"'{name}'" for name in sheets)
    if sheet is not None and sheet not in sheets:
        raise ReadError(
            f"{src.name} has no sheet named '{sheet}'. Its sheets are {listed}; choose one of them."
        )
    for name in [sheet] if sheet is not None else sheets:
        cells = _load_sheet(src, reader, name)
        if cells.width and cells.select(pl.any_horizontal(pl.all().is_not_null()).any()).item():
            break
    else:
        if sheet is not None:
            raise ReadError(
                f"Sheet '{sheet}' of {src.name} is empty. Choose a sheet with data ({listed})."
            )
        raise ReadError(
            f"{src.name} is empty: none of its sheets ({listed}) has a filled cell. "
            "Export the data again and upload the new file."
        )
    # Excel stores dates as date-times; exactly midnight is how a plain date comes out.
    cells = cells.with_columns(pl.all().cast(pl.String).str.replace(_EXCEL_MIDNIGHT, "${1}"))
    head = [[cell or "" for cell in row] for row in cells.head(_HEADER_SEARCH_ROWS).rows()]
    at = _find_header(head)
    header, extra, survey_note = _survey_header(head[at], head[at + 1 : at + 3])
    names, name_notes = _unique_headers(header)
    notes = _skipped_note(head[:at])
    if survey_note:
        notes.append(survey_note)
    if sheet is None and len(sheets) > 1:
        notes.append(f"Read sheet '{name}', the first with data; the workbook has {listed}.")
    frame = (
        cells.rename(dict(zip(cells.columns, names, strict=True)))
        .with_row_index(ROW_COLUMN, offset=1)
        .slice(at + 1 + extra)
        .lazy()
        .with_columns(
            pl.col(ROW_COLUMN).cast(pl.Int64), pl.lit(None, pl.String).alias(PROBLEM_COLUMN)
        )
        .select(pl.nth(list(range(1, len(names) + 1))), ROW_COLUMN, PROBLEM_COLUMN)
    )
    info = SourceInfo(
        file_name=src.name,
        format="excel",
        sheet=name,
        sheets=sheets,
        header_row=at + 1,
        notes=tuple(notes + name_notes),
    )
    return RawTable(_finish(frame, len(names)), info, names)


# --- Parquet and JSON Lines ----------------------------------------------------------------


def _as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return column
    if dtype == pl.Date:
        return column.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        utc = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return (utc if dtype.time_zone else column).dt.to_string("%Y-%m-%d %H:%M:%S%.f")
    if isinstance(dtype, pl.Duration):
        return column.dt.to_string()
    if isinstance(dtype, pl.Binary):
        return column.bin.encode("hex")
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        wrapped = pl.struct(column.alias("v")).struct.json_encode()
        text = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
        return pl.when(column.is_not_null()).then(text)
    return column.cast(pl.String)


def _read_parquet(src: _Source) -> RawTable:
    frame = pl.scan_parquet(src.scan_target())
    try:
        schema = frame.collect_schema()
    except pl.exceptions.PolarsError as error:
        reason = str(error).splitlines()[0]
        raise ReadError(
            f"{src.name} looks like a Parquet file but cannot be read ({reason}). "
            "Export it again and upload the new file."
        ) from None
    names, notes = _unique_headers(schema.names())
    columns = [
        _as_text(pl.nth(i), dtype).alias(name)
        for i, (name, dtype) in enumerate(zip(names, schema.dtypes(), strict=True))
    ]
    frame = frame.select(columns).with_row_index(ROW_COLUMN, offset=1)
    frame = frame.select(
        pl.nth(list(range(1, len(names) + 1))),
        pl.col(ROW_COLUMN).cast(pl.Int64),
        pl.lit(None, pl.String).alias(PROBLEM_COLUMN),
    )
    info = SourceInfo(file_name=src.name, format="parquet", notes=tuple(notes))
    return RawTable(_finish(frame, len(names)), info, names)


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _json_lines(src: _Source, encoding: str) -> Iterator[tuple[int, str]]:
    with src.stream() as raw, io.TextIOWrapper(raw, _CODECS[encoding]) as text:
        try:
            yield from enumerate(text, start=1)
        except UnicodeDecodeError:
            raise _undecodable(src, encoding) from None


def _read_json_lines(src: _Source, encoding: str) -> RawTable:
    records: list[dict[str, object]] = []
    numbers: list[int] = []
    problems: list[str | None] = []
    for number, line in _json_lines(src, encoding):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = None if isinstance(record, dict) else "line is JSON but not an object"
        except (ValueError, RecursionError):
            record, problem = {}, "line is not valid JSON"
        records.append(record if problem is None else {})
        numbers.append(number)
        problems.append(problem)
    keys = list(dict.fromkeys(key for record in records for key in record))
    names, notes = _unique_headers(keys)
    columns = {
        name: pl.Series(name, [_json_text(record.get(key)) for record in records], pl.String)
        for key, name in zip(keys, names, strict=True)
    }
    frame = pl.DataFrame(
        {
            **columns,
            ROW_COLUMN: pl.Series(numbers, dtype=pl.Int64),
            PROBLEM_COLUMN: pl.Series(problems, dtype=pl.String),
        }
    ).lazy()
    info = SourceInfo(file_name=src.name, format="jsonl", encoding=encoding, notes=tuple(notes))
    return RawTable(_finish(frame, len(names)), info, names)
