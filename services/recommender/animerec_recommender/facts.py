"""Grounded facts about why an anime suits a user or a liked set (consumed by the explainer)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from animerec_ranking.cold_start import fold_in
from animerec_shared.errors import InvalidInputError

from .similarity import favourite_indices, meta_row, user_row
from .state import ServingState

NEIGHBOURS = 30
MAX_BECAUSE = 3  # liked anime named as reasons
MAX_FRANCHISE = 2  # of which at most this many because they share the target's franchise


def explanation_facts(
    state: ServingState, user_id: int | None, liked: list[int] | None, anime_id: int, strategy: str | None
) -> dict[str, Any]:
    """Returns the facts of the contract: because_you_liked, shared_genres, similar_users and metadata.

    because_you_liked names up to three liked anime, each with the evidence that makes the reason
    true: first those of the target's franchise (the relation holds: rules, base, path), then the
    closest by embedding that some users liked together with the target (shared_users), then by
    content with genres in common (shared_genres). A candidate without evidence is not named.
    """
    row = meta_row(state, anime_id)
    target_idx = int(state.meta_index[row])
    ae, ue = state.model.anime_embeddings, state.model.user_embeddings
    params = state.ranking.model.params
    if user_id is not None:
        u = user_row(state, user_id)
        idx, ratings = state.user_ratings(u)
        liked_idx = idx[ratings >= params.liked_rating]
        if not len(liked_idx):
            liked_idx = idx[favourite_indices(ratings)]
        liked_rows = state.rated_meta_rows[liked_idx]
        query, rated = ue[u], int(len(idx))
    elif liked:
        from .engine import _meta_rows

        liked_rows = _meta_rows(state, liked)
        liked_idx = state.meta_index[liked_rows]
        liked_idx = liked_idx[liked_idx >= 0]
        query, u, rated = fold_in(ae, liked_idx), -1, 0
    else:
        raise InvalidInputError("give user_id or liked", code="validation_error")
    liked_rows = liked_rows[(liked_rows >= 0) & (liked_rows != row)]
    because: list[dict[str, Any]] = []
    target_genres = state.items_json[row]["genres"]

    def evidence_of(r: int, by: str) -> dict[str, Any] | None:
        """Returns the evidence that makes "because you liked r" true, None when there is none."""
        if by == "franchise":
            return in_franchise.get(r)
        if by == "embedding":
            i = int(state.meta_index[r])
            if i < 0 or target_idx < 0:
                return None
            both = int(state.liked_by[:, i].multiply(state.liked_by[:, target_idx]).sum())
            return {"shared_users": both} if both > 0 else None
        genres = sorted(set(state.items_json[r]["genres"]) & set(target_genres))
        return {"shared_genres": genres} if genres else None

    def add(rows: np.ndarray, sims: np.ndarray, by: str, limit: int = MAX_BECAUSE) -> None:
        """Appends liked meta rows, most similar first, that have evidence, skipping anime already named."""
        named = {b["anime_id"] for b in because}
        for j in np.argsort(-sims, kind="stable"):
            if len(because) >= limit or sims[j] <= 0:
                break
            meta = state.items_json[int(rows[j])]
            if meta["anime_id"] in named:
                continue
            evidence = evidence_of(int(rows[j]), by)
            if evidence is not None:
                because.append(
                    {
                        "anime_id": meta["anime_id"],
                        "title": meta["title"],
                        "similarity": round(float(sims[j]), 4),
                        "by": by,
                        "evidence": evidence,
                    }
                )
                named.add(meta["anime_id"])

    relations = state.lists.relations
    in_franchise = {
        int(r): e
        for r in liked_rows
        if relations.same(int(r), row) and (e := relations.evidence(int(r), row)) is not None
    }
    if in_franchise:  # the liked entries of the target's franchise, the closest in the relation first
        same = np.array(list(in_franchise), dtype=np.int64)
        steps = np.array([len(e["path"]) - 1 for e in in_franchise.values()], dtype=np.float64)
        add(same, 1.0 / np.maximum(steps, 1), "franchise", limit=MAX_FRANCHISE)
    cand = state.meta_index[liked_rows]
    cand = cand[cand >= 0]
    if target_idx >= 0 and len(cand):
        add(state.rated_meta_rows[cand], ae[cand] @ ae[target_idx], "embedding")
    content = state.ranking.model.content
    if len(because) < MAX_BECAUSE and content is not None and len(liked_rows):
        add(liked_rows, np.asarray((content.vectors[liked_rows] @ content.vectors[row].T).toarray()).ravel(), "content")
    liked_genres = Counter(g for r in liked_rows for g in state.items_json[int(r)]["genres"])
    shared = sorted((g for g in target_genres if liked_genres[g]), key=lambda g: -liked_genres[g])
    liked_it, of = 0, 0
    if query is not None and target_idx >= 0:
        sims = ue @ query
        if u >= 0:
            sims[u] = -np.inf
        k = min(NEIGHBOURS, len(sims) - (1 if u >= 0 else 0))
        if k > 0:
            neighbours = np.argpartition(-sims, k - 1)[:k]
            col = state.ratings[neighbours][:, target_idx].toarray().ravel()
            liked_it, of = int((col >= params.liked_rating).sum()), int(k)
    meta = state.items_json[row]
    return {
        "anime_id": meta["anime_id"],
        "title": meta["title"],
        "genres": target_genres,
        "score": meta["score"],
        "members": meta["members"],
        "popularity_rank": int(state.popularity_rank[row]),
        "model_version": state.version,
        "strategy": strategy or "hybrid",
        "because_you_liked": because,
        "shared_genres": shared,
        "similar_users": {"liked_it": liked_it, "of": of},
        "rated": rated,
        "franchise": {"same_franchise_as": [b["anime_id"] for b in because if b["by"] == "franchise"]},
    }
