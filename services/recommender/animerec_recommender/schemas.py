"""Request and response bodies of the recommender (responses are documented; lists are sent as cached JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from .filters import Filters

Strategy = Literal["hybrid", "collaborative", "user_based", "content", "item_item", "popularity"]


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
    sources: list[str] = Field(description=(
        "components that ranked it: item_item, collaborative, content, franchise, user_based, popularity, "
        "quality (hybrid: those that pushed it up)"))


class AnimeList(BaseModel):
    items: list[AnimeItem]
    model_version: str
    took_ms: float
    method: str | None = None


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
