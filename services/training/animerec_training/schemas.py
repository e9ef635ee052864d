"""Request and response bodies of the training API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .config import ModelName, PromotePolicy


class TrainingRunCreate(BaseModel):
    """POST /training-runs body."""

    model: ModelName = "two_tower"
    epochs: int | None = Field(default=None, ge=1, le=500)
    processed_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    promote: PromotePolicy = "if_better"


class TrainingRunCreated(BaseModel):
    id: str
    state: str


class TrainingRunPublic(BaseModel):
    """GET /training-runs/{id}: where the run is and what it measured so far."""

    id: str
    state: str
    epoch: int | None = 0
    epochs: int | None = None
    progress: float | None = Field(0.0, description=(
        "fraction of the whole run done: every epoch of the val-blind copy and of the final fit, then "
        "evaluation and publishing"))
    metrics: dict[str, Any] = Field(default_factory=dict)
    version: str | None = None
    promoted: bool | None = False
    # Why: {"promoted", "current_version", "compared": {"hybrid ndcg@10": [new, current], ...}, "decision", ...}
    promotion: dict[str, Any] | None = None
    error: str | None = None
    model: str | None = None
    phase: str | None = Field(None, description=(
        "loading data, val-blind copy, tuning hybrid on val, training, evaluating, publishing, done"))
    phase_progress: float | None = Field(None, description="fraction of the current phase done")
    eta_s: float | None = Field(None, description="seconds left, from the time per unit of work so far")
    blind_epoch: int | None = Field(None, description="epochs of the val-blind copy done (the blend's model)")


class ModelPublic(BaseModel):
    version: str
    model: str | None = None
    processed_id: str | None = None
    metrics: dict[str, Any]
    created_at: str | None = None
    current: bool


class ModelList(BaseModel):
    current: str | None
    models: list[ModelPublic]


class Promotion(BaseModel):
    """POST /models/{version}/promote answer; model_version is the now-current version."""

    model_version: str
    current: str
    previous: str | None
