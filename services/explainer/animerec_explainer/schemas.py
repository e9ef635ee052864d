"""Request and response bodies of the explainer API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

STRATEGY_PATTERN = r"^[a-z][a-z_]{0,31}$"
FallbackReason = Literal["llm_timeout", "llm_error", "llm_rate_limited", "llm_unknown_title",
                         "llm_unverified_claim", "llm_empty", "llm_too_long"]


class _Subject(BaseModel):
    """Whom the explanation is for: a known user, or a list of liked anime (cold start)."""

    user_id: int | None = Field(None, ge=0, description="a user known to the recommender")
    liked: list[int] | None = Field(None, min_length=1, max_length=200,
                                    description="anime ids the person liked (no account needed)")
    strategy: str | None = Field(None, pattern=STRATEGY_PATTERN,
                                 description="the strategy that recommended the anime, e.g. hybrid")

    @model_validator(mode="after")
    def _one_subject(self) -> _Subject:
        if (self.user_id is None) == (self.liked is None):
            raise ValueError("give exactly one of user_id or liked")
        if self.liked is not None:
            if any(a < 1 for a in self.liked):
                raise ValueError("liked anime ids must be positive")
            self.liked = sorted(set(self.liked))
        return self


class ExplanationCreate(_Subject):
    """Body of POST /explanations."""

    anime_id: int = Field(..., ge=1)

    model_config = {"json_schema_extra": {"examples": [{"user_id": 1234, "anime_id": 5114},
                                                       {"liked": [1535, 16498], "anime_id": 5114}]}}


class ExplanationBatchCreate(_Subject):
    """Body of POST /explanations/batch (duplicate anime ids are answered once)."""

    anime_ids: list[int] = Field(..., min_length=1, max_length=20)

    @model_validator(mode="after")
    def _positive_unique(self) -> ExplanationBatchCreate:
        if any(a < 1 for a in self.anime_ids):
            raise ValueError("anime ids must be positive")
        self.anime_ids = list(dict.fromkeys(self.anime_ids))
        return self


class Fact(BaseModel):
    """One computed fact: its kind, one short sentence, and the numbers behind it."""

    kind: Literal["because_you_liked", "shared_genres", "similar_users", "score", "popularity", "strategy"]
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class ExplanationPublic(BaseModel):
    """One explanation: the facts, the text built from them, and who wrote the text."""

    anime_id: int
    title: str | None = None
    facts: list[Fact]
    text: str
    source: Literal["llm", "template"]
    fallback_reason: FallbackReason | None = None
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


class ExplanationBatchPublic(BaseModel):
    """Answer of POST /explanations/batch: one entry per distinct anime id, in request order."""

    items: list[ExplanationPublic | ExplanationBatchItemError]
    model_version: str | None = None
    took_ms: float
