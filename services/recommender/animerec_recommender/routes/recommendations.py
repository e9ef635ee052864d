"""Cold-start recommendations for someone without an account."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from ..offload import offload

from ..deps import StateDep
from ..engine import recommend_cold_start
from ..filters import Filters
from ..output import dumps, finish
from ..schemas import AnimeList, ColdStartRequest

router = APIRouter(tags=["recommendations"])


@router.post("/recommendations", response_model=AnimeList,
             summary="Cold start: recommendations from liked (and disliked) anime")
async def post_recommendations(body: ColdStartRequest, state: StateDep) -> Response:
    start = time.perf_counter()
    filters = Filters(**body.model_dump(include=set(Filters.model_fields)))
    payload = await offload(
        lambda: dumps({"items": recommend_cold_start(state, body.liked, body.disliked, body.strategy, body.n,
                                                     filters), "strategy": body.strategy}))
    return finish(payload, state.version, start)
