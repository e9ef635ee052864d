"""The training service's API: training runs, model versions and promotion."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import VERSION_PATTERN

ModelName = Literal["two_tower", "seed"]
PromotePolicy = Literal["never", "if_better", "always"]


class TrainingRunCreate(BaseModel):
    """Body of POST /training-runs."""

    model: ModelName = Field("two_tower", description="the model to train")
    epochs: int | None = Field(default=None, ge=1, le=500, description="default: the model's setting")
    processed_id: str | None = Field(default=None, pattern=VERSION_PATTERN, description="default: processed/CURRENT")
    promote: PromotePolicy = Field(
        "if_better",
        description="never; if_better: when neither served blend's NDCG@10 on the test holdout is worse; always",
    )


class TrainingRunCreated(BaseModel):
    """A queued training run; poll GET /training-runs/{id}."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "run-20261201-120000-3f5c2a", "state": "queued"}]})

    id: str = Field(description="the run's id (poll GET /training-runs/{id})")
    state: str = Field(description="queued, running, succeeded or failed")


class TrainingRunPublic(BaseModel):
    """GET /training-runs/{id}: where the run is and what it measured so far."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "run-20261201-120000-3f5c2a",
                    "state": "succeeded",
                    "epoch": 20,
                    "epochs": 20,
                    "progress": 1.0,
                    "metrics": {"ndcg@10": 0.31, "recall@10": 0.24},
                    "version": "20261201-120512",
                    "promoted": True,
                    "promotion": {
                        "promoted": True,
                        "current_version": "20261130-090000",
                        "compared": {"hybrid ndcg@10": [0.31, 0.29]},
                        "decision": "promoted: hybrid ndcg@10 not worse than the current version's",
                    },
                    "error": None,
                    "model": "two_tower",
                    "phase": "done",
                    "phase_progress": 1.0,
                    "eta_s": 0.0,
                    "blind_epoch": 20,
                }
            ]
        }
    )

    id: str = Field(description="the run's id")
    state: str = Field(description="queued, running, succeeded or failed")
    epoch: int | None = Field(0, description="epochs of the final fit done")
    epochs: int | None = Field(None, description="epochs the final fit runs")
    progress: float | None = Field(
        0.0,
        description=(
            "fraction of the whole run done: every epoch of the val-blind copy and of the final fit, then "
            "evaluation and publishing"
        ),
    )
    metrics: dict[str, Any] = Field(default_factory=dict, description="evaluation metrics so far, by name")
    version: str | None = Field(None, description="the model version it published (once published)")
    promoted: bool | None = Field(False, description="the published version was made current")
    promotion: dict[str, Any] | None = Field(
        None,
        description=(
            "why it was (not) promoted: {promoted, current_version, compared: {metric: [new, current]}, decision}"
        ),
    )
    error: str | None = Field(None, description="why the run failed (state failed)")
    model: str | None = Field(None, description="the model trained")
    phase: str | None = Field(
        None, description=("loading data, val-blind copy, tuning hybrid on val, training, evaluating, publishing, done")
    )
    phase_progress: float | None = Field(None, description="fraction of the current phase done")
    eta_s: float | None = Field(None, description="seconds left, from the time per unit of work so far")
    blind_epoch: int | None = Field(None, description="epochs of the val-blind copy done (the blend's model)")


class ModelPublic(BaseModel):
    """One stored model version and its metrics."""

    version: str = Field(description="the model version")
    model: str | None = Field(None, description="the model trained (two_tower, seed)")
    processed_id: str | None = Field(None, description="the processed dataset it was trained on")
    metrics: dict[str, Any] = Field(description="its evaluation metrics, by name")
    created_at: str | None = Field(None, description="when it was published (ISO 8601)")
    current: bool = Field(description="it is the promoted version (models/CURRENT)")


class ModelList(BaseModel):
    """Model versions in storage and which one is promoted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current": "20261201-120512",
                    "models": [
                        {
                            "version": "20261201-120512",
                            "model": "two_tower",
                            "processed_id": "pr-20261201T115000Z-29300c",
                            "metrics": {"ndcg@10": 0.31, "recall@10": 0.24},
                            "created_at": "2026-12-01T12:05:12+00:00",
                            "current": True,
                        }
                    ],
                }
            ]
        }
    )

    current: str | None = Field(description="the promoted version (null when none is, or models/CURRENT is corrupt)")
    current_error: str | None = Field(
        None, description="set (and current null) when models/CURRENT is corrupt: names the key and what it holds"
    )
    models: list[ModelPublic] = Field(description="the stored versions")


class Promotion(BaseModel):
    """Answer of POST /models/{version}/promote: model_version is the now-current version."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"model_version": "20261201-120512", "current": "20261201-120512", "previous": "20261130-090000"}
            ]
        }
    )

    model_version: str = Field(description="the now-current version")
    current: str = Field(description="the now-current version (models/CURRENT)")
    previous: str | None = Field(description="the version current before (null when none was)")
