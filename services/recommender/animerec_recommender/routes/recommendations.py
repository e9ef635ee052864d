"""Cold-start recommendations for someone without an account."""

from __future__ import annotations

import hashlib
import time

from fastapi import APIRouter, Response

from ..deps import CacheDep, StateDep
from ..engine import recommend_cold_start
from ..filters import Filters
from ..offload import offload
from ..output import dumps, finish
from ..schemas import AnimeList, ColdStartRequest
from ..state import ServingState

router = APIRouter(tags=["recommendations"])


def _cold_start(state: ServingState, cache: CacheDep, key: str, body: ColdStartRequest) -> bytes:
    # Bodies rarely repeat across processes: with the in-process copy on, two Redis round trips
    # per request would cost more than they save, so Redis is used only when that copy is off.
    local = cache.local
    payload = None if local is not None else cache.get("cold_start", key)
    if payload is None:
        filters = Filters(**body.model_dump(include=set(Filters.model_fields)))
        payload = dumps({**recommend_cold_start(state, body.liked, body.disliked, body.strategy, body.n, filters),
                         "strategy": body.strategy})
        if local is not None:
            cache.misses.labels("cold_start").inc()
            cache.set_local(key, payload)
        else:
            cache.set(key, payload)
    return payload


@router.post("/recommendations", response_model=AnimeList,
             summary="Cold start: recommendations from liked (and disliked) anime")
async def post_recommendations(body: ColdStartRequest, state: StateDep, cache: CacheDep) -> Response:
    start = time.perf_counter()
    # The answer is a pure function of the validated body and the model version: cache it like the GET lists.
    digest = hashlib.blake2b(body.model_dump_json().encode(), digest_size=12).hexdigest()
    key = cache.key("cold_start", state.version, digest)
    payload = cache.get_local("cold_start", key)
    if payload is None:
        payload = await offload(_cold_start, state, cache, key, body)
    return finish(payload, state.version, start)
