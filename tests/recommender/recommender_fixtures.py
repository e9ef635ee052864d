"""Builds contract-conformant processed datasets and model versions for the recommender's tests.

Until the real pipeline (ingestion processing, TensorFlow training) is available, these helpers
write exactly what docs/architecture.md specifies: a processed dataset from the real MAL sample
(or from a planted synthetic world) and a model version whose numpy embeddings come from a
truncated SVD of the train matrix. The recommender only relies on the contract, so the real
pipeline's outputs replace these without code changes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from animerec_shared.storage import Storage

SEED = 42
AGE_ADULT = "Rx - Hentai"


def _split(ratings: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Returns (train, val, test): a per-user 20% test holdout, then 10% of the rest as val."""
    rng = np.random.default_rng(seed)
    r = ratings.assign(_u=rng.random(len(ratings))).sort_values(["user_index", "_u"])
    pos = r.groupby("user_index").cumcount().to_numpy()
    size = r.groupby("user_index")["user_index"].transform("size").to_numpy()
    n_test = np.maximum(1, np.round(size * 0.2)).astype(int)
    is_test = pos < n_test
    rest = (pos - n_test) / np.maximum(size - n_test, 1)
    is_val = ~is_test & (rest < 0.1)
    cols = ["user_index", "anime_index", "rating", "rating_norm"]
    return r.loc[~is_test & ~is_val, cols], r.loc[is_val, cols], r.loc[is_test, cols]


def _year(aired: str) -> float:
    for tok in str(aired).replace(",", " ").split():
        if tok.isdigit() and len(tok) == 4:
            return float(tok)
    return float("nan")


def _anime_frame(meta: pd.DataFrame, synopsis: pd.DataFrame | None, index_of: dict[int, int]) -> pd.DataFrame:
    meta = meta.replace("Unknown", np.nan)
    genre_col = "Genres" if "Genres" in meta.columns else "Genders"
    syn = {} if synopsis is None else dict(zip(synopsis["MAL_ID"], synopsis["sypnopsis"].fillna(""), strict=False))
    ids = meta["MAL_ID"].astype(np.int32)
    english = meta["English name"].fillna("").astype(str)
    name = meta["Name"].astype(str)
    return pd.DataFrame(
        {
            "anime_id": ids,
            "anime_index": ids.map(lambda i: index_of.get(int(i), -1)).astype(np.int32),
            "name": name,
            "english_name": english,
            "japanese_name": meta["Japanese name"].fillna("").astype(str),
            "title": np.where(english != "", english, name),
            "genres": meta[genre_col].fillna("").map(lambda g: [x.strip() for x in str(g).split(",") if x.strip()]),
            "type": meta["Type"].fillna("").astype(str),
            "episodes": pd.to_numeric(meta["Episodes"], errors="coerce").astype(float),
            "year": meta["Aired"].map(_year).astype(float),
            "age_rating": meta["Rating"].fillna("").astype(str),
            "score": pd.to_numeric(meta["Score"], errors="coerce").astype(float),
            "members": pd.to_numeric(meta["Members"], errors="coerce").fillna(0).astype(np.int64),
            "popularity": pd.to_numeric(meta["Popularity"], errors="coerce").fillna(0).astype(np.int64),
            "synopsis": ids.map(lambda i: str(syn.get(int(i), "") or "")),
        }
    )


