"""Public anime routes: search, lookup, similar anime, franchise (recommender)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from ..deps import RecommenderDep
from ..schemas import AnimeDetail, AnimeList, FranchiseAnswer
from ..upstreams import relay
from .common import NOT_FOUND, UPSTREAM_ERRORS, Filters, FranchiseFilters, clean

router = APIRouter(prefix="/api/v1/anime", tags=["anime"], responses=UPSTREAM_ERRORS)

ANIME_ID_MIN, ANIME_ID_MAX = 1, 10_000_000
AnimeId = Annotated[int, Path(ge=ANIME_ID_MIN, le=ANIME_ID_MAX, description="MyAnimeList anime id", examples=[5114])]


@router.get("", summary="Search anime by title", response_model=AnimeList)
async def search_anime(
    recommender: RecommenderDep,
    filters: Filters,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="title words (romaji, English or "
                                   "Japanese; case-, accent- and typo-tolerant); omitted: most popular first",
                                   examples=["fullmetal"])] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Returns anime whose titles match `q` best first, filtered."""
    params = clean({"q": q, "limit": limit, **filters.params})
    return relay("recommender", await recommender.request("GET", "/anime", params=params))


@router.get("/{anime_id}", summary="One anime: metadata and synopsis", response_model=AnimeDetail,
            responses=NOT_FOUND)
async def get_anime(recommender: RecommenderDep, anime_id: AnimeId) -> Response:
    """Returns the metadata and synopsis of one anime."""
    return relay("recommender", await recommender.request("GET", f"/anime/{anime_id}"))


@router.get("/{anime_id}/similar", summary="Anime similar to one anime", response_model=AnimeList,
            responses=NOT_FOUND)
async def similar_anime(
    recommender: RecommenderDep,
    anime_id: AnimeId,
    filters: Filters,
    franchises: FranchiseFilters,
    n: Annotated[int, Query(ge=1, le=100, description="how many anime")] = 10,
    method: Annotated[Literal["collaborative", "content"], Query(
        description="collaborative: learned embeddings; content: genres and synopsis (works for unrated anime)")
    ] = "collaborative",
) -> Response:
    """Returns the anime most similar to `anime_id`, filtered; its own franchise is left out (see
    GET /api/v1/anime/{anime_id}/franchise) and other franchises show `max_per_franchise` entries."""
    params = clean({"n": n, "method": method, **filters.params, **franchises.params})
    return relay("recommender", await recommender.request("GET", f"/anime/{anime_id}/similar", params=params))


@router.get("/{anime_id}/franchise", summary="The other entries of an anime's franchise, in watch order",
            response_model=FranchiseAnswer, responses=NOT_FOUND)
async def anime_franchise(recommender: RecommenderDep, anime_id: AnimeId) -> Response:
    """Returns the franchise id and the other entries in watch order, each with the evidence of its link
    (`[]` for a standalone anime)."""
    return relay("recommender", await recommender.request("GET", f"/anime/{anime_id}/franchise"))
