"""The recommender's API: list queries and filters, list answers, anime, users, cold start, facts, reload.

The gateway serves the same models on /api/v1 (it forwards a validated query as
``model_dump(exclude_defaults=True)``), so a bound or a default is declared here once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .common import VERSION_PATTERN, AnimeId, Strategy, UserId

SOURCES_DOC = (
    "components that ranked it: item_item, collaborative, content, franchise, user_based, popularity, "
    "quality (hybrid: those that pushed it up); search: title (title match) or members (no query, "
    "most members first)"
)


class ListFilters(BaseModel):
    """What every list accepts: genres, types, minimum members, year range, adult titles."""

    genre: list[str] = Field(
        default_factory=list, max_length=20, description="keep anime having all these genres", examples=[["Action"]]
    )
    exclude_genre: list[str] = Field(
        default_factory=list, max_length=20, description="drop anime with any of these genres", examples=[["Horror"]]
    )
    type: list[str] = Field(
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


class SearchQuery(ListFilters):
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
    limit: int = Field(20, ge=1, le=100, description="how many anime")


class SimilarAnimeQuery(RankedListFilters):
    """GET /anime/{anime_id}/similar."""

    n: int = Field(10, ge=1, le=100, description="how many anime")
    method: Literal["collaborative", "content"] = Field(
        "collaborative",
        description=("collaborative: learned embeddings; content: genres and synopsis (works for unrated anime)"),
    )


class UserRecommendationsQuery(RankedListFilters):
    """GET /users/{user_id}/recommendations."""

    n: int = Field(10, ge=1, le=100, description="how many anime")
    strategy: Strategy = Field(
        "hybrid", description="hybrid blends the others; user_based = favourites of similar users"
    )
    exclude_rated: bool = Field(True, description="leave out anime the user already rated")


class ContinueQuery(ListFilters):
    """GET /users/{user_id}/continue."""

    n: int = Field(10, ge=1, le=100, description="how many anime")


class CountQuery(BaseModel):
    """GET /users/{user_id}/similar and /preferences."""

    n: int = Field(10, ge=1, le=100, description="how many users (similar) or favourite anime (preferences)")


class ColdStartRequest(RankedListFilters):
    """Body of POST /recommendations: recommendations for someone without an account."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"liked": [5114, 9253, 1535], "disliked": [], "n": 10, "include_adult": False},
                {"liked": [199], "n": 5, "genre": ["Adventure"], "type": ["Movie"]},
                {"liked": [5114], "n": 10, "max_per_franchise": 2},
            ]
        },
    )

    liked: list[AnimeId] = Field(..., min_length=1, max_length=500, description="anime ids the person liked")
    disliked: list[AnimeId] = Field(default_factory=list, max_length=500, description="anime ids they disliked")
    n: int = Field(10, ge=1, le=100, description="how many anime")
    strategy: Strategy = "hybrid"
    exclude_rated: bool = Field(True, description="leave out the liked and disliked anime")


class FranchiseRef(BaseModel):
    """The franchise of a list item."""

    id: int = Field(description="anime_id of the franchise's first entry in watch order")
    size: int = Field(description="entries in the franchise (1: standalone)")


class AnimeItem(BaseModel):
    """One anime of a list answer: `similarity` on similar and search lists, `relevance` on recommendations."""

    anime_id: int
    title: str = Field(examples=["Fullmetal Alchemist: Brotherhood"], description="English title, else romaji")
    name: str = Field(description="romaji title")
    english_title: str | None
    genres: list[str]
    type: str | None
    year: int | None
    score: float | None = Field(description="MyAnimeList score")
    members: int
    similarity: float | None = Field(None, description="similarity (similar-anime and search lists)")
    relevance: float | None = Field(None, description="ranking score (recommendation lists)")
    franchise: FranchiseRef | None = Field(
        None, description=("its franchise; a discovery item stands for the whole franchise (size - 1 other entries)")
    )
    sources: list[str] = Field(description=SOURCES_DOC)


class AnimeList(BaseModel):
    """A list answer: search, similar anime or recommendations."""

    items: list[AnimeItem] = Field(
        description=(
            "recommendations: discovery (the franchises rated or liked left out, `max_per_franchise` entries of each "
            "other one); similar anime: the anime's own franchise left out; search: best match first"
        )
    )
    continue_: list[AnimeItem] | None = Field(
        None,
        alias="continue",
        description=(
            "recommendations only: the next unrated entries of the franchises rated or liked, in watch order, "
            "best franchises first ([] with mix_franchises=true)"
        ),
    )
    model_version: str
    took_ms: float
    strategy: str | None = Field(None, description="recommendations: the strategy used")
    method: str | None = Field(None, description="similar anime: the method used")


