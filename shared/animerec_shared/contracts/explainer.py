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

    kind: Literal["because_you_liked", "shared_genres", "similar_users", "score", "popularity", "strategy"] = Field(
        description="what the fact is about"
    )
    text: str = Field(description="the fact as one short sentence")
    data: dict[str, Any] = Field(
        default_factory=dict, description="the numbers and ids behind the sentence (per kind, from the recommender)"
    )


_FACT_EXAMPLE: dict[str, Any] = {
    "kind": "because_you_liked",
    "text": "From the same franchise as Fullmetal Alchemist, which you liked.",
    "data": {
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
    },
}
_EXPLANATION_EXAMPLE: dict[str, Any] = {
    "anime_id": 5114,
    "title": "Fullmetal Alchemist: Brotherhood",
    "facts": [_FACT_EXAMPLE],
    "text": "From the same franchise as Fullmetal Alchemist, which you liked.",
    "source": "template",
    "fallback_reason": None,
    "model_version": "20261201-120000",
    "strategy": "hybrid",
    "llm_model": None,
    "cached": False,
}


class Explanation(BaseModel):
    """One explanation: the facts, the text built from them, and who wrote the text."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXPLANATION_EXAMPLE]})

    anime_id: int = Field(description="the explained anime's MyAnimeList id")
    title: str | None = Field(None, description="its title (null when the recommender named none)")
    facts: list[Fact] = Field(description="the facts computed by the recommender that the text may state")
    text: str = Field(description="the explanation for people, built from the facts")
    source: Literal["llm", "template"] = Field(
        description="llm: written by the LLM and checked against the facts; template: built from the facts"
    )
    fallback_reason: FallbackReason | None = Field(None, description="why the template was used instead of the LLM")
    model_version: str | None = Field(None, description="the model version whose facts were explained")
    strategy: str | None = Field(None, description="the strategy the explanation is for (e.g. hybrid)")
    llm_model: str | None = Field(None, description="the LLM that wrote the text (source llm)")
    cached: bool = Field(False, description="answered from the explainer's cache")


class ItemError(BaseModel):
    """An error for one anime of a batch."""

    code: str = Field(description="stable machine-readable error code, e.g. anime_not_found")
    message: str = Field(description="for people; may change between releases")


class ExplanationBatchItemError(BaseModel):
    """A batch entry that could not be explained (e.g. anime_not_found)."""

    anime_id: int = Field(description="the anime id that could not be explained")
    error: ItemError = Field(description="why")


class ExplanationBatch(BaseModel):
    """Answer of POST /explanations/batch: one entry per distinct anime id, in request order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        _EXPLANATION_EXAMPLE,
                        {"anime_id": 48000, "error": {"code": "anime_not_found", "message": "anime 48000 not found"}},
                    ],
                    "model_version": "20261201-120000",
                    "took_ms": 35.2,
                }
            ]
        }
    )

    items: list[Explanation | ExplanationBatchItemError] = Field(
        description="one explanation, or the error for that anime, per distinct anime id, in request order"
    )
    model_version: str | None = Field(None, description="the model version whose facts were explained")
    took_ms: float = Field(description="milliseconds the explainer spent on the answer")
