"""Recommendations for a whole imported list (a MyAnimeList export parsed by the gateway)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from fastapi import APIRouter

from animerec_shared.contracts.imports import UNKNOWN_SAMPLE, ProfileRecommendations, ProfileRecommendationsRequest
from animerec_shared.errors import InvalidInputError

from ..deps import CacheDep, StateDep
from ..engine import recommend_cold_start
from ..similarity import genre_shares
from ..state import ServingState
from . import best_score, ranked_relevance, ranking_filters, stamped

router = APIRouter(tags=["imports"])
STRATEGY = "hybrid"  # the cold-start blend, tuned on val for people known only by anime they liked


def _known(ids: list[int], known: dict[int, int], taken: set[int]) -> list[int]:
    """Returns the ids of the catalogue not already taken, first occurrence order; marks them taken."""
    out = []
    for a in ids:
        if a in known and a not in taken:
            taken.add(a)
            out.append(a)
    return out


def profile_recommendations(state: ServingState, body: ProfileRecommendationsRequest) -> dict[str, Any]:
    """Returns the lists, genres and catalogue match of a classified list.

    Each anime counts once, in the first of liked, disliked, seen, planned that names it. Without a known
    liked anime, the known seen ones stand in for them (`liked_from: seen`); without either, 422
    `import_nothing_known`."""
    known = state.meta_row_of
    every = {*body.liked, *body.disliked, *body.seen, *body.planned}
    unknown = sorted(a for a in every if a not in known)
    taken: set[int] = set()
    liked = _known(body.liked, known, taken)
    disliked = _known(body.disliked, known, taken)
    seen = _known(body.seen, known, taken)
    planned = set(_known(body.planned, known, taken))
    liked_from = "scores"
    if not liked and seen:
        liked, seen, liked_from = seen, [], "seen"
    if not liked:
        raise InvalidInputError(
            "none of the list's liked or watched anime is in the catalogue: nothing to recommend from",
            code="import_nothing_known",
            status_code=422,
            details={"unknown": len(unknown), "unknown_ids": unknown[:UNKNOWN_SAMPLE]},
        )
    lists = recommend_cold_start(state, liked, disliked, STRATEGY, body.limit, ranking_filters(body), seen=seen)

    # relevance as every recommendation list gives it (the shared helper): the ranking score relative to the
    # best discovery item's, in [0, 1]; continue is scaled by the same best score
    best = best_score(lists["items"])
    items = [{**it, "plan_to_watch": it["anime_id"] in planned} for it in ranked_relevance(lists["items"], best)]
    cont = [{**it, "plan_to_watch": it["anime_id"] in planned} for it in ranked_relevance(lists["continue"], best)]
    return {
        "items": items,
        "continue": cont,
        "plan_to_watch_ids": [it["anime_id"] for it in items + cont if it["plan_to_watch"]],
        "preferences": {"genres": genre_shares(state, (known[a] for a in liked))},
        "match": {
            "matched": len(every) - len(unknown),
            "unknown": len(unknown),
            "unknown_ids": unknown[:UNKNOWN_SAMPLE],
            "liked_from": liked_from,
        },
        "strategy": STRATEGY,
    }


@router.post(
    "/profiles/recommendations",
    response_model=ProfileRecommendations,
    response_model_exclude_unset=True,
    summary="Recommendations, continue list and genres of a whole imported list",
)
async def post_profile_recommendations(body: ProfileRecommendationsRequest, state: StateDep, cache: CacheDep) -> dict:
    """Ranks with the cold-start blend from the liked (and disliked) anime; seen anime are never recommended,
    planned ones may be (and are marked `plan_to_watch`); ids outside the catalogue are counted and left out."""
    start = time.perf_counter()
    digest = hashlib.blake2b(body.model_dump_json().encode(), digest_size=12).hexdigest()
    payload = await cache.cached(
        "profile_recs", state.version, (digest,), lambda: profile_recommendations(state, body), share=False
    )
    return stamped(payload, state.version, start)
