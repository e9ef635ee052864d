"""The explainer's API: why an anime is recommended, for a user or a liked list."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .common import AnimeId, UserId

STRATEGY_PATTERN = r"^[a-z][a-z_]{0,31}$"
FallbackReason = Literal[
    "llm_timeout",
    "llm_error",
    "llm_rate_limited",
    "llm_unknown_title",
    "llm_unverified_claim",
    "llm_empty",
    "llm_too_long",
]


class Subject(BaseModel):
    """Whom the explanation is for: a known user, or a list of liked anime (cold start)."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId | None = Field(None, description="a user known to the recommender")
    liked: list[AnimeId] | None = Field(
        None, min_length=1, max_length=200, description="anime ids the person liked (no account needed)"
    )
    strategy: str | None = Field(
        None, pattern=STRATEGY_PATTERN, description="the strategy that recommended the anime, e.g. hybrid"
    )

    @model_validator(mode="after")
    def _one_subject(self) -> Subject:
        if (self.user_id is None) == (self.liked is None):
            raise ValueError("give exactly one of user_id or liked")
        if self.liked is not None:
            self.liked = sorted(set(self.liked))
        return self


class ExplanationRequest(Subject):
    """Body of POST /explanations."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"user_id": 1234, "anime_id": 5114}, {"liked": [1535, 16498], "anime_id": 5114}]
        },
    )

    anime_id: AnimeId


class ExplanationBatchRequest(Subject):
    """Body of POST /explanations/batch (up to 20 anime; duplicate ids are answered once)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"user_id": 1234, "anime_ids": [5114, 9253]}]}
    )

    anime_ids: list[AnimeId] = Field(..., min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> ExplanationBatchRequest:
        self.anime_ids = list(dict.fromkeys(self.anime_ids))
        return self


class Fact(BaseModel):
    """One computed fact: its kind, one short sentence, and the numbers behind it."""

    kind: Literal["because_you_liked", "shared_genres", "similar_users", "score", "popularity", "strategy"]
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class Explanation(BaseModel):
    """One explanation: the facts, the text built from them, and who wrote the text."""

    anime_id: int
    title: str | None = None
    facts: list[Fact]
    text: str
    source: Literal["llm", "template"] = Field(
        description="llm: written by the LLM and checked against the facts; template: built from the facts"
    )
    fallback_reason: FallbackReason | None = Field(None, description="why the template was used instead of the LLM")
    model_version: str | None = None
    strategy: str | None = None
    llm_model: str | None = Field(None, description="the LLM that wrote the text (source llm)")
    cached: bool = False


class ItemError(BaseModel):
    """An error for one anime of a batch."""

    code: str
    message: str


class ExplanationBatchItemError(BaseModel):
    """A batch entry that could not be explained (e.g. anime_not_found)."""

    anime_id: int
    error: ItemError


class ExplanationBatch(BaseModel):
    """Answer of POST /explanations/batch: one entry per distinct anime id, in request order."""

    items: list[Explanation | ExplanationBatchItemError]
    model_version: str | None = None
    took_ms: float
