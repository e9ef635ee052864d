"""The serving state of one model version: data, fitted ranking core, lookup tables. Immutable once built."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from animerec_ranking import FittedRanking, RankingParams, fit_ranking
from animerec_ranking.datasets import ProcessedData, load_processed
from animerec_ranking.franchise_relations import fit_franchises
from animerec_ranking.lists import FranchiseLists
from animerec_ranking.model_versions import InvalidModelVersion, ModelVersion, load_model_version
from animerec_shared.contracts.recommender import MAL_URL
from animerec_shared.storage import Storage

from .search import TitleIndex

log = logging.getLogger("animerec.recommender")
ADULT_RATING = "Rx - Hentai"


@dataclass
class ServingState:
    """Everything one model version needs to answer requests (never mutated after build)."""

    version: str
    processed_id: str
    meta: pd.DataFrame  # anime.parquet, row order = "meta row"
    meta_row_of: dict[int, int]  # anime_id -> meta row
    rated_meta_rows: np.ndarray  # anime_index -> meta row (-1 when missing)
    meta_index: np.ndarray  # meta row -> anime_index (-1 when unrated)
    user_ids: np.ndarray  # int64, position = user_index
    user_index_of: dict[int, int]
    ratings: sp.csr_matrix  # all of a user's ratings (train + val + test), int8 values
    n_ratings_item: np.ndarray  # rated anime -> number of ratings
    ranking: FittedRanking
    model: ModelVersion
    genres: list[str]  # genre vocabulary
    genre_matrix: sp.csr_matrix  # [n_meta, n_genres] bool
    types: np.ndarray  # lower-case type per meta row
    members: np.ndarray
    years: np.ndarray
    adult: np.ndarray
    titles: TitleIndex
    items_json: list[dict[str, Any]]  # the static part of each item, per meta row
    popularity_rank: np.ndarray  # meta row -> rank by members (1 = most members)
    lists: FranchiseLists  # franchise relation over meta rows (discovery, continue)
    liked_by: sp.csc_matrix  # [n_users, n_items] 1 where a user's rating is "liked"
    loaded_at: float
    mask_cache: dict[str, np.ndarray] = field(default_factory=dict)  # filters digest -> meta mask

    @property
    def n_items(self) -> int:
        return len(self.rated_meta_rows)

    def user_index(self, user_id: int) -> int | None:
        """Returns the user_index of a user id, or None when unknown."""
        return self.user_index_of.get(int(user_id))

    def user_ratings(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """Returns (anime indices, ratings) of every rating of a user."""
        lo, hi = self.ratings.indptr[u], self.ratings.indptr[u + 1]
        return self.ratings.indices[lo:hi], self.ratings.data[lo:hi].astype(np.float32)


def _check_alignment(model: ModelVersion, data: ProcessedData) -> None:
    if len(model.anime_ids) != data.n_items or not np.array_equal(model.anime_ids, data.anime_ids):
        raise InvalidModelVersion(
            f"model version {model.version}: anime_ids.npy does not match the anime of "
            f"processed dataset {model.processed_id}"
        )
    if len(model.user_ids) != data.n_users or not np.array_equal(model.user_ids, data.user_ids):
        raise InvalidModelVersion(
            f"model version {model.version}: user_ids.npy does not match the users of "
            f"processed dataset {model.processed_id}"
        )


def _static_items(meta: pd.DataFrame) -> list[dict[str, Any]]:
    def num(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else v

    out = []
    columns = ["anime_id", "title", "name", "english_name", "genres", "type", "year", "score", "members"]
    # episodes: a nullable column (NaN or NA where MyAnimeList says "Unknown")
    frame = meta[columns].assign(episodes=meta["episodes"].to_numpy(np.float64, na_value=np.nan))
    for rec in frame.itertuples(index=False):
        out.append(
            {
                "anime_id": int(rec.anime_id),
                "title": str(rec.title),
                "name": str(rec.name),
                "english_title": str(rec.english_name) or None,
                "genres": [str(g) for g in rec.genres],
                "type": str(rec.type) or None,
                "year": None if num(float(rec.year)) is None else int(rec.year),
                "episodes": None if num(float(rec.episodes)) is None else int(rec.episodes),
                "url": MAL_URL.format(anime_id=int(rec.anime_id)),
                "score": num(float(rec.score)),
                "members": int(rec.members),
            }
        )
    return out


def build_state(
    storage: Storage, version: str, params: RankingParams, reuse_by_processed: dict[str, dict[tuple[Any, ...], Any]]
) -> ServingState:
    """Returns the serving state of a published model version (raises InvalidModelVersion when unusable)."""
    start = time.perf_counter()
    model = load_model_version(storage, version)
    pid = model.processed_id
    if not pid:
        raise InvalidModelVersion(f"model version {version}: config.json has no processed_id")
    try:
        data = load_processed(storage.fetch_dir(f"processed/{pid}"))
    except Exception as exc:
        raise InvalidModelVersion(f"model version {version}: processed dataset {pid} unusable: {exc}") from exc
    _check_alignment(model, data)
    reuse = reuse_by_processed.setdefault(pid, {})
    params = params.with_overrides({"embeddings_saw_val": bool(model.metrics.get("val_in_training", False))})
    # Training evaluated this version with the same ranking core and stored the blend it tuned on
    # val: serving it as is loads fast and serves exactly what was measured. Explicit weights in
    # the settings (tune=False) win.
    if params.tune:
        params = params.with_stored_blend(model.metrics.get("hybrid_params"))
    ranking = fit_ranking(data, model.user_embeddings, model.anime_embeddings, params, reuse=reuse)
    meta = data.anime.reset_index(drop=True)
    for col in ("name", "english_name", "japanese_name", "title", "type", "age_rating", "synopsis"):
        meta[col] = meta[col].fillna("").astype(str)  # the contract says "" for unknown; be lenient
    meta["genres"] = meta["genres"].map(lambda g: [str(x) for x in (g if g is not None else [])])
    meta_row_of = {int(a): i for i, a in enumerate(meta["anime_id"].to_numpy())}
    rated_meta_rows = np.array([meta_row_of.get(int(a), -1) for a in data.anime_ids], dtype=np.int64)
    meta_index = np.full(len(meta), -1, dtype=np.int64)
    ok = rated_meta_rows >= 0
    meta_index[rated_meta_rows[ok]] = np.arange(data.n_items)[ok]
    everything = pd.concat([data.train, data.val, data.test], ignore_index=True)
    ratings = sp.csr_matrix(
        (
            everything["rating"].to_numpy(np.int8),
            (everything["user_index"].to_numpy(), everything["anime_index"].to_numpy()),
        ),
        shape=(data.n_users, data.n_items),
    )
    ratings.sort_indices()
    genres = sorted({g for gs in meta["genres"] for g in gs})
    gpos = {g: i for i, g in enumerate(genres)}
    gr = [(i, gpos[g]) for i, gs in enumerate(meta["genres"]) for g in gs]
    genre_matrix = sp.csr_matrix(
        (np.ones(len(gr), bool), ([a for a, _ in gr], [b for _, b in gr])), shape=(len(meta), len(genres))
    )
    franchise = ranking.model.franchise
    relations = franchise.relations if franchise is not None else None
    if relations is None or not np.array_equal(relations.anime_ids, meta["anime_id"].to_numpy(np.int64)):
        relations = fit_franchises(meta)
    members = meta["members"].to_numpy(np.int64)
    order = np.argsort(-members, kind="stable")
    popularity_rank = np.empty(len(meta), np.int64)
    popularity_rank[order] = np.arange(1, len(meta) + 1)
    state = ServingState(
        version=version,
        processed_id=pid,
        meta=meta,
        meta_row_of=meta_row_of,
        rated_meta_rows=rated_meta_rows,
        meta_index=meta_index,
        user_ids=data.user_ids,
        user_index_of={int(u): i for i, u in enumerate(data.user_ids)},
        ratings=ratings,
        n_ratings_item=np.bincount(everything["anime_index"].to_numpy(), minlength=data.n_items),
        ranking=ranking,
        model=model,
        genres=genres,
        genre_matrix=genre_matrix,
        types=meta["type"].fillna("").str.lower().to_numpy(),
        members=members,
        years=meta["year"].to_numpy(np.float64),
        adult=(meta["age_rating"] == ADULT_RATING).to_numpy(),
        titles=TitleIndex(meta),
        items_json=_static_items(meta),
        popularity_rank=popularity_rank,
        lists=FranchiseLists(relations),
        liked_by=(ratings >= ranking.model.params.liked_rating).astype(np.int8).tocsc(),
        loaded_at=time.time(),
    )
    log.info(
        "loaded model version %s (processed %s) in %.1fs; weights %s",
        version,
        pid,
        time.perf_counter() - start,
        ranking.weights,
    )
    return state
