"""Builds processed datasets in the docs/architecture.md contract for the training tests and bench.

Two sources: the real MAL sample (same protocol as ../shared/data/README.md: drop 0, users with
>= min ratings, a seeded per-user 20% test holdout, a seeded 10% of each user's train part as val)
and a generated catalogue with planted genre tastes. Only numpy/pandas: no service is imported.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "mal2020"
GENRES = ["Action", "Comedy", "Drama", "Romance", "Sci-Fi", "Horror", "Sports", "Mystery"]


def _split(ratings: pd.DataFrame, seed: int, test_frac: float = 0.2, val_frac: float = 0.1):
    """Returns (train, val, test) frames split per user at random (seeded)."""
    rng = np.random.default_rng(seed)
    r = ratings.assign(_key=rng.random(len(ratings)))
    r["_rank"] = r.groupby("user_index")["_key"].rank(method="first") - 1
    n = r.groupby("user_index")["user_index"].transform("size")
    n_test = np.floor(n * test_frac).clip(lower=1)
    test_mask = r["_rank"] < n_test
    rest = r[~test_mask].copy()
    rest["_key"] = rng.random(len(rest))
    rest["_rank"] = rest.groupby("user_index")["_key"].rank(method="first") - 1
    n_rest = rest.groupby("user_index")["user_index"].transform("size")
    val_mask = rest["_rank"] < np.floor(n_rest * val_frac)
    cols = ["user_index", "anime_index", "rating", "rating_norm"]
    return (
        rest[~val_mask][cols].reset_index(drop=True),
        rest[val_mask][cols].reset_index(drop=True),
        r[test_mask][cols].reset_index(drop=True),
    )


def write_processed(
    ratings: pd.DataFrame,
    anime: pd.DataFrame,
    out: Path,
    *,
    min_ratings: int = 50,
    seed: int = 42,
    raw_dataset: str = "fixture",
) -> Path:
    """Returns out after writing the contract files of a processed dataset.

    Args:
        ratings: user_id, anime_id, rating (1-10; 0 rows are dropped).
        anime: anime metadata with at least anime_id, name, genres (list), members.
        out: folder to write into (created).
        min_ratings: users with fewer ratings are dropped.
        seed: split seed.
        raw_dataset: recorded in the manifest.
    """
    out.mkdir(parents=True, exist_ok=True)
    source_rows = len(ratings)
    r = ratings[ratings["rating"] > 0]
    unscored = source_rows - len(r)
    before = len(r)
    r = r.drop_duplicates(["user_id", "anime_id"], keep="last")
    dups = before - len(r)
    counts = r.groupby("user_id")["anime_id"].transform("size")
    r = r[counts >= min_ratings].copy()
    user_ids = np.sort(r["user_id"].unique())
    anime_ids = np.sort(r["anime_id"].unique())
    r["user_index"] = np.searchsorted(user_ids, r["user_id"]).astype(np.int32)
    r["anime_index"] = np.searchsorted(anime_ids, r["anime_id"]).astype(np.int32)
    r["rating"] = r["rating"].astype(np.int8)
    r["rating_norm"] = ((r["rating"].astype(np.float32) - 1) / 9).astype(np.float32)
    r = r.sort_values(["user_index", "anime_index"]).reset_index(drop=True)
    train, val, test = _split(r, seed)
    for name, frame in (("train", train), ("val", val), ("test", test)):
        frame.astype(
            {"user_index": "int32", "anime_index": "int32", "rating": "int8", "rating_norm": "float32"}
        ).to_parquet(out / f"ratings_{name}.parquet", index=False)
    users = pd.DataFrame(
        {
            "user_index": np.arange(len(user_ids), dtype=np.int32),
            "user_id": user_ids.astype(np.int64),
            "n_ratings": r.groupby("user_index").size().to_numpy(np.int32),
        }
    )
    users.to_parquet(out / "users.parquet", index=False)
    rated = pd.DataFrame(
        {
            "anime_index": np.arange(len(anime_ids), dtype=np.int32),
            "anime_id": anime_ids.astype(np.int32),
            "n_ratings": r.groupby("anime_index").size().to_numpy(np.int32),
        }
    )
    rated.to_parquet(out / "rated_anime.parquet", index=False)
    _anime_frame(anime, anime_ids).to_parquet(out / "anime.parquet", index=False)
    manifest = {
        "source_rows": source_rows,
        "unscored_dropped": int(unscored),
        "duplicates_dropped": int(dups),
        "users": len(user_ids),
        "anime": len(anime_ids),
        "ratings": len(r),
        "train_ratings": len(train),
        "val_ratings": len(val),
        "test_ratings": len(test),
        "min_user_ratings": min_ratings,
        "seed": seed,
        "raw_dataset": raw_dataset,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "id": out.name,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def _anime_frame(anime: pd.DataFrame, rated_ids: np.ndarray) -> pd.DataFrame:
    a = anime.copy()
    ids = a["anime_id"].to_numpy()
    pos = np.searchsorted(rated_ids, ids).clip(max=len(rated_ids) - 1)
    a["anime_index"] = np.where(rated_ids[pos] == ids, pos, -1).astype(np.int32)
    a["anime_id"] = a["anime_id"].astype(np.int32)
    for col in ("english_name", "japanese_name", "type", "age_rating", "synopsis"):
        if col not in a:
            a[col] = ""
    a["title"] = a["english_name"].where(a["english_name"].astype(bool), a["name"])
    for col in ("episodes", "year", "score"):
        a[col] = pd.to_numeric(a[col], errors="coerce").astype(float) if col in a else np.nan
    for col in ("members", "popularity"):
        a[col] = pd.to_numeric(a[col], errors="coerce").fillna(0).astype(np.int64) if col in a else 0
    cols = [
        "anime_id",
        "anime_index",
        "name",
        "english_name",
        "japanese_name",
        "title",
        "genres",
        "type",
        "episodes",
        "year",
        "age_rating",
        "score",
        "members",
        "popularity",
        "synopsis",
    ]
    return a[cols]


def real_sample_processed(out: Path, min_ratings: int = 50, seed: int = 42) -> Path:
    """Returns a processed dataset folder built from the real rating_complete_sample.csv."""
    ratings = pd.read_csv(REAL / "rating_complete_sample.csv")
    meta = pd.read_csv(REAL / "anime.csv", na_values=["Unknown"], keep_default_na=False)
    genre_col = "Genres" if "Genres" in meta else "Genders"
    anime = pd.DataFrame(
        {
            "anime_id": meta["MAL_ID"],
            "name": meta["Name"].fillna(""),
            "english_name": meta["English name"].fillna(""),
            "japanese_name": meta["Japanese name"].fillna(""),
            "genres": meta[genre_col].fillna("").map(lambda s: [g.strip() for g in s.split(",") if g.strip()]),
            "type": meta["Type"].fillna(""),
            "episodes": meta["Episodes"],
            "score": meta["Score"],
            "age_rating": meta["Rating"].fillna(""),
            "members": meta["Members"].fillna(0),
            "popularity": meta["Popularity"].fillna(0),
        }
    )
    return write_processed(ratings, anime, out, min_ratings=min_ratings, seed=seed, raw_dataset="mal2020-sample")


def planted_processed(
    out: Path, n_users: int = 300, n_anime: int = 240, per_user: int = 60, seed: int = 7
) -> tuple[Path, dict[int, str]]:
    """Returns (folder, {user_id: favourite genre}) of a generated dataset with planted genre tastes.

    Every anime has one genre; every user has one favourite genre. A user watches mostly popular
    titles (a shared popularity prior) plus titles of the favourite genre, and rates the favourite
    genre 8-10 and everything else 2-6. So the held-out relevant items are favourite-genre titles,
    which popularity alone cannot find.
    """
    rng = np.random.default_rng(seed)
    anime_ids = np.arange(1, n_anime + 1) * 10
    genre_of = rng.integers(0, len(GENRES), n_anime)
    pop = rng.zipf(1.6, n_anime).clip(max=50).astype(float)
    fav = rng.integers(0, len(GENRES), n_users)
    rows = []
    for u in range(n_users):
        w = pop * np.where(genre_of == fav[u], 6.0, 1.0)
        items = rng.choice(n_anime, size=per_user, replace=False, p=w / w.sum())
        liked = genre_of[items] == fav[u]
        rating = np.where(liked, rng.integers(8, 11, per_user), rng.integers(2, 7, per_user))
        rows.append(pd.DataFrame({"user_id": 1000 + u, "anime_id": anime_ids[items], "rating": rating}))
    ratings = pd.concat(rows, ignore_index=True)
    anime = pd.DataFrame(
        {
            "anime_id": anime_ids,
            "name": [f"Show {i}" for i in anime_ids],
            "genres": [[GENRES[g]] for g in genre_of],
            "members": (pop * 1000).astype(int),
        }
    )
    write_processed(ratings, anime, out, min_ratings=10, seed=seed, raw_dataset="planted")
    return out, {1000 + u: GENRES[fav[u]] for u in range(n_users)}


def publish_processed(storage, folder: Path, processed_id: str | None = None, current: bool = True) -> str:
    """Returns the id under which a processed folder was published to storage (and made current)."""
    import shutil

    processed_id = processed_id or folder.name
    with storage.publish(f"processed/{processed_id}") as staging:
        for f in folder.iterdir():
            shutil.copyfile(f, staging / f.name)
    if current:
        storage.set_current("processed", processed_id)
    return processed_id
