"""Streaming validation of a ratings file into ``ratings.parquet``, with the row cap and sha256.

The file is read in fixed-size byte blocks cut at line ends; each block is parsed by pyarrow's
multi-threaded CSV reader with explicit integer types, checked with numpy and appended to a
Parquet writer. Memory stays bounded by the block size whatever the file size. Each data row is
exactly one line (empty lines are errors), so a row's line number is known without re-reading.
When the fast path finds anything wrong, the block is re-scanned line by line to name the exact
line, column and value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from animerec_shared.contracts.common import ANIME_ID_MAX, USER_ID_MAX, USER_ID_MIN
from animerec_shared.errors import DataValidationError

from .csv_checks import locate_bad_int_row, parser_reason, read_header

BLOCK_BYTES = 32 * 1024 * 1024
INT32_MAX = 2**31 - 1

# file name -> (kind, lowest accepted rating)
RATINGS_FILES = {"animelist.csv": ("animelist", 0), "rating_complete.csv": ("rating_complete", 1)}
REQUIRED = ["user_id", "anime_id", "rating"]
OPTIONAL = ["watching_status", "watched_episodes"]
TYPES = {
    "user_id": pa.int64(),
    "anime_id": pa.int32(),
    "rating": pa.int8(),
    "watching_status": pa.int8(),
    "watched_episodes": pa.int32(),
}


@dataclass
class RatingsResult:
    """What the ingestion of one ratings file found; goes into the raw manifest."""

    source: str
    kind: str
    rows_read: int
    rows_kept: int
    capped: bool
    max_rows: int
    sha256: str
    bytes: int
    columns: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def _ranges(columns: list[str], min_rating: int) -> dict[str, tuple[int, int, str]]:
    spec = {
        "user_id": (USER_ID_MIN, USER_ID_MAX, "a non-negative integer user id (< 2^31, as the API takes)"),
        "anime_id": (0, ANIME_ID_MAX, "a non-negative integer anime id (< 2^31)"),
        "rating": (
            min_rating,
            10,
            f"an integer rating {min_rating}-10" + (" (0 = not scored)" if min_rating == 0 else ""),
        ),
        "watching_status": (0, 127, "a non-negative integer watching status code"),
        "watched_episodes": (0, INT32_MAX, "a non-negative integer episode count"),
    }
    return {c: spec[c] for c in columns}


class _BlockParser:
    """Parses and checks one block of complete lines; raises DataValidationError on bad data."""

    def __init__(self, display: str, names: list[str], columns: list[str], min_rating: int):
        self.display, self.names, self.columns = display, names, columns
        self.ranges = _ranges(columns, min_rating)
        self.read_opts = pcsv.ReadOptions(column_names=names, block_size=4 << 20, use_threads=True)
        self.parse_opts = pcsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False)
        self.convert_opts = pcsv.ConvertOptions(
            column_types={c: TYPES[c] for c in columns}, include_columns=columns, strings_can_be_null=False
        )

    def parse(self, data: bytes, first_line: int) -> pa.Table:
        try:
            table = pcsv.read_csv(
                pa.py_buffer(data),
                read_options=self.read_opts,
                parse_options=self.parse_opts,
                convert_options=self.convert_opts,
            )
        except pa.ArrowInvalid as exc:
            self._fail(data, first_line, str(exc))
        for col in self.columns:
            arr = table.column(col)
            lo, hi, _ = self.ranges[col]
            if arr.null_count:
                self._fail(data, first_line, f"empty value in {col}")
            bounds = pc.min_max(arr)  # ChunkedArray.to_numpy() would copy chunk by chunk, slowly
            if arr.length() and (bounds["min"].as_py() < lo or bounds["max"].as_py() > hi):
                self._fail(data, first_line, f"{col} out of range")
        return table

    def _fail(self, data: bytes, first_line: int, why: str) -> None:
        err = locate_bad_int_row(data, first_line, self.display, self.names, self.ranges)
        if err is None:  # the fast parser disagreed with the exact scan: still fail, with its reason
            n = data.count(b"\n")
            err = DataValidationError(
                self.display,
                first_line,
                None,
                f"well-formed CSV rows (somewhere in lines {first_line}-{first_line + n})",
                found=parser_reason(why),
            )
        raise err


class _HashingReader:
    """Reads fixed-size blocks one step ahead in a helper thread, hashing them in file order."""

    def __init__(self, f: BinaryIO, pool: ThreadPoolExecutor):
        self.f, self.pool = f, pool
        self.digest = hashlib.sha256()
        self.bytes = 0
        self._ahead: Future | None = pool.submit(self._read)

    def _read(self) -> bytes:
        block = self.f.read(BLOCK_BYTES)
        self.digest.update(block)
        self.bytes += len(block)
        return block

    def next(self) -> bytes:
        """Returns the next block (b"" at the end) and starts reading the one after."""
        if self._ahead is None:
            return b""
        block = self._ahead.result()
        self._ahead = self.pool.submit(self._read) if block else None
        return block


def _cut_after_lines(data: bytes, n: int) -> int:
    """Returns the byte offset just after the n-th line of data (n >= 1)."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    return int(ends[n - 1]) + 1 if n <= ends.size else len(data)


