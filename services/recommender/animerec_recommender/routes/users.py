"""Users: similar users, preferences and personal recommendations."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

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

from ..deps import CacheDep, StateDep
from ..engine import continue_for_user, recommend_for_user
from ..filters import cache_key
from ..offload import offload
from ..similarity import preferences, similar_users
from ..state import ServingState
from . import ranking_filters, stamped

router = APIRouter(tags=["users"])


@router.get("/users/{user_id}/similar", response_model=UserList, summary="Users with the closest tastes")
async def get_similar_users(
    user_id: UserIdPath, state: StateDep, cache: CacheDep, query: Annotated[CountQuery, Query()]
) -> dict:
    start = time.perf_counter()
    payload = await cache.cached(
        "similar_users", state.version, (user_id, query.n), lambda: {"items": similar_users(state, user_id, query.n)}
    )
    return stamped(payload, state.version, start)


@router.get(
    "/users/{user_id}/preferences",
    response_model=Preferences,
    summary="Favourite genres (from top-quartile ratings) and favourite anime",
)
async def get_preferences(user_id: UserIdPath, state: StateDep, query: Annotated[CountQuery, Query()]) -> dict:
    start = time.perf_counter()
    return stamped(await offload(preferences, state, user_id, query.n), state.version, start)


def _recommend(state: ServingState, user_id: int, query: UserRecommendationsQuery) -> dict:
    return {
        **recommend_for_user(state, user_id, query.strategy, query.n, ranking_filters(query)),
        "strategy": query.strategy,
    }


# List answers leave out the optional fields a list does not have (exclude_unset), as they always did.
@router.get(
    "/users/{user_id}/recommendations",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Recommendations for a user",
)
async def get_recommendations(
    user_id: UserIdPath, state: StateDep, cache: CacheDep, query: Annotated[UserRecommendationsQuery, Query()]
) -> dict:
    start = time.perf_counter()
    payload = await cache.cached(
        "user_recs", state.version, (user_id, cache_key(query)), lambda: _recommend(state, user_id, query)
    )
    return stamped(payload, state.version, start)


@router.get(
    "/users/{user_id}/continue",
    response_model=ContinueList,
    response_model_exclude_unset=True,
    summary="Continue watching: the next unrated entries of the franchises a user rated",
)
async def get_continue(
    user_id: UserIdPath, state: StateDep, cache: CacheDep, query: Annotated[ContinueQuery, Query()]
) -> dict:
    start = time.perf_counter()
    payload = await cache.cached(
        "user_continue",
        state.version,
        (user_id, cache_key(query)),
        lambda: {"items": continue_for_user(state, user_id, query.n, ranking_filters(query))},
    )
    return stamped(payload, state.version, start)
