"""Cleaning of the anime metadata into the ``anime.parquet`` columns of docs/architecture.md."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .metadata_checks import ALTERNATIVES, UNKNOWN

ANIME_SCHEMA = pa.schema(
    [
        ("anime_id", pa.int32()),
        ("anime_index", pa.int32()),
        ("name", pa.string()),
        ("english_name", pa.string()),
        ("japanese_name", pa.string()),
        ("title", pa.string()),
        ("genres", pa.list_(pa.string())),
        ("type", pa.string()),
        ("episodes", pa.float64()),
        ("year", pa.float64()),
        ("aired_from", pa.string()),
        ("age_rating", pa.string()),
        ("score", pa.float64()),
        ("members", pa.int64()),
        ("popularity", pa.int64()),
        ("synopsis", pa.string()),
    ]
)


def _read_strings(path: Path) -> pa.Table:
    with open(path, newline="", encoding="utf-8-sig") as f:
        names = next(csv.reader(f))
    size = path.stat().st_size
    table = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=max(size + 1, 1 << 20)),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in names}, strings_can_be_null=False),
    )
    renamed = [c.strip() for c in table.column_names]
    for wanted, alt in ALTERNATIVES.items():
        if wanted not in renamed and alt in renamed:
            renamed[renamed.index(alt)] = wanted
    return table.rename_columns(renamed)


def _text(table: pa.Table, col: str) -> pa.Array:
    if col not in table.column_names:
        return pa.array([""] * table.num_rows, pa.string())
    values = pc.utf8_trim_whitespace(table.column(col).combine_chunks())
    return pc.if_else(pc.equal(values, UNKNOWN), "", values)


def _number(table: pa.Table, col: str) -> np.ndarray:
    """Returns float64 values, NaN where unknown or not a number."""
    text = _text(table, col)
    ok = pc.match_substring_regex(text, r"^\s*-?\d+(\.\d+)?\s*$")
    values = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    return values.to_numpy(zero_copy_only=False)


def _year(table: pa.Table) -> np.ndarray:
    year = np.full(table.num_rows, np.nan)
    for col in ("Aired", "Premiered"):  # Aired "Apr 3, 1998 to ...", Premiered "Spring 1998"
        if col in table.column_names:
            text = _text(table, col)
            found = pc.extract_regex(text, r"(?P<y>(?:19|20)\d\d)").field("y")
            found = pc.if_else(pc.match_substring_regex(text, r"(?:19|20)\d\d"), found, pa.scalar(None, pa.string()))
            found = pc.cast(found, pa.float64()).to_numpy(zero_copy_only=False)
            year = np.where(np.isnan(year), found, year)
    return year


_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_AIRED = r"^\s*(?:(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?:(?P<day>\d{1,2}),?\s+)?)?(?P<year>(?:19|20)\d\d)"


def _aired_from(table: pa.Table) -> pa.Array:
    """Returns the first air date as ISO text ("1998-04-03"; day or month 01 when unknown; "" unknown).

    Aired is "Apr 3, 1998 to Apr 24, 1999", "Oct, 2010", "1932" or Unknown; Premiered ("Spring
    1998") gives the year when Aired has none. The franchise watch order sorts on this date.
    """
    out = []
    aired = _text(table, "Aired").to_pylist()
    premiered = _text(table, "Premiered").to_pylist()
    pattern = re.compile(_AIRED)
    season = re.compile(r"(Winter|Spring|Summer|Fall)\s+((?:19|20)\d\d)")
    for a, p in zip(aired, premiered, strict=False):
        m = pattern.match(a or "")
        if m:
            month = _MONTHS.get((m.group("mon") or "").lower()[:3], 1)
            out.append(f"{m.group('year')}-{month:02d}-{int(m.group('day') or 1):02d}")
            continue
        s = season.search(p or "")
        start = {"Winter": 1, "Spring": 4, "Summer": 7, "Fall": 10}
        out.append(f"{s.group(2)}-{start[s.group(1)]:02d}-01" if s else "")
    return pa.array(out, pa.string())


def _genres(table: pa.Table) -> pa.Array:
    text = pc.utf8_trim(_text(table, "Genres"), " ,")
    lists = pc.split_pattern_regex(text, r"\s*,\s*")
    return pc.if_else(pc.equal(text, ""), pa.scalar([], pa.list_(pa.string())), lists)


def clean_anime(anime_csv: Path, synopsis_csv: Path | None) -> pa.Table:
    """Returns one row per anime of anime.csv with the contract's columns (anime_index left at -1).

    ``Unknown`` becomes "" for text, NaN for episodes/score/year and 0 for members/popularity;
    the title is the English name, falling back to ``Name``; genres are lists; the synopsis
    comes from anime_with_synopsis.csv ("" when absent).
    """
    table = _read_strings(anime_csv)
    ids = pc.cast(table.column("MAL_ID"), pa.int32()).to_numpy()
    name, english = _text(table, "Name"), _text(table, "English name")
    synopsis = np.full(ids.size, "", dtype=object)
    if synopsis_csv is not None and synopsis_csv.exists():
        syn = _read_strings(synopsis_csv)
        syn_ids = pc.cast(syn.column("MAL_ID"), pa.int32()).to_numpy()
        texts = np.asarray(_text(syn, "synopsis").to_pylist(), dtype=object)
        order = np.argsort(syn_ids, kind="stable")
        pos = np.clip(np.searchsorted(syn_ids[order], ids), 0, max(syn_ids.size - 1, 0))
        if syn_ids.size:
            hit = syn_ids[order][pos] == ids
            synopsis[hit] = texts[order][pos][hit]
    members, popularity = _number(table, "Members"), _number(table, "Popularity")
    columns = {
        "anime_id": ids,
        "anime_index": np.full(ids.size, -1, dtype=np.int32),
        "name": name,
        "english_name": english,
        "japanese_name": _text(table, "Japanese name"),
        "title": pc.if_else(pc.equal(english, ""), name, english),
        "genres": _genres(table),
        "type": _text(table, "Type"),
        "episodes": _number(table, "Episodes"),
        "year": _year(table),
        "aired_from": _aired_from(table),
        "age_rating": _text(table, "Rating"),
        "score": _number(table, "Score"),
        "members": np.nan_to_num(members, nan=0).astype(np.int64),
        "popularity": np.nan_to_num(popularity, nan=0).astype(np.int64),
        "synopsis": synopsis,
    }
    return pa.table(
        {
            f.name: pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], pa.Array) else columns[f.name]
            for f in ANIME_SCHEMA
        },
        schema=ANIME_SCHEMA,
    )
