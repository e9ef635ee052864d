"""Validation of the anime metadata files (``anime.csv``, ``anime_with_synopsis.csv``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from animerec_shared.errors import DataValidationError

from .csv_checks import parser_reason, read_header, shorten

MAX_FIELD_CHARS = 100_000
MAX_FILE_BYTES = 1024**3
UNKNOWN = "Unknown"

ANIME_REQUIRED = [
    "MAL_ID",
    "Name",
    "Score",
    "Genres",
    "English name",
    "Type",
    "Episodes",
    "Aired",
    "Rating",
    "Members",
    "Popularity",
]
SYNOPSIS_REQUIRED = ["MAL_ID", "synopsis"]
# The real Kaggle copies say "Genders" and "sypnopsis"; both spellings are accepted.
ALTERNATIVES = {"Genres": "Genders", "synopsis": "sypnopsis"}

_UINT = r"^\d+$"
_UFLOAT = r"^\d+(\.\d+)?$"
# column -> (regex a known value must match, what is expected)
ANIME_VALUE_RULES = {
    "MAL_ID": (_UINT, "a non-negative integer MAL_ID"),
    "Score": (_UFLOAT, "a score 0-10 or 'Unknown'"),
    "Episodes": (_UINT, "an integer episode count or 'Unknown'"),
    "Members": (_UINT, "a non-negative integer member count or 'Unknown'"),
    "Popularity": (_UINT, "a non-negative integer popularity rank or 'Unknown'"),
}


def line_of_row(path: Path, row: int) -> int:
    """Returns the 1-based line where data row ``row`` (0-based, after the header) starts."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))  # long fields are reported, not fatal
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f)
        next(reader, None)
        start = reader.line_num + 1
        for i, _ in enumerate(reader):
            if i == row:
                return start
            start = reader.line_num + 1
    return start


def _diagnose(path: Path, display: str, n_cols: int, reason: str) -> DataValidationError:
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        return DataValidationError(
            display, data.count(b"\n", 0, nul) + 1, None, "text", found="binary data (NUL bytes)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return DataValidationError(
            display, data.count(b"\n", 0, exc.start) + 1, None, "UTF-8 text", found="bytes that are not UTF-8"
        )
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
    reader = csv.reader(text.splitlines(keepends=True))
    start = 1
    for fields in reader:
        if len(fields) != n_cols:
            what = "empty line" if not fields else f"{len(fields)} fields"
            return DataValidationError(
                display, start, None, f"{n_cols} comma-separated fields like the header", found=what
            )
        start = reader.line_num + 1
    return DataValidationError(display, None, None, "well-formed CSV", found=parser_reason(reason))


def _first_bad(mask: np.ndarray) -> int | None:
    bad = np.flatnonzero(mask)
    return int(bad[0]) if bad.size else None


def validate_metadata(
    path: Path,
    required: list[str],
    value_rules: dict[str, tuple[str, str]] | None = None,
    name: str | None = None,
) -> int:
    """Returns the number of data rows of a metadata CSV after checking its schema and values.

    Raises DataValidationError naming file (``name``, default the path's own), line, column and what was expected.
    """
    display = name or path.name
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DataValidationError(display, None, None, "a metadata file under 1 GB", found=f"{size:,} bytes")
    names, _ = read_header(path, display, required, ALTERNATIVES)
    opts = dict(
        read_options=pcsv.ReadOptions(block_size=max(size + 1, 1 << 20), use_threads=False),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={c: pa.string() for c in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    try:
        table = pcsv.read_csv(path, **opts)
    except pa.ArrowInvalid as exc:
        raise _diagnose(path, display, len(names), str(exc)) from None
    if table.num_rows == 0:
        raise DataValidationError(display, 2, None, "at least one data row after the header", found="no rows")
    for col in names:
        lengths = pc.utf8_length(table.column(col)).to_numpy(zero_copy_only=False)
        row = _first_bad(lengths > MAX_FIELD_CHARS)
        if row is not None:
            raise DataValidationError(
                display,
                line_of_row(path, row),
                col,
                f"a field of at most {MAX_FIELD_CHARS:,} characters",
                found=f"{int(lengths[row]):,} characters",
            )
    for col, (pattern, expected) in (value_rules or {}).items():
        values = table.column(col)
        ok = pc.match_substring_regex(values, pattern)
        if col != "MAL_ID":
            ok = pc.or_(ok, pc.equal(values, UNKNOWN))
        row = _first_bad(~ok.to_numpy(zero_copy_only=False))
        if row is not None:
            raise DataValidationError(
                display, line_of_row(path, row), col, expected, found=shorten(values[row].as_py())
            )
    if value_rules and "Score" in value_rules:
        score = table.column("Score")
        known = pc.if_else(pc.equal(score, UNKNOWN), "0", score)
        values = pc.cast(known, pa.float64()).to_numpy()
        row = _first_bad(values > 10)
        if row is not None:
            raise DataValidationError(
                display, line_of_row(path, row), "Score", ANIME_VALUE_RULES["Score"][1], found=score[row].as_py()
            )
    ids = pc.cast(pc.utf8_slice_codeunits(table.column("MAL_ID"), 0, 12), pa.int64()).to_numpy()
    row = _first_bad(ids > 2**31 - 1)
    if row is not None:
        raise DataValidationError(display, line_of_row(path, row), "MAL_ID", "an id below 2^31", found=str(ids[row]))
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if dup.size:
        row = int(order[dup[0] + 1])
        raise DataValidationError(
            display, line_of_row(path, row), "MAL_ID", "unique MAL_ID values", found=f"{ids[row]} again"
        )
    return table.num_rows