def ingest_ratings(
    path: Path,
    out_path: Path,
    max_rows: int,
    progress: Callable[[str], None] | None = None,
    name: str | None = None,
) -> RatingsResult:
    """Returns what was ingested after validating ``path`` and writing its first rows to Parquet.

    Args:
        path: ``animelist.csv`` or ``rating_complete.csv`` (the name decides the rating range).
        out_path: the ``ratings.parquet`` to write (user_id int64, anime_id int32, rating int8
            and, for animelist, watching_status int8, watched_episodes int32).
        max_rows: rows kept at most; later rows are hashed and counted but not parsed.
        progress: called with a short message about every 1M rows.
        name: the file's name in the source folder when ``path`` is where a symlink led (default: its own).
    """
    display = name or path.name
    kind, min_rating = RATINGS_FILES[display]
    names, header_len = read_header(path, display, REQUIRED)
    columns = REQUIRED + [c for c in OPTIONAL if c in names]
    parser = _BlockParser(display, names, columns, min_rating)
    kept = extra = 0
    capped = False
    next_report = 1_000_000
    schema = pa.schema([(c, TYPES[c]) for c in columns])
    pending = b""
    last_byte = b"\n"
    # Two helper threads overlap reading + hashing (ahead) and Parquet writing (behind) with parsing.
    with (
        open(path, "rb") as f,
        pq.ParquetWriter(out_path, schema, compression="lz4", use_dictionary=False, write_statistics=False) as writer,
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="ratings-io") as pool,
    ):
        reader = _HashingReader(f, pool)
        written: Future | None = None
        block = reader.next()[header_len:]
        while True:
            if capped:  # past the cap: hash and count lines only
                if block:
                    extra += block.count(b"\n")
                    last_byte = block[-1:]
            else:
                data = pending + block
                if block:
                    cut = data.rfind(b"\n") + 1
                    if cut == 0 and len(data) > BLOCK_BYTES:
                        raise DataValidationError(
                            display, kept + 2, None, "lines shorter than 32 MB", found="a longer line (binary data?)"
                        )
                    pending, data = data[cut:], data[:cut]
                else:
                    pending = b""
                if data:
                    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                    if kept + n_lines > max_rows:
                        cut = _cut_after_lines(data, max_rows - kept)
                        extra += data.count(b"\n", cut)
                        last_byte = data[-1:]
                        data, capped = data[:cut], True
                    table = parser.parse(data, kept + 2)
                    if written is not None:
                        written.result()
                    written = pool.submit(writer.write_table, table)
                    kept += table.num_rows
                    if capped and pending:
                        extra += pending.count(b"\n")
                        last_byte = pending[-1:]
                        pending = b""
                    if progress and kept >= next_report:
                        progress(f"{display}: {kept:,} rows validated")
                        next_report = (kept // 1_000_000 + 1) * 1_000_000
            if not block:
                break
            block = reader.next()
        if written is not None:
            written.result()
    if capped and last_byte not in (b"\n", b""):
        extra += 1  # the file's last line has no line break
    if kept == 0:
        raise DataValidationError(display, 2, None, "at least one data row after the header", found="no rows")
    return RatingsResult(
        source=display,
        kind=kind,
        rows_read=kept + extra,
        rows_kept=kept,
        capped=capped,
        max_rows=max_rows,
        sha256=reader.digest.hexdigest(),
        bytes=reader.bytes,
        columns=columns,
    )
