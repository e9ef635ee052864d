"""The recommender's API: list queries and filters, list answers, anime, users, cold start, facts, reload.

The gateway serves the same models on /api/v1 (it forwards a validated query as
``model_dump(exclude_defaults=True)``), so a bound or a default is declared here once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .common import (
    VERSION_PATTERN,
    AnimeId,
    AnimeType,
    Genre,
    PageQuery,
    Pagination,
    Strategy,
    UserId,
)

# Every value a list item's `sources` may hold (the ranking's components, and three of the lists' own).
Source = Literal[
    "item_item", "collaborative", "content", "franchise", "user_based", "popularity", "quality", "title", "members",
    "ratings",
]  # fmt: skip
SOURCES_DOC = (
    "why it is in the list. Recommendations: the components that ranked it (item_item, collaborative, content, "
    "franchise, user_based, popularity, quality; hybrid: those that pushed it up, else the strongest); continue: "
    "franchise; similar anime: the method (collaborative or content); search: title (a title match) or members "
    "(no `q`: most members first); preferences' favourites: ratings (one of the user's favourites)"
)
RELEVANCE_DOC = (
    "how well the item answers the list, in [0, 1], higher = more relevant (compare within one list only). "
    "Search: the title match quality (1 = exact or prefix match); without `q`: members relative to the "
    "most-members anime. Similar anime: the cosine similarity of the two anime (learned embeddings, or content "
    "for method=content), negatives as 0. Recommendations, cold start and continue: the ranking score relative "
    "to the best-ranked discovery item of the same list (1 = as strong as the top recommendation, 0 for a score "
    "<= 0; null when that best score is not positive). Preferences' favourites: null (they are ordered by the "
    "user's own ratings, which are not public)."
)
MAL_URL = "https://myanimelist.net/anime/{anime_id}"


class ListFilters(BaseModel):
    """What every list accepts: genres, types, minimum members, year range, adult titles.

    Unknown parameters are refused (422), as are genres and types outside the catalogue's (the message names
    the allowed values; matching is case-insensitive)."""

    model_config = ConfigDict(extra="forbid")

    genre: list[Genre] = Field(
        default_factory=list,
        max_length=20,
        description="keep anime having all these genres (MyAnimeList genres)",
        examples=[["Action"]],
    )
    exclude_genre: list[Genre] = Field(
        default_factory=list,
        max_length=20,
        description="drop anime with any of these genres (MyAnimeList genres)",
        examples=[["Horror"]],
    )
    type: list[AnimeType] = Field(
        default_factory=list,
        max_length=10,
        description="anime types to keep (TV, Movie, OVA, ONA, Special, Music)",
        examples=[["TV"]],
    )
    min_members: int = Field(0, ge=0, le=10_000_000, description="minimum MyAnimeList members")
    year_min: int | None = Field(None, ge=1900, le=2100, description="first airing year, from")
    year_max: int | None = Field(None, ge=1900, le=2100, description="first airing year, to")
    include_adult: bool = Field(False, description="include adult titles (Rx - Hentai)")

    @model_validator(mode="after")
    def _years_ordered(self) -> ListFilters:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError("year_min must not exceed year_max")
        return self


class RankedListFilters(ListFilters):
    """Recommendation and similar-anime lists also group franchises."""

    max_per_franchise: int = Field(
        1,
        ge=0,
        le=100,
        description=("show at most this many entries of one franchise, the earliest standing for it (0 = no cap)"),
    )
    mix_franchises: bool = Field(
        False,
        description=(
            "keep the franchises the user rated or liked (similar anime: the anime's own franchise) in the list; "
            "recommendations then answer an empty `continue` list (true with max_per_franchise=0 = the plain "
            "ranked list)"
        ),
    )


class Filters(RankedListFilters):
    """Every filter the ranking applies (the list queries below carry the subset their route takes)."""

    exclude_rated: bool = Field(True, description="leave out anime the user already rated (or liked)")


class SearchQuery(ListFilters, PageQuery):
    """GET /anime: title search, or the most popular anime without `q`."""

    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        examples=["fullmetal"],
        description=(
            "title words (romaji, English or Japanese; case-, accent- and typo-tolerant); omitted: most popular first"
        ),
    )
    limit: int = Field(20, ge=1, le=100, description="items per page")


class SimilarAnimeQuery(RankedListFilters, PageQuery):
    """GET /anime/{anime_id}/similar."""

    method: Literal["collaborative", "content"] = Field(
        "collaborative",
        description=("collaborative: learned embeddings; content: genres and synopsis (works for unrated anime)"),
    )


class UserRecommendationsQuery(RankedListFilters, PageQuery):
    """GET /users/{user_id}/recommendations."""

    strategy: Strategy = Field(
        "hybrid", description="hybrid blends the others; user_based = favourites of similar users"
    )
    exclude_rated: bool = Field(True, description="leave out anime the user already rated")


class ContinueQuery(ListFilters, PageQuery):
    """GET /users/{user_id}/continue."""


class CountQuery(PageQuery):
    """GET /users/{user_id}/similar and /preferences (pages of similar users, or of favourite anime)."""

    model_config = ConfigDict(extra="forbid")


class ColdStartRequest(RankedListFilters, PageQuery):
    """Body of POST /recommendations: recommendations for someone without an account."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"liked": [5114, 9253, 1535], "disliked": [], "limit": 10, "include_adult": False},
                {"liked": [199], "limit": 5, "genre": ["Adventure"], "type": ["Movie"]},
                {"liked": [5114], "limit": 10, "page": 2, "max_per_franchise": 2},
            ]
        },
    )

    liked: list[AnimeId] = Field(..., min_length=1, max_length=500, description="anime ids the person liked")
    disliked: list[AnimeId] = Field(
        default_factory=list, max_length=500, description="anime ids they disliked (none of them also liked)"
    )
    strategy: Strategy = Field("hybrid", description="hybrid blends the others (its own blend, tuned for cold start)")
    exclude_rated: bool = Field(True, description="leave out the liked and disliked anime")

    @model_validator(mode="after")
    def _liked_or_disliked(self) -> ColdStartRequest:
        both = sorted(set(self.liked) & set(self.disliked))
        if both:
            raise ValueError(f"an anime cannot be both liked and disliked: {both[:10]}")
        return self