class ContinueList(BaseModel):
    """Continue watching: the next unrated entries of a user's franchises."""

    items: list[AnimeItem] = Field(description="in watch order, best franchises first")
    model_version: str
    took_ms: float


class FranchiseEntry(BaseModel):
    """Another entry of an anime's franchise, with the evidence linking it."""

    anime_id: int
    title: str
    type: str | None
    year: int | None
    episodes: float | None
    aired_from: str | None = Field(description="first air date (ISO): the watch order")
    evidence: dict[str, Any] = Field(
        description=(
            "why it is of the franchise: {relation: same_franchise, rules: [title_base | title_prefix | shared_stem "
            "| japanese_base], base: the shared title base, path: anime ids from the asked anime}"
        )
    )


class FranchiseAnswer(BaseModel):
    """The other entries of an anime's franchise, in watch order."""

    anime_id: int
    title: str
    franchise_id: int = Field(description="anime_id of the franchise's first entry in watch order")
    items: list[FranchiseEntry] = Field(description="the other entries in watch order; [] for a standalone anime")
    model_version: str
    took_ms: float | None = None


class AnimeDetail(BaseModel):
    """Metadata and synopsis of one anime."""

    anime_id: int
    title: str
    name: str
    english_title: str | None
    japanese_name: str | None
    genres: list[str]
    type: str | None
    episodes: float | None
    year: int | None
    age_rating: str | None
    score: float | None
    members: int
    popularity: int
    synopsis: str
    n_ratings: int = Field(description="ratings of this anime in the training data")
    model_version: str


class SimilarUser(BaseModel):
    """A user with a similar taste (the recommender's internal API only: the gateway does not serve other users'
    ids and rating counts)."""

    user_id: int
    similarity: float
    n_ratings: int


class UserList(BaseModel):
    """Users most similar to a user (internal: not on the gateway's public API)."""

    items: list[SimilarUser]
    model_version: str
    took_ms: float


class GenreWeight(BaseModel):
    """A genre's share of a user's favourite anime (the top quartile of their ratings)."""

    genre: str
    weight: float
    count: int = Field(description="favourite anime of this genre")


class Preferences(BaseModel):
    """A user's favourite genres and favourite anime (the top quartile of their ratings).

    Public: it carries none of the user's rating values (no rating per anime, no rating threshold)."""

    user_id: int
    n_ratings: int = Field(description="how many anime the user rated")
    genres: list[GenreWeight] = Field(examples=[[{"genre": "Action", "weight": 0.31, "count": 12}]])
    favourites: list[AnimeItem] = Field(
        description="favourite anime, best liked first, without their ratings (sources: [ratings])"
    )
    model_version: str
    took_ms: float


class ReloadRequest(BaseModel):
    """Body of POST /admin/reload."""

    version: str | None = Field(None, pattern=VERSION_PATTERN, description="default: models/CURRENT")


class ReloadAnswer(BaseModel):
    """The version now served and the one served before."""

    model_version: str
    previous: str | None


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

    anime_id: int
    title: str
    similarity: float
    by: Literal["embedding", "content", "franchise"]
    evidence: dict[str, Any] = Field(
        description=(
            "franchise: {relation: same_franchise, rules, base, path}; embedding: {shared_users: users who "
            "liked both}; content: {shared_genres}"
        )
    )


class SimilarUsersFact(BaseModel):
    """How many of the subject's most similar users liked the anime."""

    liked_it: int
    of: int


class ExplanationFacts(BaseModel):
    """The facts the explainer may state: computed by the recommender from the served model."""

    anime_id: int
    title: str
    genres: list[str]
    score: float | None
    members: int
    popularity_rank: int
    model_version: str
    strategy: str
    because_you_liked: list[LikedAnime]
    shared_genres: list[str]
    similar_users: SimilarUsersFact
    rated: int = Field(description="ratings the subject gave (0 for a cold-start liked list)")
    franchise: dict[str, Any] = Field(description="{same_franchise_as: liked anime ids of the target's franchise}")
