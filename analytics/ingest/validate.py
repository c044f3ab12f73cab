"""Validation: one pass over a mapped export that types every value and collects every problem.

Each row-level rule is a `_Check`: a flag expression, a reason expression for the quarantine
file, and a severity. All checks run in a single lazy Polars query, so a 10M-row export is
validated in one streaming pass; the report counts each problem and keeps its first examples.

Optimistic typed read: when the export is a plain delimited text (`RawTable.plain`), the pass
first runs over a scan in which Polars parses the number and plain ISO date columns while
reading, which is several times faster than parsing text afterwards. It only stands when it
finds nothing wrong; a value that does not fit, a ragged row or any failed check sends the
file through the text pass, which writes the full report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from analytics.contract import STATUS_SYNONYMS, Column, Dataset, attribute_name
from analytics.ingest.mapping import IGNORE, KEEP_AS_ATTRIBUTE, ColumnMatch
from analytics.ingest.parse import (
    DateFormat,
    date_expr,
    detect_date_format,
    detect_decimal_comma,
    number_expr,
)
from analytics.ingest.readers import PROBLEM_COLUMN, ROW_COLUMN, RawTable

Severity = Literal["error", "warning"]
EXAMPLES = 5
_SAMPLE_ROWS = 20_000
REASON = "reason"
_SYNONYMS = list(STATUS_SYNONYMS)
_SYNONYM_ENUM = pl.Enum(_SYNONYMS)
_NORMALISED = pl.Series([STATUS_SYNONYMS[word] for word in _SYNONYMS], dtype=pl.String)
_FORMAT_LABEL = {
    "iso": "YYYY-MM-DD",
    "yyyymmdd": "YYYYMMDD",
    "dmy": "DD/MM/YYYY",
    "mdy": "MM/DD/YYYY",
    "excel_serial": "an Excel date number",
    "empty": "a date",
}


@dataclass(frozen=True)
class Example:
    row: int | None
    value: str | None


@dataclass(frozen=True)
class Problem:
    """One kind of problem in one column, with how many rows have it and the first examples."""

    code: str
    severity: Severity
    column: str | None
    message: str
    count: int
    examples: tuple[Example, ...] = ()

    def describe(self) -> str:
        if not self.examples:
            return self.message
        shown = ", ".join(
            f"row {e.row}: {e.value!r}" if e.value is not None else f"row {e.row}"
            for e in self.examples
        )
        return f"{self.message} (e.g. {shown})"


@dataclass(frozen=True)
class ValidationReport:
    """Everything wrong with one export, found in one pass."""

    dataset: str
    file_name: str
    rows_read: int
    rows_invalid: int
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    blocking: bool = False  # a file-level problem: nothing can load whatever the policy

    @property
    def rows_valid(self) -> int:
        return 0 if self.blocking else self.rows_read - self.rows_invalid

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.blocking:
            head = f"{self.file_name}: cannot be loaded into {self.dataset}."
        elif self.ok:
            head = f"{self.file_name}: all {self.rows_read:,} rows are valid for {self.dataset}."
        else:
            head = (
                f"{self.file_name}: {self.rows_invalid:,} of {self.rows_read:,} rows have "
                f"problems for {self.dataset}."
            )
        lines = [head]
        lines += [f"  error: {p.describe()}" for p in self.errors]
        lines += [f"  warning: {p.describe()}" for p in self.warnings]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_frame(self) -> pl.DataFrame:
        """One row per problem: for the report table on the Data page."""
        return pl.DataFrame(
            {
                "severity": [p.severity for p in self.problems],
                "column": [p.column or "" for p in self.problems],
                "problem": [p.message for p in self.problems],
                "rows": [p.count for p in self.problems],
                "examples": [
                    "; ".join(
                        f"row {e.row}: {e.value}" if e.value is not None else f"row {e.row}"
                        for e in p.examples
                    )
                    for p in self.problems
                ],
            },
            schema={
                "severity": pl.String,
                "column": pl.String,
                "problem": pl.String,
                "rows": pl.Int64,
                "examples": pl.String,
            },
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "file": self.file_name,
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "rows_invalid": self.rows_invalid,
            "ok": self.ok,
            "problems": [
                {
                    "code": p.code,
                    "severity": p.severity,
                    "column": p.column,
                    "message": p.message,
                    "count": p.count,
                    "examples": [{"row": e.row, "value": e.value} for e in p.examples],
                }
                for p in self.problems
            ],
            "notes": list(self.notes),
        }


@dataclass
class Validated:
    """A validated export: the report, the typed valid rows and the invalid rows with reasons."""

    report: ValidationReport
    valid: pl.DataFrame
    invalid: pl.DataFrame
    matches: list[ColumnMatch] = field(default_factory=list)


@dataclass(frozen=True)
class _Check:
    code: str
    severity: Severity
    column: str | None
    message: str  # with {n} for the count
    flag: pl.Expr
    reason: pl.Expr | None  # None for warnings: the row still loads
    example: pl.Expr
    # Decided on the collected frame instead of in the streaming pass (see _flag_duplicates).
    deferred: bool = False


def validate(
    raw: RawTable,
    ds: Dataset,
    matches: Sequence[ColumnMatch],
    *,
    existing_keys: pl.Series | None = None,
    known_customers: pl.Series | None = None,
) -> Validated:
    """Type and check every row of `raw` for dataset `ds` in one pass.

    Parameters
    ----------
    raw : RawTable
        The export as read (all String columns plus the row number and read-problem columns).
    ds : Dataset
        The contract dataset it is loaded into.
    matches : sequence of ColumnMatch
        Where each source header goes.
    existing_keys : pl.Series, optional
        Keys already loaded (append mode): rows repeating one are invalid.
    known_customers : pl.Series, optional
        Customer ids already loaded: other ids are reported as orphans (a warning).
    """
    targets = _targets(matches)[0]
    missing = [c for c in ds.required if c not in targets and not (c == ds.key and ds.derive_key)]
    if missing:
        return _blocked(raw, ds, matches, _missing_columns_problem(missing, ds, raw.headers))

    sample, clean_start = _first_rows(raw, targets, ds)
    native = _native_types(raw, ds, targets, sample) if clean_start else None
    if raw.plain is not None and native is not None:
        frame = raw.plain.scan(native)
        try:
            checked = _validate(
                raw, frame, native, ds, matches, sample, existing_keys, known_customers
            )
        except pl.exceptions.PolarsError:
            checked = None  # a value that does not fit its type, or a row that is too long
        if checked is not None and checked.report.ok and not checked.report.blocking:
            return checked
    return _validate(raw, raw.frame, None, ds, matches, sample, existing_keys, known_customers)


def _validate(
    raw: RawTable,
    frame: pl.LazyFrame,
    native: Mapping[str, pl.DataType] | None,
    ds: Dataset,
    matches: Sequence[ColumnMatch],
    sample: dict[str, pl.Series],
    existing_keys: pl.Series | None,
    known_customers: pl.Series | None,
) -> Validated:
    """The validation pass over `frame`, whose `native` columns Polars has already typed.

    `native` is None for the text pass over `raw.frame`. A typed pass keeps no original text,
    so its invalid rows lack it: only a typed pass that finds no error is meant to be used.
    """
    targets, attributes = _targets(matches)
    file_name = raw.info.file_name
    notes: list[str] = list(raw.info.notes)
    checks: list[_Check] = []
    # `typed` holds each typed value's formula over the source text (reasons and examples of
    # invalid rows are computed from it); `values` the column pass 1 computes it into once,
    # which the checks' flags and the output read.
    typed: dict[str, pl.Expr] = {}
    values: dict[str, pl.Expr] = {}
    helpers: dict[str, pl.Expr] = {}
    extra_problems: list[Problem] = []
    for name, source in targets.items():
        col = ds.column(name)
        values[name] = pl.col(_value_column(name))
        expr, col_checks, fmt, fallback = _typed_column(
            col, source, sample.get(source), (native or {}).get(source), values[name]
        )
        helpers.update(fallback)
        typed[name] = expr
        checks += col_checks
        if fmt is not None and fmt.ambiguous and fmt.note:
            extra_problems.append(Problem("ambiguous_date", "warning", name, fmt.note, 0))

    key = ds.key
    derived: pl.Expr | None = None
    if key and key not in targets and ds.derive_key:
        derived = _derived_key(ds, values)
        typed[key] = _derived_key(ds, typed)
        values[key] = pl.col(_value_column(key))
        extra_problems.append(
            Problem(
                "derived_key",
                "warning",
                key,
                f"The export has no {key} column; each row got a {key} derived from its "
                "values, so loading the same file again is recognised as a duplicate.",
                0,
            )
        )
    checks.append(
        _Check(
            "unreadable_row",
            "error",
            None,
            "{n} {rows} could not be read cleanly",
            pl.col(PROBLEM_COLUMN).is_not_null(),
            pl.col(PROBLEM_COLUMN),
            pl.col(PROBLEM_COLUMN),
        )
    )
    checks += _row_rules(ds, typed, values, targets, existing_keys, known_customers)

    frame = frame.with_columns(pl.col(PROBLEM_COLUMN).cast(pl.String), **helpers)
    frame = frame.with_columns(
        expr.alias(_value_column(name)) for name, expr in typed.items() if name in targets
    )
    if derived is not None and key:
        frame = frame.with_columns(derived.alias(_value_column(key)))
    # A row that could not be read is reported once as such, not again per column.
    readable = pl.col(PROBLEM_COLUMN).is_null()
    flags = [
        (c.flag if c.code == "unreadable_row" else c.flag & readable)
        .fill_null(False)
        .alias(f"__flag{i}")
        for i, c in enumerate(checks)
    ]
    sources = list(dict.fromkeys(raw.headers))
    is_error = [pl.col(f"__flag{i}") for i, c in enumerate(checks) if c.severity == "error"]
    invalid_row = pl.any_horizontal(is_error) if is_error else pl.lit(False)
    # Pass 1 over the whole file: typed values and one boolean per check. The original text
    # is kept only for invalid rows, so memory follows the clean data, not the raw text.
    result = (
        frame.with_columns(flags)
        .with_columns(invalid_row.alias("__invalid"))
        .select(
            pl.col(ROW_COLUMN).alias("__row"),
            *[value.alias(name) for name, value in values.items()],
            *[pl.col(src).alias(attr) for attr, src in attributes.items()],
            *[pl.col(f"__flag{i}") for i in range(len(checks))],
            pl.col("__invalid"),
            pl.when(pl.col("__invalid")).then(pl.col(PROBLEM_COLUMN)).alias(PROBLEM_COLUMN),
            *[
                (
                    pl.when(pl.col("__invalid")).then(pl.col(s))
                    if native is None
                    else pl.lit(None, pl.String)
                ).alias(f"__raw{j}")
                for j, s in enumerate(sources)
            ],
        )
        .collect(engine="streaming")
    )
    for i, check in enumerate(checks):
        if check.deferred and check.column is not None:
            result = _flag_duplicates(result, i, check.column, targets, attributes, sources)
    # Pass 2 over the invalid rows only: the sentences for the quarantine file and report.
    rejected = _explain(result.filter(pl.col("__invalid")), checks, sources, helpers)
    problems = extra_problems + _problems(checks, result, rejected)
    if result.height == 0:
        problems.insert(
            0,
            Problem(
                "no_rows",
                "error",
                None,
                f"{file_name} has a header but no data rows. Export the data again with rows.",
                0,
            ),
        )
    valid = result.filter(~pl.col("__invalid")).select(
        *[c for c in ds.column_names if c in typed], *attributes
    )
    valid = _type_attributes(valid, list(attributes))
    invalid = rejected.select(pl.col("__row").alias("row"), *sources, pl.col(REASON))
    report = ValidationReport(
        dataset=ds.name,
        file_name=file_name,
        rows_read=result.height,
        rows_invalid=invalid.height,
        problems=tuple(problems),
        notes=tuple(notes),
        blocking=result.height == 0,
    )
    return Validated(report, valid, invalid, list(matches))


def _targets(matches: Sequence[ColumnMatch]) -> tuple[dict[str, str], dict[str, str]]:
    """Source header of each mapped contract column, and of each kept attribute column."""
    targets = {
        m.target: m.source
        for m in matches
        if m.target is not None and m.target not in (KEEP_AS_ATTRIBUTE, IGNORE)
    }
    attributes = {
        attribute_name(m.source): m.source
        for m in matches
        if m.target is None or m.target == KEEP_AS_ATTRIBUTE
    }
    return targets, attributes


def _native_types(
    raw: RawTable, ds: Dataset, targets: dict[str, str], sample: dict[str, pl.Series]
) -> dict[str, pl.DataType] | None:
    """The columns a typed read can parse: numbers with a decimal point, plain ISO dates.

    None when the file is not plain.
    """
    if raw.plain is None:
        return None
    native: dict[str, pl.DataType] = {}
    for name, source in targets.items():
        col = ds.column(name)
        values = sample.get(source)
        if values is None or values.len() == 0:
            continue
        if col.kind in ("int", "float") and not detect_decimal_comma(values):
            native[source] = pl.Float64()
        elif col.kind in ("date", "datetime"):
            layout = _plain_layout(detect_date_format(values, name), values)
            if layout == "%Y-%m-%d":
                native[source] = pl.Date()
    return native


def _blocked(
    raw: RawTable, ds: Dataset, matches: Sequence[ColumnMatch], problem: Problem
) -> Validated:
    rows = raw.frame.select(pl.len()).collect().item()
    report = ValidationReport(
        ds.name, raw.info.file_name, rows, rows, (problem,), tuple(raw.info.notes), blocking=True
    )
    return Validated(report, pl.DataFrame(), pl.DataFrame(), list(matches))


def _missing_columns_problem(missing: list[str], ds: Dataset, headers: Sequence[str]) -> Problem:
    names = ", ".join(missing)
    found = ", ".join(repr(h) for h in headers) or "none"
    plural = "s" if len(missing) > 1 else ""
    verb = "are" if len(missing) > 1 else "is"
    return Problem(
        "missing_column",
        "error",
        names,
        f"Required column{plural} {names} {verb} missing: no column of the file maps to "
        f"{'them' if len(missing) > 1 else 'it'}. Columns found: {found}. Choose the matching "
        f"column in the mapping (CLI: --map 'Header={missing[0]}').",
        0,
    )


def _first_rows(
    raw: RawTable, targets: dict[str, str], ds: Dataset
) -> tuple[dict[str, pl.Series], bool]:
    """One look at the first rows: every date and number column, to decide its format from
    data, and whether they are clean enough for a typed read (no ragged row, no empty last
    field), so that files which would fail it are read only once.
    """
    wanted = list(
        dict.fromkeys(
            src
            for name, src in targets.items()
            if ds.column(name).kind in ("date", "datetime", "int", "float")
        )
    )
    last = pl.col(raw.headers[-1]) if raw.headers else pl.lit(None)
    unclean = (last.is_null() | pl.col(PROBLEM_COLUMN).is_not_null()).alias("__unclean")
    head = raw.frame.head(_SAMPLE_ROWS).select(*wanted, unclean).collect()
    sample = {c: head[c].drop_nulls() for c in wanted}
    return sample, not bool(head["__unclean"].any())


def _value_column(name: str) -> str:
    return f"__value_{name}"


def _typed_column(
    col: Column, source: str, sample: pl.Series | None, native: pl.DataType | None, value: pl.Expr
) -> tuple[pl.Expr, list[_Check], DateFormat | None, dict[str, pl.Expr]]:
    """The typed value and the checks of one column; `native` when Polars typed it already.

    The checks flag rows by `value`, the column that holds the typed value in pass 1.
    """
    raw = pl.col(source)
    checks: list[_Check] = []
    fmt: DateFormat | None = None
    fallback: dict[str, pl.Expr] = {}
    label = col.name
    if col.kind in ("date", "datetime"):
        fmt = detect_date_format(
            sample if sample is not None else pl.Series([], dtype=pl.String), col.name
        )
        if native is None:
            parsed, fallback = _fast_dates(source, fmt, sample)
        else:
            parsed = raw.cast(pl.Datetime("us"))
        expr = parsed.dt.date() if col.kind == "date" else parsed
        what = f"not a date (read as {_FORMAT_LABEL[fmt.kind]})"
    elif col.kind in ("int", "float"):
        comma = detect_decimal_comma(sample) if sample is not None else False
        if native is None:
            number, fallback = _fast_numbers(source, comma)
        else:
            # Polars reads "inf" and "nan" too, which are not amounts.
            number = pl.when(raw.is_finite()).then(raw)
        if col.kind == "int":
            expr = pl.when(number == number.round()).then(number).cast(pl.Int64)
            what = "not a whole number"
        else:
            expr = number
            what = "not a number"
    elif col.allowed:
        expr, fallback = _fast_categories(source)
        if col.name == "status":
            expr = pl.when(raw.is_null()).then(pl.lit("completed")).otherwise(expr)
        allowed = ", ".join(col.allowed)
        what = f"not one of {allowed}"
    else:
        expr = raw
        what = ""
    if what:
        checks.append(
            _Check(
                "unparseable",
                "error",
                label,
                f"{{n}} {{values}} of {label} {{are}} {what}",
                raw.is_not_null() & value.is_null(),
                pl.format(f"{label}: '{{}}' is {what}", raw),
                raw,
            )
        )
    if col.required:
        checks.append(
            _Check(
                "required_missing",
                "error",
                label,
                f"{{n}} {{rows}} {{have}} no {label} (it is required)",
                raw.is_null(),
                pl.lit(f"{label} is empty (required)"),
                pl.lit(None, dtype=pl.String),
            )
        )
    if col.minimum is not None or col.maximum is not None:
        lo = col.minimum if col.minimum is not None else float("-inf")
        hi = col.maximum if col.maximum is not None else float("inf")
        bounds = col.rule_text.split(";")[0]
        checks.append(
            _Check(
                "out_of_range",
                "error",
                label,
                f"{{n}} {{values}} of {label} {{are}} outside {bounds}",
                (value < lo) | (value > hi),
                pl.format(f"{label}: {{}} is outside {bounds}", expr.cast(pl.String)),
                raw,
            )
        )
    return expr, checks, fmt, fallback


# Fast paths. Most exports use one plain layout per column, which Polars parses natively in a
# fraction of the time of the general parsers; only the values the plain layout misses (a
# mostly-null helper column) go through the general, regex-based parsers.
_PLAIN_LAYOUTS = {
    "iso": ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"),
    "yyyymmdd": ("%Y%m%d",),
    "dmy": ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d.%m.%Y", "%d-%m-%Y"),
    "mdy": ("%m/%d/%Y", "%m/%d/%Y %H:%M"),
}


def _fast_dates(
    source: str, fmt: DateFormat, sample: pl.Series | None
) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    layout = _plain_layout(fmt, sample)
    if layout is None:
        return date_expr(source, fmt), {}
    fast = pl.col(source).str.to_datetime(layout, strict=False, time_unit="us")
    helper = f"__fallback_date_{source}"
    rest: dict[str, pl.Expr] = {helper: pl.when(fast.is_null()).then(pl.col(source))}
    return pl.coalesce(fast, date_expr(helper, fmt)), rest


def _plain_layout(fmt: DateFormat, sample: pl.Series | None) -> str | None:
    """The plain layout that reads the most sample values exactly as the general parser does."""
    if sample is None or sample.len() == 0:
        return None
    frame = sample.to_frame("value")
    general = frame.select(date_expr("value", fmt)).to_series()
    best, best_count = None, 0
    for layout in _PLAIN_LAYOUTS.get(fmt.kind, ()):
        fast = frame.select(
            pl.col("value").str.to_datetime(layout, strict=False, time_unit="us")
        ).to_series()
        agrees = (fast.is_null() | (fast == general)).all()
        count = int(fast.is_not_null().sum())
        if agrees and count > best_count:
            best, best_count = layout, count
    return best


def _fast_numbers(source: str, decimal_comma: bool) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    if decimal_comma:
        # "1.234" means 1234 here, so the plain reading would be wrong, not just slow.
        return number_expr(source, decimal_comma=True), {}
    plain = pl.col(source).cast(pl.Float64, strict=False)
    helper = f"__fallback_number_{source}"
    rest: dict[str, pl.Expr] = {helper: pl.when(plain.is_null()).then(pl.col(source))}
    general = number_expr(helper, decimal_comma=False)
    # Plain casting accepts "inf" and "nan", which are not amounts.
    return pl.when(plain.is_finite()).then(plain).otherwise(general), rest


def _fast_categories(source: str) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    """The normalised category: most values are a synonym as written (they are lowercase), so
    only the others (a mostly-null helper column) are lowercased before the lookup.

    The lookup casts to an Enum of the synonyms and picks the normalised word by the Enum's
    index: in a streaming query `replace_strict` costs several times more.
    """
    raw = pl.col(source)
    helper = f"__fallback_category_{source}"
    rest: dict[str, pl.Expr] = {helper: pl.when(~raw.is_in(_SYNONYMS)).then(raw)}
    as_written = raw.cast(_SYNONYM_ENUM, strict=False)
    lowered = pl.col(helper).str.to_lowercase().cast(_SYNONYM_ENUM, strict=False)
    index = pl.coalesce(as_written, lowered).to_physical()
    return pl.lit(_NORMALISED).gather(index), rest


def _derived_key(ds: Dataset, typed: dict[str, pl.Expr]) -> pl.Expr:
    parts = [typed[c].cast(pl.String).fill_null("") for c in ds.column_names if c in typed]
    base = pl.concat_str(parts, separator="|")
    occurrence = pl.int_range(1, pl.len() + 1).over(base).cast(pl.String)
    return pl.concat_str([base, occurrence], separator="#")


def _row_rules(
    ds: Dataset,
    typed: dict[str, pl.Expr],
    values: dict[str, pl.Expr],
    targets: dict[str, str],
    existing_keys: pl.Series | None,
    known_customers: pl.Series | None,
) -> list[_Check]:
    checks: list[_Check] = []
    key = ds.key
    if key and key in typed:
        k = typed[key]
        checks.append(
            _Check(
                "duplicate_key",
                "error",
                key,
                f"{{n}} {{rows}} repeat{{s}} {_article(key)} {key} that appears earlier in "
                "the file",
                pl.lit(False),
                pl.format(f"{key} '{{}}' appears earlier in the file", k),
                k,
                deferred=True,
            )
        )
        if existing_keys is not None and existing_keys.len() > 0:
            checks.append(
                _Check(
                    "duplicate_existing",
                    "error",
                    key,
                    f"{{n}} {{rows}} {{have}} {_article(key)} {key} that is already loaded "
                    "(use replace mode to load the file instead of what is there)",
                    values[key].is_in(existing_keys.implode()),
                    pl.format(f"{key} '{{}}' is already loaded", k),
                    k,
                )
            )
    if ds.at_least_one_of:
        # A score given but invalid is reported as such, not also as "no score".
        present = [pl.col(targets[c]) for c in ds.at_least_one_of if c in targets]
        names = ", ".join(ds.at_least_one_of)
        no_score = pl.all_horizontal([e.is_null() for e in present]) if present else pl.lit(True)
        checks.append(
            _Check(
                "no_score",
                "error",
                names,
                f"{{n}} {{rows}} {{have}} none of {names}",
                no_score,
                pl.lit(f"none of {names} is given"),
                pl.lit(None, dtype=pl.String),
            )
        )
    if (
        ds.references_customers
        and "customer_id" in typed
        and known_customers is not None
        and known_customers.len() > 0
    ):
        cid = typed["customer_id"]
        known = values["customer_id"]
        checks.append(
            _Check(
                "orphan_customer",
                "warning",
                "customer_id",
                "{n} {rows} reference{s} a customer_id that is not in customers ({they} loaded; "
                "load the customers export to link them)",
                known.is_not_null() & ~known.is_in(known_customers.implode()),
                None,
                cid,
            )
        )
    return checks


def _flag_duplicates(
    result: pl.DataFrame,
    index: int,
    key: str,
    targets: dict[str, str],
    attributes: dict[str, str],
    sources: list[str],
) -> pl.DataFrame:
    """Flag rows repeating an earlier row's key.

    Distinct hashes prove distinct keys, and hashing is several times faster than finding
    first occurrences, so the exact check only runs when some hash repeats.
    """
    keys = result.get_column(key).drop_nulls()
    if _distinct_hashes(keys):
        return result
    flag = pl.col(key).is_not_null() & ~pl.col(key).is_first_distinct()
    result = result.with_columns(flag.alias(f"__flag{index}"))
    newly = pl.col(f"__flag{index}") & ~pl.col("__invalid")
    # Pass 1 kept the original text of invalid rows only; rows invalid just for a repeated
    # key get theirs back from the typed values (ids and text as given; dates, numbers and
    # statuses as normalised).
    value_of = {src: name for name, src in targets.items()}
    value_of.update({src: name for name, src in attributes.items()})
    restored = [
        pl.when(newly)
        .then(pl.col(value_of[s]).cast(pl.String))
        .otherwise(pl.col(f"__raw{j}"))
        .alias(f"__raw{j}")
        for j, s in enumerate(sources)
        if s in value_of
    ]
    return result.with_columns(restored).with_columns(
        (pl.col("__invalid") | pl.col(f"__flag{index}")).alias("__invalid")
    )


def _distinct_hashes(keys: pl.Series) -> bool:
    """Whether the (non-null) keys all hash differently, which proves them distinct.

    NumPy's sort of 64-bit integers (vectorised) is several times faster than counting
    distinct hashes with Polars; equal neighbours in sorted order are repeated hashes.
    """
    hashes = np.sort(keys.hash().to_numpy())
    return not bool((hashes[1:] == hashes[:-1]).any())


def _explain(
    invalid: pl.DataFrame, checks: list[_Check], sources: list[str], helpers: dict[str, pl.Expr]
) -> pl.DataFrame:
    """Reasons and examples for the invalid rows, from their original text and flags."""
    frame = invalid.select(
        "__row",
        PROBLEM_COLUMN,
        *[pl.col(f"__flag{i}") for i in range(len(checks))],
        *[pl.col(f"__raw{j}").alias(s) for j, s in enumerate(sources)],
    ).with_columns(**helpers)
    reasons = [
        pl.when(pl.col(f"__flag{i}")).then(c.reason)
        for i, c in enumerate(checks)
        if c.reason is not None
    ]
    reason = pl.concat_str(reasons, separator="; ", ignore_nulls=True) if reasons else pl.lit("")
    examples = [
        pl.when(pl.col(f"__flag{i}")).then(c.example.cast(pl.String)).alias(f"__example{i}")
        for i, c in enumerate(checks)
        if c.severity == "error"
    ]
    return frame.with_columns(reason.alias(REASON), *examples)


def _problems(checks: list[_Check], result: pl.DataFrame, rejected: pl.DataFrame) -> list[Problem]:
    if result.height == 0:
        return []
    counts = result.select(pl.col(f"__flag{i}").sum() for i in range(len(checks))).row(0)
    problems = []
    for i, (check, count) in enumerate(zip(checks, counts, strict=True)):
        if not count:
            continue
        if check.severity == "error":
            head = rejected.filter(pl.col(f"__flag{i}")).head(EXAMPLES)
            values = head[f"__example{i}"]
        else:
            # Warned rows load, so their example is the loaded (typed) value.
            head = result.filter(pl.col(f"__flag{i}")).head(EXAMPLES)
            values = head[check.column or ""].cast(pl.String)
        examples = tuple(Example(int(r), v) for r, v in zip(head["__row"], values, strict=True))
        problems.append(
            Problem(
                check.code,
                check.severity,
                check.column,
                check.message.format(n=f"{count:,}", **_grammar(int(count))),
                int(count),
                examples,
            )
        )
    return sorted(problems, key=lambda p: (p.severity != "error", -p.count))


def _grammar(count: int) -> dict[str, str]:
    one = count == 1
    return {
        "rows": "row" if one else "rows",
        "values": "value" if one else "values",
        "are": "is" if one else "are",
        "have": "has" if one else "have",
        "s": "s" if one else "",
        "they": "it is" if one else "they are",
    }


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _type_attributes(frame: pl.DataFrame, attributes: list[str]) -> pl.DataFrame:
    """Keep extra columns as numbers when every value is one (rating attributes), else text."""
    numeric = []
    for name in attributes:
        values = frame[name]
        as_number = values.cast(pl.Float64, strict=False)
        if values.null_count() < values.len() and as_number.null_count() == values.null_count():
            numeric.append(name)
    return frame.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in numeric)
