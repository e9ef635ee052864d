"""Users: similar users, preferences and personal recommendations."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ..deps import CacheDep, StateDep
from ..engine import continue_for_user, recommend_for_user
from ..filters import Filters
from ..offload import offload
from ..schemas import AnimeList, ContinueList, Preferences, Strategy, UserList
from ..similarity import preferences, similar_users
from ..state import ServingState
from . import stamped

router = APIRouter(tags=["users"])
UserId = Annotated[int, Path(ge=0, le=2**62)]


@router.get("/users/{user_id}/similar", response_model=UserList, summary="Users with the closest tastes")
async def get_similar_users(user_id: UserId, state: StateDep, cache: CacheDep,
                            n: Annotated[int, Query(ge=1, le=100)] = 10) -> dict:
    start = time.perf_counter()
    payload = await cache.cached("similar_users", state.version, (user_id, n),
                                 lambda: {"items": similar_users(state, user_id, n)})
    return stamped(payload, state.version, start)


@router.get("/users/{user_id}/preferences", response_model=Preferences,
            summary="Favourite genres (from top-quartile ratings) and favourite anime")
async def get_preferences(user_id: UserId, state: StateDep, n: Annotated[int, Query(ge=1, le=100)] = 10) -> dict:
    start = time.perf_counter()
    return stamped(await offload(preferences, state, user_id, n), state.version, start)


def _recommend(state: ServingState, user_id: int, strategy: str, n: int, f: Filters) -> dict:
    return {**recommend_for_user(state, user_id, strategy, n, f), "strategy": strategy}


# List answers leave out the optional fields a list does not have (exclude_unset), as they always did.
@router.get("/users/{user_id}/recommendations", response_model=AnimeList, response_model_exclude_unset=True,
            summary="Recommendations for a user")
async def get_recommendations(user_id: UserId, state: StateDep, cache: CacheDep, filters: Annotated[Filters, Query()],
                              n: Annotated[int, Query(ge=1, le=100)] = 10,
                              strategy: Strategy = "hybrid") -> dict:
    start = time.perf_counter()
    payload = await cache.cached("user_recs", state.version, (user_id, strategy, n, filters.key()),
                                 lambda: _recommend(state, user_id, strategy, n, filters))
    return stamped(payload, state.version, start)


@router.get("/users/{user_id}/continue", response_model=ContinueList, response_model_exclude_unset=True,
            summary="Continue watching: the next unrated entries of the franchises a user rated")
async def get_continue(user_id: UserId, state: StateDep, cache: CacheDep, filters: Annotated[Filters, Query()],
                       n: Annotated[int, Query(ge=1, le=100)] = 10) -> dict:
    start = time.perf_counter()
    payload = await cache.cached("user_continue", state.version, (user_id, n, filters.key()),
                                 lambda: {"items": continue_for_user(state, user_id, n, filters)})
    return stamped(payload, state.version, start)
