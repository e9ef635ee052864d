"""Public anime routes: search, lookup, similar anime, franchise (recommender)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from animerec_shared.contracts.common import PAGINATION_DOC, AnimeIdPath
from animerec_shared.contracts.recommender import (
    AnimeDetail,
    AnimeList,
    FranchiseAnswer,
    SearchQuery,
    SimilarAnimeQuery,
)

from ..deps import RecommenderDep
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS, upstream_params

router = APIRouter(prefix="/api/v1/anime", tags=["anime"], responses=UPSTREAM_ERRORS)


@router.get(
    "",
    summary="Search anime by title",
    response_model=AnimeList,
    description=(
        "Returns anime whose titles match `q` best first (without `q`: most members first), filtered. "
        "`pagination.total` is the number of matches (at most 2,000 title matches are ranked). " + PAGINATION_DOC
    ),
)
async def search_anime(recommender: RecommenderDep, query: Annotated[SearchQuery, Query()]) -> Response:
    return relay("recommender", await recommender.request("GET", "/anime", params=upstream_params(query)))


@router.get("/{anime_id}", summary="One anime: metadata and synopsis", response_model=AnimeDetail, responses=NOT_FOUND)
async def get_anime(recommender: RecommenderDep, anime_id: AnimeIdPath) -> Response:
    """Returns the metadata and synopsis of one anime."""
    return relay("recommender", await recommender.request("GET", f"/anime/{anime_id}"))


@router.get(
    "/{anime_id}/similar",
    summary="Anime similar to one anime",
    response_model=AnimeList,
    responses=NOT_FOUND,
    description=(
        "Returns the anime most similar to `anime_id`, filtered; its own franchise is left out (see "
        "GET /api/v1/anime/{anime_id}/franchise) and other franchises show `max_per_franchise` entries. "
        "`pagination.total` is null until the last page. " + PAGINATION_DOC
    ),
)
async def similar_anime(
    recommender: RecommenderDep, anime_id: AnimeIdPath, query: Annotated[SimilarAnimeQuery, Query()]
) -> Response:
    params = upstream_params(query)
    return relay("recommender", await recommender.request("GET", f"/anime/{anime_id}/similar", params=params))


@router.get(
    "/{anime_id}/franchise",
    summary="The other entries of an anime's franchise, in watch order",
    response_model=FranchiseAnswer,
    responses=NOT_FOUND,
)
async def anime_franchise(recommender: RecommenderDep, anime_id: AnimeIdPath) -> Response:
    """Returns the franchise id and the other entries in watch order, each with the evidence of its link
    (`[]` for a standalone anime)."""
    return relay("recommender", await recommender.request("GET", f"/anime/{anime_id}/franchise"))