class FranchiseRef(BaseModel):
    """The franchise of a list item."""

    id: int = Field(description="anime_id of the franchise's first entry in watch order")
    size: int = Field(description="entries in the franchise (1: standalone)")


_ITEM_EXAMPLE: dict[str, Any] = {
    "anime_id": 9253,
    "title": "Steins;Gate",
    "name": "Steins;Gate",
    "english_title": "Steins;Gate",
    "genres": ["Thriller", "Sci-Fi"],
    "type": "TV",
    "year": 2011,
    "episodes": 24,
    "url": "https://myanimelist.net/anime/9253",
    "score": 9.11,
    "members": 1771162,
    "relevance": 0.93,
    "franchise": {"id": 9253, "size": 4},
    "sources": ["item_item", "collaborative"],
}
_PAGINATION_EXAMPLE: dict[str, Any] = {"page": 1, "limit": 10, "has_next": True, "total": None}


class AnimeItem(BaseModel):
    """One anime of a list answer (search, similar anime, recommendations, continue, favourites)."""

    anime_id: int = Field(description="MyAnimeList anime id")
    title: str = Field(examples=["Fullmetal Alchemist: Brotherhood"], description="English title, else romaji")
    name: str = Field(description="romaji title")
    english_title: str | None = Field(description="English title (null: none)")
    genres: list[str] = Field(description="MyAnimeList genres")
    type: str | None = Field(description="TV, Movie, OVA, ONA, Special or Music (null: unknown)")
    year: int | None = Field(description="first airing year (null: unknown)")
    episodes: int | None = Field(None, description="number of episodes (null: unknown, e.g. still airing)")
    url: str = Field(description="the anime's MyAnimeList page", examples=["https://myanimelist.net/anime/5114"])
    score: float | None = Field(description="MyAnimeList score (null: unscored)")
    members: int = Field(description="MyAnimeList members")
    relevance: float | None = Field(None, ge=0.0, le=1.0, description=RELEVANCE_DOC)
    franchise: FranchiseRef | None = Field(
        None,
        description=(
            "its franchise (ranked lists); a discovery item stands for the whole franchise (size - 1 other entries)"
        ),
    )
    sources: list[Source] = Field(description=SOURCES_DOC)


