"""Anime: metadata, title search and similar anime."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from animerec_shared.contracts.common import PAGE_DEPTH_MAX, PAGINATION_DOC, AnimeIdPath
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
from . import ranking_filters, similarity_relevance, stamped

router = APIRouter(tags=["anime"])

# Title matches a search pages through: a fixed number, whatever the page, so every page slices one list
# (the old per-request budget was 4x the items asked for: 4x the deepest page here).
SEARCH_CANDIDATES = 4 * PAGE_DEPTH_MAX


@router.get("/anime/{anime_id}", response_model=AnimeDetail, summary="Metadata and synopsis of one anime")
async def get_anime(anime_id: AnimeIdPath, state: StateDep) -> dict:
    row = meta_row(state, anime_id)
    m = state.meta.iloc[row]
    idx = int(state.meta_index[row])
    return {
        **state.items_json[row],
        "japanese_name": m["japanese_name"] or None,
        "age_rating": m["age_rating"] or None,
        "popularity": int(m["popularity"]),
        "synopsis": m["synopsis"],
        "n_ratings": int(state.n_ratings_item[idx]) if idx >= 0 else 0,
        "model_version": state.version,
    }


def _search(state: ServingState, query: SearchQuery) -> dict:
    """Returns one page of the title matches (total: all matches that pass the filters), or of the catalogue by
    members without `q` (total: every anime that passes the filters)."""
    allowed = meta_mask(state, query)
    if query.q:
        found = state.titles.search(query.q, limit=SEARCH_CANDIDATES)
        hits = [(r, s) for r, s in found if allowed[r]]
        page, pagination = query.window(hits, total=len(hits))
        items = [item(state, r, "similarity", min(s, 100.0) / 100.0, ["title"]) for r, s in page]
    else:
        order = state.members.argsort(kind="stable")[::-1]
        rows = order[allowed[order]]
        most = float(state.members.max()) if len(state.members) else 0.0
        page, pagination = query.window(rows, total=len(rows))
        items = [
            item(state, int(r), "similarity", float(state.members[r]) / most if most > 0 else 0.0, ["members"])
            for r in page
        ]
    return {"items": similarity_relevance(items), "pagination": pagination.model_dump()}


# List answers leave out the optional fields a list does not have (exclude_unset), as they always did.
@router.get(
    "/anime",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Title search (romaji, English, Japanese; typo-tolerant)",
    description=PAGINATION_DOC,
)
async def search_anime(state: StateDep, cache: CacheDep, query: Annotated[SearchQuery, Query()]) -> dict:
    start = time.perf_counter()
    payload = await cache.cached("search", state.version, (cache_key(query),), lambda: _search(state, query))
    return stamped(payload, state.version, start)


def _similar(state: ServingState, anime_id: int, query: SimilarAnimeQuery) -> dict:
    ranked, used = similar_anime(state, anime_id, query.method, query.depth, ranking_filters(query))
    page, pagination = query.window(ranked)
    return {"items": similarity_relevance(page), "pagination": pagination.model_dump(), "method": used}


@router.get(
    "/anime/{anime_id}/similar",
    response_model=AnimeList,
    response_model_exclude_unset=True,
    summary="Most similar anime",
    description=PAGINATION_DOC,
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
                "episodes": static["episodes"],
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
