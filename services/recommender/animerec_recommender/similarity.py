"""Similar anime (embeddings or content), similar users and a user's preferences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from animerec_ranking.lists import top_rows
from animerec_shared.contracts.recommender import Filters
from animerec_shared.errors import AnimeNotFound, UserNotFound

from .filters import meta_mask
from .items import shaped_items, to_meta_space
from .state import ServingState

COLD_START_HINT = "use POST /recommendations with the anime you liked (cold start) for someone without an account"


def meta_row(state: ServingState, anime_id: int) -> int:
    """Returns the meta row of an anime id or raises AnimeNotFound."""
    row = state.meta_row_of.get(int(anime_id))
    if row is None:
        raise AnimeNotFound(f"no anime with id {anime_id}", details={"anime_id": anime_id})
    return row


def user_row(state: ServingState, user_id: int) -> int:
    """Returns the user_index of a user id or raises UserNotFound with the cold-start hint."""
    u = state.user_index(user_id)
    if u is None:
        raise UserNotFound(f"no user with id {user_id}", details={"user_id": user_id, "hint": COLD_START_HINT})
    return u


def similar_anime(state: ServingState, anime_id: int, method: str, n: int, f: Filters) -> tuple[list[dict], str]:
    """Returns (items most similar to an anime, the method used); unrated anime fall back to content.

    The anime's own franchise is left out (``GET /anime/{id}/franchise`` lists it) and other
    franchises show ``max_per_franchise`` entries, unless ``mix_franchises``.
    """
    row = meta_row(state, anime_id)
    idx = int(state.meta_index[row])
    content = state.ranking.model.content
    if method == "collaborative" and idx < 0:
        method = "content"  # no ratings, no embedding: content still knows it
    if method == "collaborative":  # ranked over rated anime only: the others have no embedding
        ae = state.model.anime_embeddings
        sims = to_meta_space(state, np.asarray(ae @ ae[idx], dtype=np.float32))
    elif content is None:
        sims = np.zeros(len(state.meta), np.float32)
    else:
        sims = np.asarray(content.similar_rows(row), dtype=np.float32)
    allowed = meta_mask(state, f)
    allowed[row] = False
    items = shaped_items(state, sims, lambda r: [method], allowed, n, f, np.array([row]), value_key="similarity")
    return items, method


def similar_users(state: ServingState, user_id: int, n: int) -> list[dict[str, Any]]:
    """Returns the n users whose embeddings are closest to the user's (cosine), best first."""
    u = user_row(state, user_id)
    ue = state.model.user_embeddings
    sims = np.asarray(ue @ ue[u], dtype=np.float32)
    allowed = np.ones(len(sims), dtype=bool)
    allowed[u] = False
    top = top_rows(sims, allowed, n)
    counts = np.diff(state.ratings.indptr)
    return [
        {"user_id": int(state.user_ids[v]), "similarity": round(float(sims[v]), 6), "n_ratings": int(counts[v])}
        for v in top
    ]


def favourite_indices(ratings: np.ndarray) -> np.ndarray:
    """Returns positions of the ratings at or above the user's own 75th percentile."""
    if len(ratings) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(ratings >= np.quantile(ratings, 0.75))


def genre_shares(state: ServingState, rows: Iterable[int]) -> list[dict[str, Any]]:
    """Returns the genres of the anime at these meta rows, most frequent first, each with its share of all genre
    mentions (`weight`) and its `count`: the favourite genres of a known user and of an imported list."""
    counts: Counter[str] = Counter(g for r in rows for g in state.items_json[int(r)]["genres"])
    total = sum(counts.values()) or 1
    return [{"genre": g, "weight": round(c / total, 4), "count": c} for g, c in counts.most_common()]


def preferences(state: ServingState, user_id: int, n: int) -> dict[str, Any]:
    """Returns the user's favourite genres (weights from top-quartile ratings) and favourite anime.

    The answer is public (the gateway serves it without user auth): it orders the favourites by rating but
    carries none of the rating values (no rating per anime, no top-quartile threshold)."""
    u = user_row(state, user_id)
    idx, ratings = state.user_ratings(u)
    fav = favourite_indices(ratings)
    rows = state.rated_meta_rows[idx[fav]]
    keep = rows >= 0
    rows, fav_ratings = rows[keep], ratings[fav][keep]
    genres = genre_shares(state, rows)
    order = np.lexsort((-state.members[rows], -fav_ratings))[:n]
    favourites = [{**state.items_json[int(rows[i])], "sources": ["ratings"]} for i in order]
    return {
        "user_id": int(user_id),
        "n_ratings": int(len(idx)),
        "genres": genres,
        "favourites": favourites,
    }