class AnimeList(BaseModel):
    """A list answer: search, similar anime or recommendations (one page of it)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "items": [_ITEM_EXAMPLE],
                    "continue": [],
                    "pagination": _PAGINATION_EXAMPLE,
                    "model_version": "v20240501-1",
                    "took_ms": 4.2,
                    "strategy": "hybrid",
                }
            ]
        },
    )

    items: list[AnimeItem] = Field(
        description=(
            "this page of the list. Recommendations: discovery (the franchises rated or liked left out, "
            "`max_per_franchise` entries of each other one); similar anime: the anime's own franchise left out; "
            "search: best match first"
        )
    )
    continue_: list[AnimeItem] | None = Field(
        None,
        alias="continue",
        description=(
            "recommendations only, not paginated: the first `limit` next unrated entries of the franchises rated or "
            "liked, in watch order, best franchises first, the same on every page ([] with mix_franchises=true); "
            "GET /users/{user_id}/continue pages through it"
        ),
    )
    pagination: Pagination = Field(description="where this page stands in the list")
    model_version: str = Field(description="the model version that ranked the list")
    took_ms: float = Field(description="milliseconds the recommender spent on the answer")
    strategy: str | None = Field(None, description="recommendations: the strategy used")
    method: str | None = Field(
        None, description="similar anime: the method used (content for an anime without ratings)"
    )


class ContinueList(BaseModel):
    """Continue watching: the next unrated entries of a user's franchises (one page of them)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [{**_ITEM_EXAMPLE, "anime_id": 30484, "sources": ["franchise"]}],
                    "pagination": {"page": 1, "limit": 10, "has_next": False, "total": 1},
                    "model_version": "v20240501-1",
                    "took_ms": 3.1,
                }
            ]
        }
    )

    items: list[AnimeItem] = Field(description="this page, in watch order, best franchises first")
    pagination: Pagination = Field(description="where this page stands in the list")
    model_version: str = Field(description="the model version that ranked the franchises")
    took_ms: float = Field(description="milliseconds the recommender spent on the answer")


class FranchiseEntry(BaseModel):
    """Another entry of an anime's franchise, with the evidence linking it."""

    anime_id: int = Field(description="MyAnimeList anime id")
    title: str = Field(description="English title, else romaji")
    type: str | None = Field(description="TV, Movie, OVA, ONA, Special or Music (null: unknown)")
    year: int | None = Field(description="first airing year (null: unknown)")
    episodes: int | None = Field(description="number of episodes (null: unknown)")
    aired_from: str | None = Field(description="first air date (ISO): the watch order")
    evidence: dict[str, Any] = Field(
        description=(
            "why it is of the franchise: {relation: same_franchise, rules: [title_base | title_prefix | shared_stem "
            "| japanese_base], base: the shared title base, path: anime ids from the asked anime}"
        )
    )