def write_processed(
    out: Path,
    ratings: pd.DataFrame,
    meta: pd.DataFrame,
    synopsis: pd.DataFrame | None,
    min_ratings: int = 50,
    seed: int = SEED,
    processed_id: str = "p-test",
) -> dict:
    """Writes the processed-dataset files of the contract into out; returns the manifest."""
    source_rows = len(ratings)
    ratings = ratings[ratings["rating"] > 0]
    unscored = source_rows - len(ratings)
    deduped = ratings.drop_duplicates(["user_id", "anime_id"], keep="last")
    dups = len(ratings) - len(deduped)
    deduped = deduped[deduped["anime_id"].isin(meta["MAL_ID"])]
    counts = deduped.groupby("user_id")["anime_id"].transform("size")
    kept = deduped[counts >= min_ratings]
    user_ids = np.sort(kept["user_id"].unique())
    anime_ids = np.sort(kept["anime_id"].unique())
    uidx = {int(u): i for i, u in enumerate(user_ids)}
    aidx = {int(a): i for i, a in enumerate(anime_ids)}
    r = pd.DataFrame(
        {
            "user_index": kept["user_id"].map(uidx).astype(np.int32).to_numpy(),
            "anime_index": kept["anime_id"].map(aidx).astype(np.int32).to_numpy(),
            "rating": kept["rating"].astype(np.int8).to_numpy(),
        }
    )
    r["rating_norm"] = ((r["rating"].astype(np.float32) - 1) / 9).astype(np.float32)
    train, val, test = _split(r, seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("train", train), ("val", val), ("test", test)):
        frame.reset_index(drop=True).to_parquet(out / f"ratings_{name}.parquet", index=False)
    pd.DataFrame(
        {
            "user_index": np.arange(len(user_ids), dtype=np.int32),
            "user_id": user_ids.astype(np.int64),
            "n_ratings": np.bincount(r["user_index"], minlength=len(user_ids)).astype(np.int32),
        }
    ).to_parquet(out / "users.parquet", index=False)
    pd.DataFrame(
        {
            "anime_index": np.arange(len(anime_ids), dtype=np.int32),
            "anime_id": anime_ids.astype(np.int32),
            "n_ratings": np.bincount(r["anime_index"], minlength=len(anime_ids)).astype(np.int32),
        }
    ).to_parquet(out / "rated_anime.parquet", index=False)
    _anime_frame(meta, synopsis, aidx).to_parquet(out / "anime.parquet", index=False)
    manifest = {
        "source_rows": source_rows,
        "unscored_dropped": unscored,
        "duplicates_dropped": dups,
        "users": len(user_ids),
        "anime": len(anime_ids),
        "ratings": len(r),
        "train_ratings": len(train),
        "val_ratings": len(val),
        "test_ratings": len(test),
        "min_user_ratings": min_ratings,
        "seed": seed,
        "raw_dataset": "test-fixture",
        "created_at": time.time(),
        "id": processed_id,
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def publish_processed(
    storage: Storage,
    processed_id: str,
    ratings: pd.DataFrame,
    meta: pd.DataFrame,
    synopsis: pd.DataFrame | None,
    min_ratings: int = 50,
    current: bool = True,
) -> str:
    """Publishes a processed dataset at processed/<id>; returns the id."""
    with storage.publish(f"processed/{processed_id}") as staging:
        write_processed(staging, ratings, meta, synopsis, min_ratings=min_ratings, processed_id=processed_id)
    if current:
        storage.set_current("processed", processed_id)
    return processed_id


def publish_real_sample(
    storage: Storage, real_data: Path, processed_id: str = "p-real-sample", min_ratings: int = 50
) -> str:
    """Publishes the real MAL sample (rating_complete_sample.csv) as a processed dataset."""
    ratings = pd.read_csv(real_data / "rating_complete_sample.csv")
    meta = pd.read_csv(real_data / "anime.csv")
    synopsis = pd.read_csv(real_data / "anime_with_synopsis.csv")
    return publish_processed(storage, processed_id, ratings, meta, synopsis, min_ratings=min_ratings)


def svd_embeddings(
    train_part: sp.csr_matrix, dim: int = 128, seed: int = SEED, power: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """Returns L2-normalised float32 (user, anime) embeddings from a truncated SVD of the train matrix."""
    from scipy.sparse.linalg import svds

    x = train_part.astype(np.float64)
    k = max(1, min(dim, min(x.shape) - 1))
    u, s, vt = svds(x, k=k, random_state=seed)
    # s**power on both sides keeps the dominant factors dominant after the L2 normalisation
    # (NDCG@10 on the real sample: sqrt 0.04, power 1.0 0.28, power 1.5 better).
    ue = u * s**power
    ae = vt.T * s**power
    pad = lambda m: np.hstack([m, np.zeros((m.shape[0], dim - m.shape[1]))]) if m.shape[1] < dim else m  # noqa: E731
    ue, ae = pad(ue), pad(ae)
    norm = lambda m: (m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)).astype(np.float32)  # noqa: E731
    return norm(ue), norm(ae)


def publish_svd_model(
    storage: Storage, processed_id: str, version: str, dim: int = 128, promote: bool = True, seed: int = SEED
) -> str:
    """Publishes a model version with SVD embeddings of a published processed dataset; returns it."""
    from animerec_ranking.datasets import load_processed

    data = load_processed(storage.fetch_dir(f"processed/{processed_id}"), with_anime=False)
    ue, ae = svd_embeddings(data.matrix(data.train), dim=dim, seed=seed)
    with storage.publish(f"models/{version}") as staging:
        np.save(staging / "user_embeddings.npy", ue)
        np.save(staging / "anime_embeddings.npy", ae)
        np.save(staging / "user_ids.npy", data.user_ids.astype(np.int64))
        np.save(staging / "anime_ids.npy", data.anime_ids.astype(np.int64))
        (staging / "metrics.json").write_text(json.dumps({"strategies": {}}))
        (staging / "config.json").write_text(
            json.dumps(
                {
                    "model": "svd-fixture",
                    "dim": dim,
                    "seed": seed,
                    "processed_id": processed_id,
                    "created_at": time.time(),
                }
            )
        )
    if promote:
        storage.set_current("models", version)
    return version


# -- a planted world: four taste clusters, each with its own genres and synopsis words ---------
CLUSTERS = [
    (["Action", "Shounen"], "sword battle warrior tournament power"),
    (["Romance", "Drama"], "love confession heart school couple"),
    (["Comedy", "Slice of Life"], "funny daily club friends laugh"),
    (["Horror", "Mystery"], "ghost murder dark curse detective"),
]
TYPES = ["TV", "Movie", "OVA", "ONA"]


SYLLABLES = ("ka", "ri", "mo", "te", "su", "na", "lo", "pi", "ze", "fu")


def planted_frames(
    n_users: int = 240, per_cluster: int = 20, seed: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Returns (ratings, anime.csv-like metadata, synopsis frame) of a world with planted tastes.

    Anime 1..: cluster c = (id - 1) // per_cluster, with the cluster's genres and words. Each user
    loves one cluster (rates most of it 8-10) and rates a few others low. Five more anime have
    metadata but no ratings; anime 1 is an adult ('Rx - Hentai') title; anime 2 is 'Pokémon'.
    """
    rng = np.random.default_rng(seed)
    rows = []
    n_rated = per_cluster * len(CLUSTERS)
    for aid in range(1, n_rated + 6):
        c = (aid - 1) // per_cluster if aid <= n_rated else (aid - n_rated - 1) % len(CLUSTERS)
        genres, words = CLUSTERS[c]
        # a distinct made-up word per anime: "Title 12" / "Title 13" would read as one numbered series
        word = "".join(SYLLABLES[int(d)] for d in str(aid)).capitalize()
        name = f"Planted {c} {word}" if aid != 2 else "Pokémon Adventure"
        rows.append(
            {
                "MAL_ID": aid,
                "Name": name,
                "Score": round(6 + rng.random() * 3, 2),
                "Genders": ", ".join(genres),
                "English name": f"English {word}" if aid != 2 else "Pokemon Journey",
                "Japanese name": f"日本 {aid}" if aid != 2 else "ポケットモンスター",
                "Type": TYPES[aid % len(TYPES)],
                "Episodes": 12,
                "Aired": f"Apr 1, {1990 + aid % 30}",
                "Rating": "Rx - Hentai" if aid == 1 else "PG-13 - Teens 13 or older",
                "Members": int(1000 * (1 + aid % 17)),
                "Popularity": aid,
            }
        )
    meta = pd.DataFrame(rows)
    synopsis = pd.DataFrame(
        {
            "MAL_ID": meta["MAL_ID"],
            "Name": meta["Name"],
            "Score": meta["Score"],
            "Genders": meta["Genders"],
            "sypnopsis": [
                CLUSTERS[(i - 1) // per_cluster if i <= n_rated else (i - n_rated - 1) % 4][1] + f" story number {i}"
                for i in meta["MAL_ID"]
            ],
        }
    )
    ratings = []
    for user in range(n_users):
        c = user % len(CLUSTERS)
        own = np.arange(c * per_cluster + 1, (c + 1) * per_cluster + 1)
        for aid in rng.choice(own, size=int(per_cluster * 0.75), replace=False):
            ratings.append((user, int(aid), int(rng.integers(8, 11))))
        others = np.setdiff1d(np.arange(1, n_rated + 1), own)
        for aid in rng.choice(others, size=4, replace=False):
            ratings.append((user, int(aid), int(rng.integers(2, 6))))
    return pd.DataFrame(ratings, columns=["user_id", "anime_id", "rating"]), meta, synopsis


def cluster_of(anime_id: int, per_cluster: int = 20) -> int:
    """Returns the planted cluster of a rated planted anime."""
    return (anime_id - 1) // per_cluster


def publish_planted(
    storage: Storage, processed_id: str = "p-planted", version: str = "v-planted-1", seed: int = 7
) -> tuple[str, str]:
    """Publishes the planted world and a promoted SVD model version; returns (processed_id, version)."""
    ratings, meta, synopsis = planted_frames(seed=seed)
    publish_processed(storage, processed_id, ratings, meta, synopsis, min_ratings=10)
    publish_svd_model(storage, processed_id, version, dim=128)
    return processed_id, version
