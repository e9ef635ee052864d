"""What every service answer shares: the error body, id bounds, strategy names, version ids, the catalogue's
enumerations (genres, types) and pagination."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

# MyAnimeList ids are positive 32-bit integers (user ids start at 0 in the Kaggle data).
ANIME_ID_MIN, ANIME_ID_MAX = 1, 2**31 - 1
USER_ID_MIN, USER_ID_MAX = 0, 2**31 - 1

Strategy = Literal["hybrid", "collaborative", "user_based", "content", "item_item", "popularity"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)

# Model versions and dataset ids (also the storage key segment they name).
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

AnimeIdPath = Annotated[
    int, Path(ge=ANIME_ID_MIN, le=ANIME_ID_MAX, description="MyAnimeList anime id", examples=[5114])
]
UserIdPath = Annotated[int, Path(ge=USER_ID_MIN, le=USER_ID_MAX, description="MyAnimeList user id", examples=[1234])]
AnimeId = Annotated[int, Field(ge=ANIME_ID_MIN, le=ANIME_ID_MAX)]
UserId = Annotated[int, Field(ge=USER_ID_MIN, le=USER_ID_MAX)]


# The genres of the MyAnimeList 2020 catalogue (anime.csv's `Genres`, "Unknown" = none), as served: the
# sample catalogues draw from the same list. tests/recommender/test_recommender_pagination.py checks it
# against the real anime.csv and the sample vocabulary.
MalGenre = Literal[
    "Action", "Adventure", "Cars", "Comedy", "Dementia", "Demons", "Drama", "Ecchi", "Fantasy", "Game", "Harem",
    "Hentai", "Historical", "Horror", "Josei", "Kids", "Magic", "Martial Arts", "Mecha", "Military", "Music",
    "Mystery", "Parody", "Police", "Psychological", "Romance", "Samurai", "School", "Sci-Fi", "Seinen", "Shoujo",
    "Shoujo Ai", "Shounen", "Shounen Ai", "Slice of Life", "Space", "Sports", "Super Power", "Supernatural",
    "Thriller", "Vampire", "Yaoi", "Yuri",
]  # fmt: skip
MAL_GENRES: tuple[str, ...] = get_args(MalGenre)
# anime.csv's `Type` ("Unknown", 37 titles, is served as type null and cannot be filtered on).
AnimeTypeName = Literal["TV", "Movie", "OVA", "ONA", "Special", "Music"]
ANIME_TYPES: tuple[str, ...] = get_args(AnimeTypeName)


def _one_of(what: str, allowed: tuple[str, ...]) -> Any:
    lower = {a.lower(): a for a in allowed}

    def check(value: str) -> str:
        hit = lower.get(value.lower())
        if hit is None:
            raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
        return hit

    return check


# Case-insensitive on input ("sci-fi" is "Sci-Fi"), the canonical spelling after validation; anything else is
# a 422 whose message names the allowed values. (Typed str, documented as the enum.)
Genre = Annotated[
    str, AfterValidator(_one_of("genre", MAL_GENRES)), WithJsonSchema({"type": "string", "enum": list(MAL_GENRES)})
]
AnimeType = Annotated[
    str, AfterValidator(_one_of("type", ANIME_TYPES)), WithJsonSchema({"type": "string", "enum": list(ANIME_TYPES)})
]

# Pagination: `page` (1-based) and `limit` on every list; page * limit may not pass this.
PAGE_LIMIT_MAX = 100
PAGE_DEPTH_MAX = 500
PAGINATION_DOC = (
    f"Pages: `page` (1-based) of `limit` items (1-{PAGE_LIMIT_MAX}); page * limit <= {PAGE_DEPTH_MAX}. Pages are "
    "slices of one list (franchise grouping applied first): pages 1..k together are the first k * limit items "
    "of one request for them, without duplicates, for one model version. `n` is the deprecated name of `limit` "
    "(accepted for one release; `n` and `limit` both given and different: 422)."
)


class PageQuery(BaseModel):
    """`page` and `limit` (and `n`, limit's deprecated alias) of every list query."""

    page: int = Field(1, ge=1, le=PAGE_DEPTH_MAX, description=f"1-based page number; page * limit <= {PAGE_DEPTH_MAX}")
    limit: int = Field(10, ge=1, le=PAGE_LIMIT_MAX, description="items per page")
    n: int | None = Field(
        None,
        ge=1,
        le=PAGE_LIMIT_MAX,
        deprecated="n is the deprecated name of limit (removed in the next release)",
        description="deprecated: the old name of `limit` (one release); with `limit` it must be equal",
    )

    @model_validator(mode="after")
    def _page_and_alias(self) -> PageQuery:
        n = self.__dict__.get("n")  # not self.n: reading a deprecated field warns
        if n is not None:
            if "limit" in self.model_fields_set and n != self.limit:
                raise ValueError(f"n is the deprecated name of limit: give limit alone (n={n}, limit={self.limit})")
            self.__dict__["limit"], self.__dict__["n"] = n, None
            self.model_fields_set.add("limit")
        if self.page * self.limit > PAGE_DEPTH_MAX:
            raise ValueError(
                f"page * limit must not exceed {PAGE_DEPTH_MAX} (page={self.page}, limit={self.limit}): "
                "lists are served to that depth"
            )
        return self

    @property
    def depth(self) -> int:
        """Returns how many items of the list this page needs: page * limit, plus one to know has_next."""
        return self.page * self.limit + 1

    def window(self, ranked: list[Any], total: int | None = None) -> tuple[list[Any], Pagination]:
        """Returns (this page of ranked, its pagination); ranked holds the list's first `depth` items or all.

        total: the whole list's length when known; otherwise it is known on the last page only."""
        start = (self.page - 1) * self.limit
        page = ranked[start : start + self.limit]
        has_next = len(ranked) > start + self.limit
        if total is None and not has_next:  # fewer than asked for: the list ended there
            total = len(ranked)
        return page, Pagination(page=self.page, limit=self.limit, has_next=has_next, total=total)


class Pagination(BaseModel):
    """Where a page stands in its list."""

    page: int = Field(description="this page (1-based)", examples=[1])
    limit: int = Field(description="items per page asked for (the last page may hold fewer)", examples=[10])
    has_next: bool = Field(description="whether page + 1 has items (false past the served depth too)")
    total: int | None = Field(
        description=(
            "items in the whole list when known: always for search, preferences' favourites and similar users' "
            "bounded lists, else (ranked lists over the whole catalogue) on the last page only; null when not "
            "known without ranking the whole catalogue"
        ),
        examples=[None],
    )


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a message for people and optional structured details."""

    code: str = Field(
        examples=["validation_error"],
        description=(
            "stable, machine-readable: validation_error (422), anime_not_found / user_not_found (404), "
            "rate_limited (429), upstream_unavailable (503), upstream_timeout (504), ..."
        ),
    )
    message: str = Field(
        description="for people; may change between releases", examples=["request parameters are invalid"]
    )
    details: Any = Field(
        None,
        description=(
            "structured details: for validation_error a list of {loc, msg, type} (msg names the allowed values "
            "of an enumeration), for upstream errors which upstream failed (`upstream`)"
        ),
    )


class ErrorBody(BaseModel):
    """The one error schema of every service: `{"error": {"code", "message", "details"?}}`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "validation_error",
                        "message": "request parameters are invalid",
                        "details": [
                            {
                                "loc": ["query", "type"],
                                "msg": "Input should be 'TV', 'Movie', 'OVA', 'ONA', 'Special' or 'Music'",
                                "type": "literal_error",
                            }
                        ],
                    }
                }
            ]
        }
    )

    error: ErrorDetail = Field(description="what went wrong")


