"""Public cold-start recommendations for people without an account (recommender)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from animerec_shared.contracts.common import PAGINATION_DOC
from animerec_shared.contracts.recommender import AnimeList, ColdStartRequest

from ..deps import RecommenderDep
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS

router = APIRouter(
    prefix="/api/v1/recommendations", tags=["recommendations"], responses={**UPSTREAM_ERRORS, **NOT_FOUND}
)


@router.post(
    "",
    summary="Recommendations from a few liked anime (cold start)",
    response_model=AnimeList,
    description=(
        "Returns recommendations folded in from the liked (and disliked) anime, filtered; an id both liked and "
        "disliked is a 422. `items` is one page (`page` and `limit` in the body), `continue` the first `limit` "
        "next entries of the liked franchises (not paginated). " + PAGINATION_DOC
    ),
)
async def cold_start_recommendations(recommender: RecommenderDep, body: ColdStartRequest) -> Response:
    payload = body.model_dump(exclude_defaults=True)  # the recommender has the same defaults
    return relay("recommender", await recommender.request("POST", "/recommendations", json_body=payload))
