"""Per-user and cold-start recommendations on the ranking core (hybrid, collaborative, user-based, content)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from animerec_ranking import zscore
from animerec_ranking.cold_start import fold_in
from animerec_ranking.model import content_weights, interaction_weights
from animerec_shared.contracts.recommender import Filters
from animerec_shared.errors import AnimeNotFound, InvalidInputError

from .filters import meta_mask
from .items import franchise_item, shaped_items, to_meta_space
from .similarity import user_row
from .state import ServingState


def _names(state: ServingState, strategy: str, cold_start: bool = False) -> tuple[list[str], dict[str, float]]:
    model = state.ranking.model
    if strategy == "hybrid":
        blend = state.ranking.cold_start_weights if cold_start else state.ranking.weights
        weights = {n: w for n, w in blend.items() if w and n in model.available()}
        return list(weights), weights
    if strategy not in model.available():
        raise InvalidInputError(
            f"strategy {strategy!r} is not available for this model",
            code="strategy_unavailable",
            details={"available": model.available()},
        )
    return [strategy], {strategy: 1.0}


def _scored(
    state: ServingState,
    comps: dict[str, np.ndarray],
    weights: dict[str, float],
    strategy: str,
    content_all: np.ndarray | None,
) -> tuple[np.ndarray, Callable[[int], list[str]]]:
    """Returns (scores over meta rows, -inf where none; the sources of a meta row)."""
    if strategy == "content" and content_all is not None:
        return np.asarray(content_all, dtype=np.float32), lambda r: ["content"]
    if strategy != "hybrid":
        return to_meta_space(state, comps[strategy]), lambda r: [strategy]
    contrib = {name: zscore(comps[name]) * np.float32(w) for name, w in weights.items() if name in comps}
    total = to_meta_space(state, np.sum(list(contrib.values()), axis=0))

    def sources(r: int) -> list[str]:
        i = int(state.meta_index[r])
        if i < 0:
            return []
        parts = sorted(((float(c[i]), name) for name, c in contrib.items()), reverse=True)
        return [name for v, name in parts if v > 0] or [parts[0][1]]

    return total, sources


def continue_items(
    state: ServingState, scores: np.ndarray, allowed: np.ndarray, own_rows: np.ndarray, n: int
) -> list[dict[str, Any]]:
    """Returns the next unrated entries of the franchises of own_rows, in watch order, best franchises first."""
    return [
        franchise_item(state, e, "relevance", float(scores[e.row]), ["franchise"])
        for e in state.lists.continue_list(scores, allowed, own_rows, n)
    ]


def recommend_for_user(state: ServingState, user_id: int, strategy: str, n: int, f: Filters) -> dict[str, Any]:
    """Returns {"items": discovery list, "continue": next entries of rated franchises} for a known user."""
    u = user_row(state, user_id)
    model = state.ranking.model
    names, weights = _names(state, strategy)
    idx, ratings = state.user_ratings(u)
    uv = state.model.user_embeddings[u] if model.user_vectors is not None else None
    comps = model.query_components(
        names,
        idx,
        interaction_weights(ratings, model.params),
        content_weights(ratings, model.params),
        uv,
        exclude_user=u,
    )
    allowed = meta_mask(state, f)
    own = state.rated_meta_rows[idx]
    own = own[own >= 0]
    if f.exclude_rated:
        allowed[own] = False
    content_all = None
    if strategy == "content" and model.content is not None:
        profile = _profile(state, state.rated_meta_rows[idx], content_weights(ratings, model.params))
        content_all = model.content.score_profile(profile, rated_only=False)
    scores, sources = _scored(state, comps, weights, strategy, content_all)
    cont_allowed = allowed.copy()  # continue never shows what the user rated, exclude_rated or not
    cont_allowed[own] = False
    return {
        "items": shaped_items(state, scores, sources, allowed, n, f, own),
        "continue": [] if f.mix_franchises else continue_items(state, scores, cont_allowed, own, n),
    }


def _profile(state: ServingState, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    content = state.ranking.model.content
    if content is None:
        raise RuntimeError("the served model has no content component")
    return content.profile_of(rows, np.asarray(weights, dtype=np.float32))


def _meta_rows(state: ServingState, ids: list[int]) -> np.ndarray:
    missing = [a for a in ids if int(a) not in state.meta_row_of]
    if missing:
        raise AnimeNotFound(
            f"unknown anime id(s): {', '.join(map(str, missing[:10]))}", details={"anime_ids": missing[:50]}
        )
    return np.array([state.meta_row_of[int(a)] for a in ids], dtype=np.int64)


def recommend_cold_start(
    state: ServingState,
    liked: list[int],
    disliked: list[int],
    strategy: str,
    n: int,
    f: Filters,
    seen: Sequence[int] = (),
) -> dict[str, Any]:
    """Returns {"items", "continue"} for someone known only by liked/disliked anime (fold-in + content).

    Discovery leaves out the franchises of the liked and disliked anime; continue lists the next
    entries of the liked ones. `seen` anime (watched, no signal) are left out of both lists.
    """
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
        raise InvalidInputError(
            "none of the liked anime has ratings: use strategy=content or hybrid", code="strategy_unavailable"
        )
    names, weights = _names(state, strategy, cold_start=True)
    comps = model.query_components(
        [n_ for n_ in names if n_ != "content"],
        idx[order],
        w[order],
        np.zeros(len(idx), np.float32),
        uv,
        exclude_user=-1,
    )
    if not len(li) and strategy == "hybrid":
        strategy = "content"  # only unrated anime were liked: content is the one signal left
    content_all = None
    if model.content is not None and (strategy == "content" or "content" in names):
        rows = np.concatenate([liked_rows, disliked_rows])
        cw = np.concatenate([np.ones(len(liked_rows)), np.full(len(disliked_rows), -0.5)])
        profile = _profile(state, rows, cw)
        if strategy == "content":  # every anime, rated or not
            content_all = model.content.score_profile(profile, rated_only=False)
            comps["content"] = np.where(
                state.rated_meta_rows >= 0, content_all[np.maximum(state.rated_meta_rows, 0)], 0.0
            ).astype(np.float32)
        else:  # the hybrid blends it over rated anime only
            comps["content"] = model.content.score_profile(profile)
    allowed = meta_mask(state, f)
    allowed[liked_rows] = False
    allowed[disliked_rows] = False
    if len(seen):
        allowed[_meta_rows(state, list(seen))] = False
    scores, sources = _scored(state, comps, weights, strategy, content_all)
    own = np.concatenate([liked_rows, disliked_rows])
    return {
        "items": shaped_items(state, scores, sources, allowed, n, f, own),
        "continue": [] if f.mix_franchises else continue_items(state, scores, allowed, liked_rows, n),
    }


def continue_for_user(state: ServingState, user_id: int, n: int, f: Filters) -> list[dict[str, Any]]:
    """Returns a known user's continue list alone (the hybrid blend orders the franchises)."""
    return recommend_for_user(state, user_id, "hybrid", n, f.model_copy(update={"mix_franchises": False}))["continue"]
