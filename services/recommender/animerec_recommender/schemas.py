"""Request and response bodies of the recommender; FastAPI validates and serialises every answer with them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from .filters import Filters

Strategy = Literal["hybrid", "collaborative", "user_based", "content", "item_item", "popularity"]


class FranchiseRef(BaseModel):
    id: int
    size: int


class AnimeItem(BaseModel):
    """One anime of a list answer; ``similarity`` on similar lists, ``relevance`` on recommendations."""

    anime_id: int
    title: str
    name: str
    english_title: str | None
    genres: list[str]
    type: str | None
    year: int | None
    score: float | None
    members: int
    similarity: float | None = None
    relevance: float | None = None
    franchise: FranchiseRef | None = Field(None, description=(
        "its franchise: id (anime_id of the first entry in watch order) and size (entries); a "
        "discovery item stands for the whole franchise, size - 1 others"))
    sources: list[str] = Field(description=(
        "components that ranked it: item_item, collaborative, content, franchise, user_based, popularity, "
        "quality (hybrid: those that pushed it up)"))


class AnimeList(BaseModel):
    items: list[AnimeItem] = Field(description=(
        "recommendations: discovery (franchises you rated or liked left out, max_per_franchise each); "
        "similar anime: the anime's own franchise left out"))
    continue_: list[AnimeItem] | None = Field(None, alias="continue", description=(
        "recommendations only: the next unrated entries of the franchises you rated or liked, in watch "
        "order, best franchises first ([] with mix_franchises=true)"))
    model_version: str
    took_ms: float
    method: str | None = None
    strategy: str | None = None


class ContinueList(BaseModel):
    items: list[AnimeItem] = Field(description="the next unrated entries of your franchises, in watch order")
    model_version: str
    took_ms: float


class FranchiseEntry(BaseModel):
    anime_id: int
    title: str
    type: str | None
    year: int | None
    episodes: float | None
    aired_from: str | None = Field(description="first air date (ISO), the watch order")
    evidence: dict = Field(description=(
        "why it is of the franchise: {relation: same_franchise, rules: [title_base | title_prefix | "
        "shared_stem | japanese_base], base: the shared title base, path: anime ids from the asked anime}"))


class FranchiseAnswer(BaseModel):
    anime_id: int
    title: str
    franchise_id: int = Field(description="anime_id of the franchise's first entry in watch order")
    items: list[FranchiseEntry] = Field(description="the other entries, in watch order; [] for a standalone anime")
    model_version: str
    took_ms: float


class AnimeDetail(BaseModel):
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
    n_ratings: int
    model_version: str


class SimilarUser(BaseModel):
    user_id: int
    similarity: float
    n_ratings: int


class UserList(BaseModel):
    items: list[SimilarUser]
    model_version: str
    took_ms: float


class GenreWeight(BaseModel):
    genre: str
    weight: float
    count: int


class Preferences(BaseModel):
    user_id: int
    n_ratings: int
    threshold: float | None
    genres: list[GenreWeight]
    favourites: list[dict]
    model_version: str
    took_ms: float


class ColdStartRequest(Filters):
    """Someone without an account: the anime they liked (and disliked), plus the list filters."""

    liked: list[int] = Field(..., min_length=1, max_length=500)
    disliked: list[int] = Field(default_factory=list, max_length=500)
    n: int = Field(10, ge=1, le=100)
    strategy: Strategy = "hybrid"


class ReloadRequest(BaseModel):
    version: str | None = Field(None, max_length=200, description="default: models/CURRENT")


class ReloadAnswer(BaseModel):
    model_version: str
    previous: str | None


class ExplanationFactsRequest(BaseModel):
    user_id: int | None = None
    liked: list[int] | None = Field(None, max_length=500)
    anime_id: int
    strategy: str | None = Field(None, max_length=40)

    @model_validator(mode="after")
    def _who(self) -> ExplanationFactsRequest:
        if self.user_id is None and not self.liked:
            raise ValueError("give user_id or a non-empty liked list")
        return self


class LikedAnime(BaseModel):
    anime_id: int
    title: str
    similarity: float
    by: Literal["embedding", "content", "franchise"]
    evidence: dict = Field(description=(
        "franchise: {relation: same_franchise, rules, base, path}; embedding: {shared_users: users who "
        "liked both}; content: {shared_genres}"))


class SimilarUsersFact(BaseModel):
    liked_it: int
    of: int


class ExplanationFacts(BaseModel):
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
    franchise: dict = Field(description="{same_franchise_as: liked anime ids of the target's franchise}")
