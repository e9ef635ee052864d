"""Header checks and the slow, exact locator of a bad line (only run once a fast parse failed)."""

from __future__ import annotations

import re
from pathlib import Path

from animerec_shared.errors import DataValidationError

HEADER_MAX_BYTES = 64 * 1024
# An error echoes at most the one offending field, cut to this length: never a whole line or header,
# which may be anything (a file a symlink pointed at, a secret in another column).
FOUND_MAX_CHARS = 40
_INT = re.compile(r"-?\d+")
_OTHER_DELIMITERS = (";", "\t", "|")


def shorten(value: str) -> str:
    """Returns value cut to a readable length, saying how long it really was."""
    if len(value) <= FOUND_MAX_CHARS:
        return value
    return f"{value[:FOUND_MAX_CHARS]}... ({len(value):,} characters)"


def parser_reason(message: str) -> str:
    """Returns a CSV parser's error message without the row text it may end with (``..., got 1: <row>``)."""
    first = message.splitlines()[0] if message else ""
    return ": ".join(first.split(": ")[:2])[:120]


def read_header(
    path: Path,
    display: str,
    required: list[str],
    alternatives: dict[str, str] | None = None,
) -> tuple[list[str], int]:
    """Returns (column names, byte length of the header line including its newline).

    Raises DataValidationError for an empty file, binary data, a header without a newline within
    64 KB, another delimiter than the comma, or missing required columns. ``alternatives`` maps a
    required name to another accepted spelling (``Genres`` <- ``Genders``).
    """
    with open(path, "rb") as f:
        head = f.read(HEADER_MAX_BYTES + 1)
    if not head.strip():
        raise DataValidationError(
            display, 1, None, f"a header line with columns {', '.join(required)}", found="an empty file"
        )
    end = head.find(b"\n")
    if end < 0 and len(head) > HEADER_MAX_BYTES:
        raise DataValidationError(
            display,
            1,
            None,
            "a header line shorter than 64 KB",
            found="no line break in the first 64 KB (binary data?)",
        )
    raw = head if end < 0 else head[:end]
    if b"\x00" in raw:
        raise DataValidationError(display, 1, None, "a text CSV file", found="binary data (NUL bytes)")
    try:
        text = raw.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise DataValidationError(
            display, 1, None, "UTF-8 text", found="bytes that are not UTF-8 (binary data?)"
        ) from None
    names = [c.strip().strip('"').strip() for c in text.split(",")]
    if len(names) == 1:
        hint = next((d for d in _OTHER_DELIMITERS if d in text), None)
        if hint:
            raise DataValidationError(
                display,
                1,
                None,
                f"comma-separated columns {', '.join(required)}",
                found=f"{shorten(text)} (delimited by {hint!r}?)",
            )
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataValidationError(display, 1, shorten(dup), "unique column names", found=f"{shorten(dup)} twice")
    for col in required:
        alt = (alternatives or {}).get(col)
        if col not in names and (alt is None or alt not in names):
            wanted = f"a column {col!r}" + (f" (or {alt!r})" if alt else "")
            raise DataValidationError(
                display,
                1,
                col,
                f"{wanted}; header must contain {', '.join(required)}",
                found=f"a header of {len(names)} columns without it",
            )
    return names, (len(head) if end < 0 else end + 1)


def locate_bad_int_row(
    buf: bytes, first_line: int, display: str, names: list[str], ranges: dict[str, tuple[int, int, str]]
) -> DataValidationError | None:
    """Returns the error for the first bad line of a chunk of an all-integer CSV, or None.

    ``first_line`` is the 1-based line number of the chunk's first line; ``ranges`` maps each
    checked column to (min, max, description of what is expected).
    """
    positions = {c: names.index(c) for c in ranges}
    lines = buf.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for offset, raw in enumerate(lines):
        line_no = first_line + offset
        raw = raw.rstrip(b"\r")
        if b"\x00" in raw:
            return DataValidationError(display, line_no, None, "text", found="binary data (NUL bytes)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return DataValidationError(display, line_no, None, "UTF-8 text", found="bytes that are not UTF-8")
        if not text:
            return DataValidationError(display, line_no, None, f"a row of {len(names)} fields", found="an empty line")
        fields = text.split(",")
        if len(fields) != len(names):
            what = "a truncated row?" if len(fields) < len(names) else "too many fields"
            return DataValidationError(
                display,
                line_no,
                None,
                f"{len(names)} comma-separated fields ({', '.join(names)})",
                found=f"{len(fields)} fields ({what})",
            )
        for col, (lo, hi, expected) in ranges.items():
            value = fields[positions[col]].strip().strip('"')
            if len(value) > 20 or not _INT.fullmatch(value) or not lo <= int(value) <= hi:
                return DataValidationError(display, line_no, col, expected, found=shorten(value))
    return None