class FranchiseAnswer(BaseModel):
    """The other entries of an anime's franchise, in watch order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "anime_id": 5114,
                    "title": "Fullmetal Alchemist: Brotherhood",
                    "franchise_id": 121,
                    "items": [
                        {
                            "anime_id": 121,
                            "title": "Fullmetal Alchemist",
                            "type": "TV",
                            "year": 2003,
                            "episodes": 51,
                            "aired_from": "2003-10-04",
                            "evidence": {
                                "relation": "same_franchise",
                                "rules": ["title_prefix"],
                                "base": "fullmetal alchemist",
                                "path": [5114, 121],
                            },
                        }
                    ],
                    "model_version": "v20240501-1",
                    "took_ms": 0.8,
                }
            ]
        }
    )

    anime_id: int = Field(description="the anime asked about")
    title: str = Field(description="its English title, else romaji")
    franchise_id: int = Field(description="anime_id of the franchise's first entry in watch order")
    items: list[FranchiseEntry] = Field(description="the other entries in watch order; [] for a standalone anime")
    model_version: str = Field(description="the model version whose catalogue answered")
    took_ms: float | None = Field(None, description="milliseconds the recommender spent on the answer")


class AnimeDetail(BaseModel):
    """Metadata and synopsis of one anime."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "anime_id": 5114,
                    "title": "Fullmetal Alchemist: Brotherhood",
                    "name": "Fullmetal Alchemist: Brotherhood",
                    "english_title": "Fullmetal Alchemist: Brotherhood",
                    "japanese_name": "鋼の錬金術師 FULLMETAL ALCHEMIST",
                    "genres": ["Action", "Military", "Adventure", "Comedy", "Drama", "Magic", "Fantasy", "Shounen"],
                    "type": "TV",
                    "episodes": 64,
                    "year": 2009,
                    "url": "https://myanimelist.net/anime/5114",
                    "age_rating": "R - 17+ (violence & profanity)",
                    "score": 9.19,
                    "members": 2248456,
                    "popularity": 3,
                    "synopsis": "In order for something to be obtained, something of equal value must be lost.",
                    "n_ratings": 1001,
                    "model_version": "v20240501-1",
                }
            ]
        }
    )

    anime_id: int = Field(description="MyAnimeList anime id")
    title: str = Field(description="English title, else romaji")
    name: str = Field(description="romaji title")
    english_title: str | None = Field(description="English title (null: none)")
    japanese_name: str | None = Field(description="Japanese title (null: none)")
    genres: list[str] = Field(description="MyAnimeList genres")
    type: str | None = Field(description="TV, Movie, OVA, ONA, Special or Music (null: unknown)")
    episodes: int | None = Field(description="number of episodes (null: unknown)")
    year: int | None = Field(description="first airing year (null: unknown)")
    url: str = Field(description="the anime's MyAnimeList page")
    age_rating: str | None = Field(description="MyAnimeList age rating, e.g. PG-13 - Teens 13 or older")
    score: float | None = Field(description="MyAnimeList score (null: unscored)")
    members: int = Field(description="MyAnimeList members")
    popularity: int = Field(description="MyAnimeList popularity rank (1 = most members; 0: unknown)")
    synopsis: str = Field(description='synopsis ("" when none)')
    n_ratings: int = Field(description="ratings of this anime in the training data")
    model_version: str = Field(description="the model version whose catalogue answered")


class SimilarUser(BaseModel):
    """A user with a similar taste (the recommender's internal API only: the gateway does not serve other users'
    ids and rating counts)."""

    user_id: int = Field(description="MyAnimeList user id")
    similarity: float = Field(description="cosine similarity of the two users' embeddings")
    n_ratings: int = Field(description="how many anime that user rated")


class UserList(BaseModel):
    """Users most similar to a user (internal: not on the gateway's public API)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [{"user_id": 42, "similarity": 0.91, "n_ratings": 310}],
                    "pagination": _PAGINATION_EXAMPLE,
                    "model_version": "v20240501-1",
                    "took_ms": 1.2,
                }
            ]
        }
    )

    items: list[SimilarUser] = Field(description="this page, most similar first")
    pagination: Pagination = Field(description="where this page stands in the list")
    model_version: str = Field(description="the model version whose embeddings answered")
    took_ms: float = Field(description="milliseconds the recommender spent on the answer")


class GenreWeight(BaseModel):
    """A genre's share of a user's favourite anime (the top quartile of their ratings)."""

    genre: str = Field(description="a MyAnimeList genre")
    weight: float = Field(description="its share of the genres of the favourite anime (weights sum to 1)")
    count: int = Field(description="favourite anime of this genre")


class Preferences(BaseModel):
    """A user's favourite genres and favourite anime (the top quartile of their ratings).

    Public: it carries none of the user's rating values (no rating per anime, no rating threshold)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 1234,
                    "n_ratings": 48,
                    "genres": [{"genre": "Action", "weight": 0.31, "count": 12}],
                    "favourites": [{**_ITEM_EXAMPLE, "relevance": None, "franchise": None, "sources": ["ratings"]}],
                    "pagination": {"page": 1, "limit": 10, "has_next": True, "total": 14},
                    "model_version": "v20240501-1",
                    "took_ms": 2.0,
                }
            ]
        }
    )

    user_id: int = Field(description="MyAnimeList user id")
    n_ratings: int = Field(description="how many anime the user rated")
    genres: list[GenreWeight] = Field(
        examples=[[{"genre": "Action", "weight": 0.31, "count": 12}]],
        description="every genre of the favourite anime, largest share first (not paginated)",
    )
    favourites: list[AnimeItem] = Field(
        description=(
            "this page of the favourite anime, best liked first, without their ratings (relevance null, "
            "sources: [ratings])"
        )
    )
    pagination: Pagination = Field(description="where this page of favourites stands (total: all favourites)")
    model_version: str = Field(description="the model version whose data answered")
    took_ms: float = Field(description="milliseconds the recommender spent on the answer")


