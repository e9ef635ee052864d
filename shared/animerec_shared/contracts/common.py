"""What every service answer shares: the error body, id bounds, strategy names and version ids."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import Path
from pydantic import BaseModel, Field

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


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a message for people and optional structured details."""

    code: str = Field(examples=["anime_not_found"], description="stable, machine-readable")
    message: str
    details: Any = Field(None, description="e.g. the invalid fields, or which upstream failed (`upstream`)")


class ErrorBody(BaseModel):
    """The one error schema of every service: `{"error": {"code", "message", "details"?}}`."""

    error: ErrorDetail


def error_doc(description: str) -> dict[str, Any]:
    """Returns an OpenAPI `responses` entry answered with the error body."""
    return {"model": ErrorBody, "description": description}
