"""Anime: metadata, title search and similar anime."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Query

from animerec_shared.contracts.common import AnimeIdPath
from animerec_shared.contracts.recommender import (
    AnimeDetail,
    AnimeList,
    FranchiseAnswer,
    SearchQuery,
    SimilarAnimeQuery,
)

from ..deps import CacheDep, StateDep
from ..filters import cache_key, meta_mask
from ..items import item
from ..offload import offload
from ..similarity import meta_row, similar_anime
from ..state import ServingState
from . import ranking_filters, stamped

router = APIRouter(tags=["anime"])


def _clean(v: object) -> object:
    return None if isinstance(v, float) and math.isnan(v) else v


@router.get("/anime/{anime_id}", response_model=AnimeDetail, summary="Metadata and synopsis of one anime")
async def get_anime(anime_id: AnimeIdPath, state: StateDep) -> dict:
    row = meta_row(state, anime_id)
    m = state.meta.iloc[row]
    idx = int(state.meta_index[row])
    return {
        **state.items_json[row],
        "japanese_name": m["japanese_name"] or None,
        "episodes": _clean(m["episodes"]),
        "age_rating": m["age_rating"] or None,
        "popularity": int(m["popularity"]),
        "synopsis": m["synopsis"],
        "n_ratings": int(state.n_ratings_item[idx]) if idx >= 0 else 0,
        "model_version": state.version,
    }


def _search(state: ServingState, query: SearchQuery) -> dict:
    allowed = meta_mask(state, query)
    q, limit = query.q, query.limit
    if q:
        found = state.titles.search(q, limit=max(limit * 4, 50))
        hits = [(r, s) for r, s in found if allowed[r]][:limit]
        items = [item(state, r, "similarity", min(s, 100.0) / 100.0, ["title"]) for r, s in hits]
    else:
        rows = [int(r) for r in state.members.argsort(kind="stable")[::-1] if allowed[r]][:limit]
        items = [item(state, r, "similarity", 0.0, ["members"]) for r in rows]
    return {"items": items}


# List answers leave out the optional fields a list does not have (exclude_unset), as they always did.
@router.get(
    "/anime",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Title search (romaji, English, Japanese; typo-tolerant)",
)
async def search_anime(state: StateDep, cache: CacheDep, query: Annotated[SearchQuery, Query()]) -> dict:
    start = time.perf_counter()
    payload = await cache.cached("search", state.version, (cache_key(query),), lambda: _search(state, query))
    return stamped(payload, state.version, start)


def _similar(state: ServingState, anime_id: int, query: SimilarAnimeQuery) -> dict:
    items, used = similar_anime(state, anime_id, query.method, query.n, ranking_filters(query))
    return {"items": items, "method": used}


@router.get(
    "/anime/{anime_id}/similar",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Most similar anime",
)
async def get_similar_anime(
    anime_id: AnimeIdPath, state: StateDep, cache: CacheDep, query: Annotated[SimilarAnimeQuery, Query()]
) -> dict:
    start = time.perf_counter()
    payload = await cache.cached(
        "similar_anime", state.version, (anime_id, cache_key(query)), lambda: _similar(state, anime_id, query)
    )
    return stamped(payload, state.version, start)


def franchise_of(state: ServingState, anime_id: int) -> dict:
    """Returns the other entries of an anime's franchise in watch order, each with its evidence."""
    row = meta_row(state, anime_id)
    rel = state.lists.relations
    out = []
    for r in rel.members(row):
        r = int(r)
        if r == row:
            continue
        m = state.meta.iloc[r]
        static = state.items_json[r]
        out.append(
            {
                "anime_id": static["anime_id"],
                "title": static["title"],
                "type": static["type"],
                "year": static["year"],
                "episodes": _clean(float(m["episodes"])),
                "aired_from": str(m.get("aired_from", "") or "") or None,
                "evidence": rel.evidence(row, r),
            }
        )
    return {
        "anime_id": int(anime_id),
        "title": state.items_json[row]["title"],
        "franchise_id": state.lists.franchise_id(row),
        "items": out,
    }


@router.get(
    "/anime/{anime_id}/franchise",
    response_model=FranchiseAnswer,
    summary="The other entries of an anime's franchise, in watch order, with the evidence of each link",
)
async def get_franchise(anime_id: AnimeIdPath, state: StateDep) -> dict:
    start = time.perf_counter()
    return stamped(await offload(franchise_of, state, anime_id), state.version, start)