class ReloadRequest(BaseModel):
    """Body of POST /admin/reload."""

    version: str | None = Field(None, pattern=VERSION_PATTERN, description="default: models/CURRENT")


class ReloadAnswer(BaseModel):
    """The version now served and the one served before."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"model_version": "20261201-120512", "previous": "20261130-090000"}]}
    )

    model_version: str = Field(description="the version now served")
    previous: str | None = Field(description="the version served before (null when none was)")


class ExplanationFactsRequest(BaseModel):
    """Body of POST /explanation-facts: a user (or liked list) and one anime."""

    user_id: UserId | None = None
    liked: list[AnimeId] | None = Field(None, max_length=500)
    anime_id: AnimeId
    strategy: str | None = Field(None, max_length=40)

    @model_validator(mode="after")
    def _who(self) -> ExplanationFactsRequest:
        if self.user_id is None and not self.liked:
            raise ValueError("give user_id or a non-empty liked list")
        return self


class LikedAnime(BaseModel):
    """A liked (or highly rated) anime close to the explained one."""

    anime_id: int = Field(description="the liked anime's MyAnimeList id")
    title: str = Field(description="its title")
    similarity: float = Field(
        description="how close it is to the explained anime (embedding or content cosine; franchise: 1 / steps)"
    )
    by: Literal["embedding", "content", "franchise"] = Field(description="what makes the two close")
    evidence: dict[str, Any] = Field(
        description=(
            "franchise: {relation: same_franchise, rules, base, path}; embedding: {shared_users: users who "
            "liked both}; content: {shared_genres}"
        )
    )


class SimilarUsersFact(BaseModel):
    """How many of the subject's most similar users liked the anime."""

    liked_it: int = Field(description="similar users who rated the anime as liked")
    of: int = Field(description="similar users looked at")


class ExplanationFacts(BaseModel):
    """The facts the explainer may state: computed by the recommender from the served model."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "anime_id": 5114,
                    "title": "Fullmetal Alchemist: Brotherhood",
                    "genres": ["Action", "Adventure", "Drama", "Fantasy"],
                    "score": 9.19,
                    "members": 2248456,
                    "popularity_rank": 3,
                    "model_version": "20261201-120512",
                    "strategy": "hybrid",
                    "because_you_liked": [
                        {
                            "anime_id": 121,
                            "title": "Fullmetal Alchemist",
                            "similarity": 1.0,
                            "by": "franchise",
                            "evidence": {
                                "relation": "same_franchise",
                                "rules": ["title_base"],
                                "base": "fullmetal alchemist",
                                "path": [121, 5114],
                            },
                        }
                    ],
                    "shared_genres": ["Action", "Adventure"],
                    "similar_users": {"liked_it": 31, "of": 50},
                    "rated": 120,
                    "franchise": {"same_franchise_as": [121]},
                }
            ]
        }
    )

    anime_id: int = Field(description="the explained anime's MyAnimeList id")
    title: str = Field(description="its title")
    genres: list[str] = Field(description="its genres")
    score: float | None = Field(description="its MyAnimeList score (null when unscored)")
    members: int = Field(description="MyAnimeList members with it on their list")
    popularity_rank: int = Field(description="its rank by members in the catalogue (1 = most members)")
    model_version: str = Field(description="the model version whose data answered")
    strategy: str = Field(description="the strategy the facts are for (default hybrid)")
    because_you_liked: list[LikedAnime] = Field(
        description="up to three liked anime close to it, each with its evidence: franchise first"
    )
    shared_genres: list[str] = Field(description="its genres found among the liked anime's, most frequent first")
    similar_users: SimilarUsersFact = Field(description="how many of the subject's nearest users liked it")
    rated: int = Field(description="ratings the subject gave (0 for a cold-start liked list)")
    franchise: dict[str, Any] = Field(description="{same_franchise_as: liked anime ids of the target's franchise}")
