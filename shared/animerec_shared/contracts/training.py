"""The training service's API: training runs, model versions and promotion."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .common import VERSION_PATTERN

ModelName = Literal["two_tower", "seed"]
PromotePolicy = Literal["never", "if_better", "always"]


class TrainingRunCreate(BaseModel):
    """Body of POST /training-runs."""

    model: ModelName = "two_tower"
    epochs: int | None = Field(default=None, ge=1, le=500)
    processed_id: str | None = Field(default=None, pattern=VERSION_PATTERN, description="default: processed/CURRENT")
    promote: PromotePolicy = "if_better"


class TrainingRunCreated(BaseModel):
    """A queued training run; poll GET /training-runs/{id}."""

    id: str
    state: str


class TrainingRunPublic(BaseModel):
    """GET /training-runs/{id}: where the run is and what it measured so far."""

    id: str
    state: str
    epoch: int | None = 0
    epochs: int | None = None
    progress: float | None = Field(
        0.0,
        description=(
            "fraction of the whole run done: every epoch of the val-blind copy and of the final fit, then "
            "evaluation and publishing"
        ),
    )
    metrics: dict[str, Any] = Field(default_factory=dict)
    version: str | None = None
    promoted: bool | None = False
    promotion: dict[str, Any] | None = Field(
        None,
        description=(
            "why it was (not) promoted: {promoted, current_version, compared: {metric: [new, current]}, decision}"
        ),
    )
    error: str | None = None
    model: str | None = None
    phase: str | None = Field(
        None, description=("loading data, val-blind copy, tuning hybrid on val, training, evaluating, publishing, done")
    )
    phase_progress: float | None = Field(None, description="fraction of the current phase done")
    eta_s: float | None = Field(None, description="seconds left, from the time per unit of work so far")
    blind_epoch: int | None = Field(None, description="epochs of the val-blind copy done (the blend's model)")


class ModelPublic(BaseModel):
    """One stored model version and its metrics."""

    version: str
    model: str | None = None
    processed_id: str | None = None
    metrics: dict[str, Any]
    created_at: str | None = None
    current: bool


class ModelList(BaseModel):
    """Model versions in storage and which one is promoted."""

    current: str | None
    current_error: str | None = Field(
        None, description="set (and current null) when models/CURRENT is corrupt: names the key and what it holds"
    )
    models: list[ModelPublic]


class Promotion(BaseModel):
    """Answer of POST /models/{version}/promote: model_version is the now-current version."""

    model_version: str
    current: str
    previous: str | None
