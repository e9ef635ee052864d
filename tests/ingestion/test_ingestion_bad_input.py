"""Bad input: each case fails with an error naming file, line and column, and storage stays byte-identical."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from ingestion_helpers import ANIMELIST_HEADER, animelist_rows, storage_snapshot, write_animelist

from animerec_ingestion.ingest import ingest_dataset
from animerec_shared.errors import DataValidationError, InvalidInputError


def _lines(header: str, rows: list[str], newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


GOOD = [f"{u},{a},{(u + a) % 11},2,3" for u in range(3) for a in range(1, 8)]  # 21 rows, lines 2-22

# case id -> (file name, content, expected line, expected column, words the message must contain)
CASES = {
    "missing_column": (
        "animelist.csv",
        _lines("user_id,anime_id,watching_status", ["1,2,3"]),
        1,
        "rating",
        ["column 'rating'"],
    ),
    "non_numeric_rating": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, [*GOOD[:5], "7,8,abc,2,3", *GOOD[5:]]),
        7,
        "rating",
        ["integer rating 0-10", "'abc'"],
    ),
    "out_of_range_rating": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, [*GOOD, "7,8,11,2,3"]),
        23,
        "rating",
        ["0-10", "'11'"],
    ),
    "zero_in_rating_complete": (
        "rating_complete.csv",
        _lines("user_id,anime_id,rating", ["1,2,5", "1,3,0"]),
        3,
        "rating",
        ["1-10", "'0'"],
    ),
    "negative_user_id": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, [*GOOD[:2], "-4,8,5,2,3"]),
        4,
        "user_id",
        ["non-negative integer user id", "'-4'"],
    ),
    "user_id_past_the_api_bound": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, [*GOOD[:2], f"{2**31},8,5,2,3"]),
        4,
        "user_id",
        ["< 2^31", f"'{2**31}'"],
    ),
    "float_anime_id": ("animelist.csv", _lines(ANIMELIST_HEADER, ["4,8.5,5,2,3"]), 2, "anime_id", ["'8.5'"]),
    "empty_file": ("animelist.csv", b"", 1, None, ["header line", "empty file"]),
    "header_only": ("animelist.csv", _lines(ANIMELIST_HEADER, []), 2, None, ["at least one data row"]),
    "truncated_last_line": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, GOOD)[:-1] + b"\n12,4",
        23,
        None,
        ["5 comma-separated fields", "2 fields", "truncated"],
    ),
    "empty_value": ("animelist.csv", _lines(ANIMELIST_HEADER, [*GOOD[:3], "1,9,,2,3"]), 5, "rating", ["found ''"]),
    "blank_line": ("animelist.csv", _lines(ANIMELIST_HEADER, [*GOOD[:3], "", *GOOD[3:]]), 5, None, ["empty line"]),
    "binary_garbage": (
        "animelist.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40,
        1,
        None,
        ["binary"],
    ),
    "binary_after_header": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, GOOD[:4]) + b"\x00\x01\x02\xff\xfe\n",
        6,
        None,
        ["binary data"],
    ),
    "not_utf8": ("animelist.csv", _lines(ANIMELIST_HEADER, GOOD[:2]) + b"1,2,\xff\xfe,2,3\n", 4, None, ["UTF-8"]),
    "wrong_delimiter": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER.replace(",", ";"), [r.replace(",", ";") for r in GOOD]),
        1,
        None,
        ["delimited by ';'"],
    ),
    "one_mb_field": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, [*GOOD[:9], "1,2," + "9" * (1 << 20) + ",2,3"]),
        11,
        "rating",
        ["1,048,576 characters"],
    ),
    "extra_field": (
        "animelist.csv",
        _lines(ANIMELIST_HEADER, [*GOOD[:1], "1,2,3,4,5,6"]),
        3,
        None,
        ["5 comma-separated fields", "6 fields"],
    ),
    "anime_bad_score": ("anime.csv", None, None, "Score", ["score 0-10", "'great'"]),
    "anime_duplicate_id": ("anime.csv", None, None, "MAL_ID", ["unique MAL_ID"]),
    "anime_missing_genres": ("anime.csv", None, 1, "Genres", ["'Genres' (or 'Genders')"]),
    "synopsis_one_mb": (
        "anime_with_synopsis.csv",
        None,
        3,
        "sypnopsis",
        ["at most 100,000 characters", "1,048,576 characters"],
    ),
}


def _anime_variant(case: str, folder: Path) -> tuple[bytes, int | None]:
    lines = (folder / "anime.csv").read_text(encoding="utf-8").splitlines()
    if case == "anime_bad_score":
        cells = lines[5].split(",")
        cells[2] = "great"
        lines[5] = ",".join(cells)
        return ("\n".join(lines) + "\n").encode(), 6
    if case == "anime_duplicate_id":
        lines.append(lines[3])
        return ("\n".join(lines) + "\n").encode(), len(lines)
    if case == "anime_missing_genres":
        lines[0] = lines[0].replace("Genres", "Kinds")
        return ("\n".join(lines) + "\n").encode(), 1
    syn = (folder / "anime_with_synopsis.csv").read_text(encoding="utf-8").splitlines()
    syn[2] = f'2,Name 2,7.0,"Action","{"x" * (1 << 20)}"'
    return ("\r\n".join(syn) + "\r\n").encode(), 3


@pytest.mark.parametrize("case", sorted(CASES))
def test_ingest_rejects_bad_input_leaving_storage_identical(case, source, file_storage, tmp_path):
    first = ingest_dataset(file_storage, source, max_rows=1_000_000)
    before = storage_snapshot(file_storage)
    name, content, line, column, words = CASES[case]
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in source.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    if content is None:
        content, line = _anime_variant(case, bad)
    if name != "animelist.csv":
        os.remove(bad / "animelist.csv") if name == "rating_complete.csv" else None
    (bad / name).write_bytes(content)

    with pytest.raises(DataValidationError) as info:
        ingest_dataset(file_storage, bad, max_rows=1_000_000)

    err = info.value
    assert err.file == name
    assert err.line == line, err.message
    assert err.column == column, err.message
    assert err.message.startswith(f"{name}, line {line}")
    for word in words:
        assert word in err.message, err.message
    assert err.to_body()["error"]["details"]["line"] == line
    assert storage_snapshot(file_storage) == before
    assert file_storage.get_current("raw") == first["id"]
    assert file_storage.list_published("raw") == [first["id"]]


def test_ingest_rejects_folder_without_ratings_file(source, file_storage):
    os.remove(source / "animelist.csv")
    with pytest.raises(InvalidInputError) as info:
        ingest_dataset(file_storage, source, max_rows=100)
    assert info.value.code == "missing_file"
    assert file_storage.get_current("raw") is None


def test_ingest_reports_exact_line_in_a_later_block(source, file_storage, monkeypatch):
    import animerec_ingestion.ratings_stream as rs

    monkeypatch.setattr(rs, "BLOCK_BYTES", 1024)  # many blocks, each cut at a line end
    rows = np.tile(animelist_rows(), (3, 1))
    rows[:, 0] += np.repeat(np.arange(3) * 1000, len(rows) // 3)
    rows[1234, 2] = 42
    write_animelist(source, rows)
    with pytest.raises(DataValidationError) as info:
        ingest_dataset(file_storage, source, max_rows=1_000_000)
    assert (info.value.line, info.value.column, info.value.found) == (1236, "rating", "42")
