"""Per-user and cold-start recommendations on the ranking core (hybrid, collaborative, user-based, content)."""

from __future__ import annotations

from typing import Any

import numpy as np

from animerec_shared.errors import AnimeNotFound, InvalidInputError
from animerec_shared.ranking import zscore
from animerec_shared.ranking.cold_start import fold_in
from animerec_shared.ranking.model import content_weights, interaction_weights

from .filters import Filters, meta_mask
from .output import item, to_meta_space, top_indices
from .similarity import user_row
from .state import ServingState

STRATEGIES = ("hybrid", "collaborative", "user_based", "content", "item_item", "popularity")


def _names(state: ServingState, strategy: str, cold_start: bool = False) -> tuple[list[str], dict[str, float]]:
    model = state.ranking.model
    if strategy == "hybrid":
        blend = state.ranking.cold_start_weights if cold_start else state.ranking.weights
        weights = {n: w for n, w in blend.items() if w and n in model.available()}
        return list(weights), weights
    if strategy not in model.available():
        raise InvalidInputError(f"strategy {strategy!r} is not available for this model",
                                code="strategy_unavailable", details={"available": model.available()})
    return [strategy], {strategy: 1.0}


def _rank(state: ServingState, comps: dict[str, np.ndarray], weights: dict[str, float], strategy: str,
          allowed_meta: np.ndarray, n: int, content_all: np.ndarray | None) -> list[dict[str, Any]]:
    """Returns the ranked items of blended rated-space components (content alone: every anime)."""
    if strategy == "content" and content_all is not None:
        top = top_indices(content_all, allowed_meta, n)
        return [item(state, int(r), "relevance", content_all[r], ["content"]) for r in top]
    if strategy != "hybrid":
        scores = to_meta_space(state, comps[strategy])
        top = top_indices(scores, allowed_meta, n)
        return [item(state, int(r), "relevance", scores[r], [strategy]) for r in top]
    contrib = {name: zscore(comps[name]) * np.float32(w) for name, w in weights.items() if name in comps}
    total = to_meta_space(state, np.sum(list(contrib.values()), axis=0))
    top = top_indices(total, allowed_meta, n)
    out = []
    for r in top:
        i = int(state.meta_index[r])
        parts = sorted(((float(c[i]), name) for name, c in contrib.items()), reverse=True)
        sources = [name for v, name in parts if v > 0] or [parts[0][1]]
        out.append(item(state, int(r), "relevance", total[r], sources))
    return out


def recommend_for_user(state: ServingState, user_id: int, strategy: str, n: int, f: Filters) -> list[dict[str, Any]]:
    """Returns the n best anime for a known user under a strategy, filters applied."""
    u = user_row(state, user_id)
    model = state.ranking.model
    names, weights = _names(state, strategy)
    idx, ratings = state.user_ratings(u)
    uv = state.model.user_embeddings[u] if model.user_vectors is not None else None
    comps = model.query_components(names, idx, interaction_weights(ratings, model.params),
                                   content_weights(ratings, model.params), uv, exclude_user=u)
    allowed = meta_mask(state, f)
    if f.exclude_rated:
        rows = state.rated_meta_rows[idx]
        allowed[rows[rows >= 0]] = False
    content_all = None
    if strategy == "content" and model.content is not None:
        profile = _profile(state, state.rated_meta_rows[idx], content_weights(ratings, model.params))
        content_all = model.content.score_profile(profile, rated_only=False)
    return _rank(state, comps, weights, strategy, allowed, n, content_all)


def _profile(state: ServingState, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return state.ranking.model.content.profile_of(rows, np.asarray(weights, dtype=np.float32))


def _meta_rows(state: ServingState, ids: list[int]) -> np.ndarray:
    missing = [a for a in ids if int(a) not in state.meta_row_of]
    if missing:
        raise AnimeNotFound(f"unknown anime id(s): {', '.join(map(str, missing[:10]))}",
                            details={"anime_ids": missing[:50]})
    return np.array([state.meta_row_of[int(a)] for a in ids], dtype=np.int64)


def recommend_cold_start(state: ServingState, liked: list[int], disliked: list[int], strategy: str, n: int,
                         f: Filters) -> list[dict[str, Any]]:
    """Returns the n best anime for someone known only by liked/disliked anime (fold-in + content)."""
    if not liked:
        raise InvalidInputError("cold start needs at least one liked anime", code="validation_error")
    model = state.ranking.model
    params = model.params
    liked_rows, disliked_rows = _meta_rows(state, liked), _meta_rows(state, disliked)
    li = state.meta_index[liked_rows]
    di = state.meta_index[disliked_rows]
    li, di = li[li >= 0], di[di >= 0]
    idx = np.concatenate([li, di]).astype(np.int64)
    w = np.concatenate([np.ones(len(li)), np.full(len(di), params.disliked_weight)]).astype(np.float32)
    order = np.argsort(idx, kind="stable")
    uv = fold_in(model.item_vectors, li, di) if model.item_vectors is not None else None
    if strategy in ("user_based", "collaborative", "item_item") and not len(li):
        raise InvalidInputError("none of the liked anime has ratings: use strategy=content or hybrid",
                                code="strategy_unavailable")
    names, weights = _names(state, strategy, cold_start=True)
    comps = model.query_components([n_ for n_ in names if n_ != "content"], idx[order], w[order],
                                   np.zeros(len(idx), np.float32), uv, exclude_user=-1)
    if not len(li) and strategy == "hybrid":
        strategy = "content"  # only unrated anime were liked: content is the one signal left
    content_all = None
    if model.content is not None and (strategy == "content" or "content" in names):
        rows = np.concatenate([liked_rows, disliked_rows])
        cw = np.concatenate([np.ones(len(liked_rows)), np.full(len(disliked_rows), -0.5)])
        profile = _profile(state, rows, cw)
        if strategy == "content":  # every anime, rated or not
            content_all = model.content.score_profile(profile, rated_only=False)
            comps["content"] = np.where(state.rated_meta_rows >= 0,
                                        content_all[np.maximum(state.rated_meta_rows, 0)], 0.0).astype(np.float32)
        else:  # the hybrid blends it over rated anime only
            comps["content"] = model.content.score_profile(profile)
    allowed = meta_mask(state, f)
    allowed[liked_rows] = False
    allowed[disliked_rows] = False
    return _rank(state, comps, weights, strategy, allowed, n, content_all)