def error_doc(description: str) -> dict[str, Any]:
    """Returns an OpenAPI `responses` entry answered with the error body."""
    return {"model": ErrorBody, "description": description}


class HealthAnswer(BaseModel):
    """Liveness: the process answers (it says nothing about the service's dependencies)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "service": "gateway"}]})

    status: Literal["ok"] = Field(description="always ok: an answer at all is the liveness signal")
    service: str = Field(description="which service answered", examples=["gateway"])


class ReadyAnswer(BaseModel):
    """Readiness: whether the service can serve now (200 ready, 503 not_ready), with what it depends on."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "service": "gateway",
                    "upstreams": {"recommender": "ok", "explainer": "ok"},
                    "model_version": "v20240501-1",
                },
                {"status": "not_ready", "service": "recommender", "reason": "no model version loaded"},
            ]
        },
    )

    status: Literal["ready", "not_ready"] = Field(description="ready (HTTP 200) or not_ready (HTTP 503)")
    service: str = Field(description="which service answered", examples=["recommender"])


# The probes' documented answers: 200 (and for /readyz 503), never the API routes' 400/404/422.
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"description": "the process answers"}}
READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "ready: every dependency is usable (service-specific details beside status)"},
    503: {
        "model": ReadyAnswer,
        "description": "not ready (e.g. no model loaded yet, or an upstream down): the same body, status not_ready",
    },
}
