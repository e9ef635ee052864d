"""Public user routes: recommendations, continue watching, similar users, preferences (recommender)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from animerec_shared.contracts.common import UserIdPath
from animerec_shared.contracts.recommender import (
    AnimeList,
    ContinueList,
    ContinueQuery,
    CountQuery,
    Preferences,
    UserList,
    UserRecommendationsQuery,
)

from ..deps import RecommenderDep
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS, upstream_params

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses={**UPSTREAM_ERRORS, **NOT_FOUND})


@router.get("/{user_id}/recommendations", summary="Recommendations for a known user", response_model=AnimeList)
async def user_recommendations(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[UserRecommendationsQuery, Query()]
) -> Response:
    """Returns the top-n anime for a user (404 `user_not_found`: use POST /api/v1/recommendations instead):
    `items` for discovery (the franchises the user rated left out, `max_per_franchise` entries of each other
    one) and `continue`, the next unrated entries of the user's franchises."""
    params = upstream_params(query)
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/recommendations", params=params))


@router.get(
    "/{user_id}/continue",
    summary="Continue watching: the next entries of a user's franchises",
    response_model=ContinueList,
)
async def continue_watching(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[ContinueQuery, Query()]
) -> Response:
    """Returns the next unrated entries of the franchises the user rated, in watch order, best franchises
    first (the `continue` list of the recommendations alone)."""
    params = upstream_params(query)
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/continue", params=params))


@router.get("/{user_id}/similar", summary="Users with similar taste", response_model=UserList)
async def similar_users(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[CountQuery, Query()]
) -> Response:
    """Returns the users whose taste is closest to `user_id`."""
    params = upstream_params(query)
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/similar", params=params))


@router.get("/{user_id}/preferences", summary="A user's favourite genres and anime", response_model=Preferences)
async def user_preferences(
    recommender: RecommenderDep, user_id: UserIdPath, query: Annotated[CountQuery, Query()]
) -> Response:
    """Returns the genre weights from the user's top-quartile ratings, and their favourite anime."""
    params = upstream_params(query)
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/preferences", params=params))
