"""Public user routes: recommendations, continue watching, preferences (recommender).

There is no user authentication, so these answers are what anyone may read about any user id: nothing in
them is another person's rating. Preferences carry the favourite genres and anime without rating values;
the recommender's similar-users list (other users' ids and rating counts) is not served here at all. Every
answer says `Cache-Control: private` (per user: no shared HTTP cache should keep it); the gateway's own
response cache still keeps the 200s in process (see response_cache.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from animerec_shared.contracts.common import PAGINATION_DOC, UserIdPath
from animerec_shared.contracts.recommender import (
    AnimeList,
    ContinueList,
    ContinueQuery,
    CountQuery,
    Preferences,
    UserRecommendationsQuery,
)

from ..deps import RecommenderDep
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS, upstream_params

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses={**UPSTREAM_ERRORS, **NOT_FOUND})
PRIVATE = "private"  # the Cache-Control of every per-user answer


def private(resp: Response) -> Response:
    """Returns the relayed answer marked `Cache-Control: private` (one user's answer, no shared cache)."""
    resp.headers["cache-control"] = PRIVATE
    return resp


@router.get(
    "/{user_id}/recommendations",
    summary="Recommendations for a known user",
    response_model=AnimeList,
    description=(
        "Returns recommendations for a user (404 `user_not_found`: use POST /api/v1/recommendations instead): "
        "`items`, one page of discovery (the franchises the user rated left out, `max_per_franchise` entries of "
        "each other one; `pagination.total` null until the last page), and `continue`, the first `limit` next "
        "unrated entries of the user's franchises, not paginated (the same on every page; "
        "GET /api/v1/users/{user_id}/continue pages through it). " + PAGINATION_DOC
    ),
)
async def user_recommendations(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[UserRecommendationsQuery, Query()]
) -> Response:
    params = upstream_params(query)
    return private(
        relay("recommender", await recommender.request("GET", f"/users/{user_id}/recommendations", params=params))
    )


@router.get(
    "/{user_id}/continue",
    summary="Continue watching: the next entries of a user's franchises",
    response_model=ContinueList,
    description=(
        "Returns the next unrated entries of the franchises the user rated, in watch order, best franchises first "
        "(the `continue` list of the recommendations alone, paginated). " + PAGINATION_DOC
    ),
)
async def continue_watching(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[ContinueQuery, Query()]
) -> Response:
    params = upstream_params(query)
    return private(relay("recommender", await recommender.request("GET", f"/users/{user_id}/continue", params=params)))


@router.get(
    "/{user_id}/preferences",
    summary="A user's favourite genres and anime",
    response_model=Preferences,
    description=(
        "Returns the genre weights from the user's top-quartile ratings (every genre, not paginated), and one page "
        "of their favourite anime (best liked first, `pagination.total` all of them), without any rating value. "
        + PAGINATION_DOC
    ),
)
async def user_preferences(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[CountQuery, Query()]
) -> Response:
    params = upstream_params(query)
    return private(
        relay("recommender", await recommender.request("GET", f"/users/{user_id}/preferences", params=params))
    )
