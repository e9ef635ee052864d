"""Users: similar users, preferences and personal recommendations."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from animerec_shared.contracts.common import PAGINATION_DOC, UserIdPath
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
from ..engine import recommend_for_user
from ..filters import cache_key
from ..offload import offload
from ..similarity import preferences, similar_users
from ..state import ServingState
from . import best_score, ranked_relevance, ranking_filters, stamped

# Favourites asked of similarity.preferences: all of them (a user's top quartile), so the total is exact.
ALL_FAVOURITES = 10**9

router = APIRouter(tags=["users"])


def _similar_users(state: ServingState, user_id: int, query: CountQuery) -> dict:
    page, pagination = query.window(similar_users(state, user_id, query.depth))
    return {"items": page, "pagination": pagination.model_dump()}


@router.get(
    "/users/{user_id}/similar",
    response_model=UserList,
    summary="Users with the closest tastes",
    description=PAGINATION_DOC,
)
async def get_similar_users(
    user_id: UserIdPath, state: StateDep, cache: CacheDep, query: Annotated[CountQuery, Query()]
) -> dict:
    start = time.perf_counter()
    payload = await cache.cached(
        "similar_users", state.version, (user_id, cache_key(query)), lambda: _similar_users(state, user_id, query)
    )
    return stamped(payload, state.version, start)


def _preferences(state: ServingState, user_id: int, query: CountQuery) -> dict:
    out = preferences(state, user_id, ALL_FAVOURITES)
    favourites = out["favourites"]
    page, pagination = query.window(favourites, total=len(favourites))
    items = []
    for fav in page:  # the static fields of list items, no relevance (ordered by private ratings)
        items.append({**fav, "relevance": None})  # fav: the static fields (episodes, url) and its sources
    return {**out, "favourites": items, "pagination": pagination.model_dump()}


@router.get(
    "/users/{user_id}/preferences",
    response_model=Preferences,
    summary="Favourite genres (from top-quartile ratings) and favourite anime",
    description="`genres` is every genre of the favourites; `favourites` is paginated. " + PAGINATION_DOC,
)
async def get_preferences(user_id: UserIdPath, state: StateDep, query: Annotated[CountQuery, Query()]) -> dict:
    start = time.perf_counter()
    return stamped(await offload(_preferences, state, user_id, query), state.version, start)


def _ranked(state: ServingState, user_id: int, query: UserRecommendationsQuery | ContinueQuery, strategy: str) -> dict:
    """Returns the engine's discovery and continue lists to this page's depth, and the discovery's best score."""
    f = ranking_filters(query)
    if isinstance(query, ContinueQuery):
        f = f.model_copy(update={"mix_franchises": False})
    out = recommend_for_user(state, user_id, strategy, query.depth, f)
    return {**out, "best": best_score(out["items"])}


def _recommend(state: ServingState, user_id: int, query: UserRecommendationsQuery) -> dict:
    out = _ranked(state, user_id, query, query.strategy)
    page, pagination = query.window(out["items"])
    return {
        "items": ranked_relevance(page, out["best"]),
        "continue": ranked_relevance(out["continue"][: query.limit], out["best"]),
        "pagination": pagination.model_dump(),
        "strategy": query.strategy,
    }


def _continue(state: ServingState, user_id: int, query: ContinueQuery) -> dict:
    out = _ranked(state, user_id, query, "hybrid")  # the hybrid blend orders the franchises
    page, pagination = query.window(out["continue"])
    return {"items": ranked_relevance(page, out["best"]), "pagination": pagination.model_dump()}


# List answers leave out the optional fields a list does not have (exclude_unset), as they always did.
@router.get(
    "/users/{user_id}/recommendations",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Recommendations for a user",
    description="`items` is paginated; `continue` is not (its first `limit` entries on every page). " + PAGINATION_DOC,
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
    description=PAGINATION_DOC,
)
async def get_continue(
    user_id: UserIdPath, state: StateDep, cache: CacheDep, query: Annotated[ContinueQuery, Query()]
) -> dict:
    start = time.perf_counter()
    payload = await cache.cached(
        "user_continue",
        state.version,
        (user_id, cache_key(query)),
        lambda: _continue(state, user_id, query),
    )
    return stamped(payload, state.version, start)
