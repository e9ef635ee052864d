"""Query parameters and error docs shared by the list routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from animerec_shared.errors import InvalidInputError

from ..schemas import ErrorBody

UPSTREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "invalid parameters (`validation_error`)"},
    429: {"model": ErrorBody, "description": "rate limited (`rate_limited`, see Retry-After)"},
    503: {"model": ErrorBody, "description": "the service behind this route is down (`upstream_unavailable`)"},
    504: {"model": ErrorBody, "description": "the service behind this route was too slow (`upstream_timeout`)"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "unknown id (`anime_not_found` / `user_not_found`)"}}

Genre = Annotated[str, Query(min_length=1, max_length=64)]


class ListFilters:
    """Filters every recommendation list accepts; forwarded to the recommender as query parameters."""

    def __init__(self, params: dict[str, Any]):
        self.params = params


async def list_filters(
    genre: Annotated[list[str] | None, Query(max_length=20, description="keep anime having all these genres",
                                             examples=[["Action"]])] = None,
    exclude_genre: Annotated[list[str] | None, Query(max_length=20, description="drop anime with any of these "
                                                     "genres", examples=[["Horror"]])] = None,
    type: Annotated[list[str] | None, Query(max_length=10, description="anime types to keep (TV, Movie, OVA, "
                                            "ONA, Special, Music)", examples=[["TV"]])] = None,
    min_members: Annotated[int | None, Query(ge=0, le=10_000_000, description="minimum MAL members")] = None,
    year_min: Annotated[int | None, Query(ge=1900, le=2100, description="first airing year, from")] = None,
    year_max: Annotated[int | None, Query(ge=1900, le=2100, description="first airing year, to")] = None,
    include_adult: Annotated[bool, Query(description="include adult titles (Rx - Hentai)")] = False,
) -> ListFilters:
    """Returns the list filters of the query (async: a sync dependency would cost a thread hop per request)."""
    if year_min is not None and year_max is not None and year_min > year_max:
        raise InvalidInputError("year_min must not exceed year_max", code="validation_error", status_code=422)
    return ListFilters({"genre": genre, "exclude_genre": exclude_genre, "type": type, "min_members": min_members,
                        "year_min": year_min, "year_max": year_max, "include_adult": include_adult})


Filters = Annotated[ListFilters, Depends(list_filters)]


async def franchise_filters(
    max_per_franchise: Annotated[int | None, Query(ge=0, le=100, description=(
        "show at most this many entries of one franchise, the earliest standing for it (recommender default 1; "
        "0 = no cap)"), examples=[1])] = None,
    mix_franchises: Annotated[bool | None, Query(description=(
        "keep the franchises the user rated or liked (similar anime: the anime's own franchise) in the list; "
        "recommendations then answer an empty `continue` list (recommender default false; true with "
        "max_per_franchise=0 = the plain ranked list)"))
    ] = None,
) -> ListFilters:
    """Returns the franchise options of a recommendation or similar-anime list (unset: the recommender's default)."""
    return ListFilters({"max_per_franchise": max_per_franchise, "mix_franchises": mix_franchises})


# Recommendation and similar-anime lists only: search, and the continue list, do not group by franchise.
FranchiseFilters = Annotated[ListFilters, Depends(franchise_filters)]


def clean(params: dict[str, Any]) -> dict[str, Any]:
    """Returns the query parameters without the unset ones, booleans as true/false."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or value == []:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
