"""Cold-start recommendations for someone without an account."""

from __future__ import annotations

import hashlib
import time

from fastapi import APIRouter

from animerec_shared.contracts.common import PAGINATION_DOC
from animerec_shared.contracts.recommender import AnimeList, ColdStartRequest

from ..deps import CacheDep, StateDep
from ..engine import recommend_cold_start
from ..state import ServingState
from . import best_score, ranked_relevance, ranking_filters, stamped

router = APIRouter(tags=["recommendations"])


def _cold_start(state: ServingState, body: ColdStartRequest) -> dict:
    filters = ranking_filters(body)
    out = recommend_cold_start(state, body.liked, body.disliked, body.strategy, body.depth, filters)
    best = best_score(out["items"])
    page, pagination = body.window(out["items"])
    return {
        "items": ranked_relevance(page, best),
        "continue": ranked_relevance(out["continue"][: body.limit], best),
        "pagination": pagination.model_dump(),
        "strategy": body.strategy,
    }


@router.post(
    "/recommendations",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Cold start: recommendations from liked (and disliked) anime",
    description=PAGINATION_DOC,
)
async def post_recommendations(body: ColdStartRequest, state: StateDep, cache: CacheDep) -> dict:
    start = time.perf_counter()
    # The answer is a pure function of the validated body and the model version: cache it like the GET lists.
    # Bodies rarely repeat across processes: with the in-process copy on, two Redis round trips per request
    # would cost more than they save, so it stays in-process (share=False; Redis only when that copy is off).
    digest = hashlib.blake2b(body.model_dump_json().encode(), digest_size=12).hexdigest()
    payload = await cache.cached("cold_start", state.version, (digest,), lambda: _cold_start(state, body), share=False)
    return stamped(payload, state.version, start)
