"""Public user routes: recommendations, continue watching, similar users, preferences (recommender)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from ..deps import RecommenderDep
from ..schemas import AnimeList, ContinueList, Preferences, Strategy, UserList
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS, Filters, FranchiseFilters, clean

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses={**UPSTREAM_ERRORS, **NOT_FOUND})

USER_ID_MIN, USER_ID_MAX = 0, 10_000_000_000
UserId = Annotated[int, Path(ge=USER_ID_MIN, le=USER_ID_MAX, description="MyAnimeList user id", examples=[1234])]


@router.get("/{user_id}/recommendations", summary="Recommendations for a known user", response_model=AnimeList)
async def user_recommendations(
    recommender: RecommenderDep,
    user_id: UserId,
    filters: Filters,
    franchises: FranchiseFilters,
    n: Annotated[int, Query(ge=1, le=100, description="how many anime")] = 10,
    strategy: Annotated[Strategy, Query(
        description="hybrid blends the others; user_based = favourites of similar users")] = "hybrid",
    exclude_rated: Annotated[bool, Query(description="leave out anime the user already rated")] = True,
) -> Response:
    """Returns the top-n anime for a user (404 `user_not_found`: use POST /api/v1/recommendations instead):
    `items` for discovery (the franchises the user rated left out, `max_per_franchise` entries of each other
    one) and `continue`, the next unrated entries of the user's franchises."""
    params = clean({"n": n, "strategy": strategy, "exclude_rated": exclude_rated, **filters.params,
                    **franchises.params})
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/recommendations", params=params))


@router.get("/{user_id}/continue", summary="Continue watching: the next entries of a user's franchises",
            response_model=ContinueList)
async def continue_watching(
    recommender: RecommenderDep,
    user_id: UserId,
    filters: Filters,
    n: Annotated[int, Query(ge=1, le=100, description="how many anime")] = 10,
) -> Response:
    """Returns the next unrated entries of the franchises the user rated, in watch order, best franchises
    first (the `continue` list of the recommendations alone)."""
    params = clean({"n": n, **filters.params})
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/continue", params=params))


@router.get("/{user_id}/similar", summary="Users with similar taste", response_model=UserList)
async def similar_users(
    recommender: RecommenderDep,
    user_id: UserId,
    n: Annotated[int, Query(ge=1, le=100, description="how many users")] = 10,
) -> Response:
    """Returns the users whose taste is closest to `user_id`."""
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/similar", params={"n": n}))


@router.get("/{user_id}/preferences", summary="A user's favourite genres and anime", response_model=Preferences)
async def user_preferences(recommender: RecommenderDep, user_id: UserId,
                           n: Annotated[int, Query(ge=1, le=100, description="how many favourite anime")] = 10
                           ) -> Response:
    """Returns the genre weights from the user's top-quartile ratings, and their favourite anime."""
    return relay("recommender", await recommender.request("GET", f"/users/{user_id}/preferences", params={"n": n}))
