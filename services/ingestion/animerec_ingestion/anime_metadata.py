"""Cleaning of the anime metadata into the ``anime.parquet`` columns of docs/architecture.md."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from .metadata_checks import ALTERNATIVES, UNKNOWN

ANIME_SCHEMA = pa.schema([
    ("anime_id", pa.int32()), ("anime_index", pa.int32()), ("name", pa.string()),
    ("english_name", pa.string()), ("japanese_name", pa.string()), ("title", pa.string()),
    ("genres", pa.list_(pa.string())), ("type", pa.string()), ("episodes", pa.float64()),
    ("year", pa.float64()), ("age_rating", pa.string()), ("score", pa.float64()),
    ("members", pa.int64()), ("popularity", pa.int64()), ("synopsis", pa.string()),
])


def _read_strings(path: Path) -> pd.DataFrame:
    with open(path, newline="", encoding="utf-8-sig") as f:
        names = next(csv.reader(f))
    size = path.stat().st_size
    table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=max(size + 1, 1 << 20)),
                          parse_options=pcsv.ParseOptions(newlines_in_values=True),
                          convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                                              strings_can_be_null=False))
    df = table.to_pandas()
    df.columns = [str(c).strip() for c in df.columns]
    for wanted, alt in ALTERNATIVES.items():
        if wanted not in df.columns and alt in df.columns:
            df = df.rename(columns={alt: wanted})
    return df


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    s = df[col].astype(object).fillna("").str.strip()
    return s.where(s != UNKNOWN, "")


def _number(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index)
    return pd.to_numeric(df[col].astype(object).where(df[col] != UNKNOWN), errors="coerce")


def _year(df: pd.DataFrame) -> pd.Series:
    year = pd.Series(np.nan, index=df.index)
    for col in ("Aired", "Premiered"):  # Aired "Apr 3, 1998 to ...", Premiered "Spring 1998"
        if col in df.columns:
            found = df[col].astype(object).str.extract(r"((?:19|20)\d\d)", expand=False)
            year = year.fillna(pd.to_numeric(found, errors="coerce"))
    return year


def clean_anime(anime_csv: Path, synopsis_csv: Path | None) -> pd.DataFrame:
    """Returns one row per anime of anime.csv with the cleaned columns (anime_index left at -1).

    ``Unknown`` becomes "" for text, NaN for episodes/score/year and 0 for members/popularity;
    the title is the English name, falling back to ``Name``; genres are lists.
    """
    df = _read_strings(anime_csv)
    name = _text(df, "Name")
    english = _text(df, "English name")
    genres = _text(df, "Genres").map(lambda g: [x.strip() for x in g.split(",") if x.strip()] if g else [])
    out = pd.DataFrame({
        "anime_id": df["MAL_ID"].astype("int64").astype("int32"),
        "anime_index": np.full(len(df), -1, dtype=np.int32),
        "name": name,
        "english_name": english,
        "japanese_name": _text(df, "Japanese name"),
        "title": english.where(english != "", name),
        "genres": genres,
        "type": _text(df, "Type"),
        "episodes": _number(df, "Episodes").astype("float64"),
        "year": _year(df).astype("float64"),
        "age_rating": _text(df, "Rating"),
        "score": _number(df, "Score").astype("float64"),
        "members": _number(df, "Members").fillna(0).astype("int64"),
        "popularity": _number(df, "Popularity").fillna(0).astype("int64"),
    })
    synopsis = pd.Series("", index=out.index, dtype=object)
    if synopsis_csv is not None and synopsis_csv.exists():
        syn = _read_strings(synopsis_csv)
        by_id = pd.Series(_text(syn, "synopsis").to_numpy(), index=syn["MAL_ID"].astype("int64").to_numpy())
        by_id = by_id[~by_id.index.duplicated(keep="last")]
        synopsis = out["anime_id"].astype("int64").map(by_id).fillna("").astype(object)
    out["synopsis"] = synopsis.to_numpy()
    return out


def anime_table(anime: pd.DataFrame) -> pa.Table:
    """Returns the anime frame as an Arrow table with the contract's exact column types."""
    return pa.Table.from_pandas(anime[ANIME_SCHEMA.names], schema=ANIME_SCHEMA, preserve_index=False)
