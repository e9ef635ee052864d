"""The gateway's own models: the admin API's orchestrated training runs and promotion.

Every public route documents and validates with the platform's written contract
(``animerec_shared.contracts``); only what the gateway itself answers is declared here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from animerec_shared.contracts.common import VERSION_PATTERN
from animerec_shared.contracts.ingestion import JobState
from animerec_shared.contracts.training import ModelName, PromotePolicy


class TrainingRunCreate(BaseModel):
    """Body of POST /api/v1/admin/training-runs: which steps to run and how."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"source": "sample-data", "min_ratings": 50, "model": "two_tower", "promote": "if_better"},
                {"model": "two_tower", "epochs": 3, "promote": "if_better"},
            ]
        },
    )

    source: str | None = Field(
        None,
        min_length=1,
        max_length=1024,
        description="folder to ingest first: absolute, or relative to the ingestion service's "
        "INGESTION_ALLOWED_ROOT (default the repo's var/); "
        "omitted: process the current raw dataset",
    )
    min_ratings: int | None = Field(None, ge=1, le=100_000, description="processing: minimum ratings per user")
    processed_id: str | None = Field(
        None, pattern=VERSION_PATTERN, description="train on this processed dataset and skip ingestion + processing"
    )
    model: ModelName = "two_tower"
    epochs: int | None = Field(None, ge=1, le=500)
    promote: PromotePolicy = "if_better"

    @model_validator(mode="after")
    def _source_or_processed(self) -> TrainingRunCreate:
        if self.processed_id is not None and (self.source is not None or self.min_ratings is not None):
            raise ValueError("processed_id skips ingestion and processing: do not combine it with source/min_ratings")
        return self


class PipelineStep(BaseModel):
    """One step of an orchestrated training run."""

    name: Literal["ingestion", "processing", "training", "reload"]
    state: Literal["pending", "running", "succeeded", "failed", "skipped"] = "pending"
    upstream_id: str | None = None
    progress: float | None = None
    result: dict[str, Any] | None = None
    started_at: float | None = None
    finished_at: float | None = None


class PipelineRun(BaseModel):
    """State of an orchestrated training run (ingestion, processing, training, reload)."""

    id: str
    state: JobState = "queued"
    step: str | None = None
    steps: list[PipelineStep]
    request: TrainingRunCreate
    dataset_id: str | None = None
    processed_id: str | None = None
    version: str | None = None
    promoted: bool | None = None
    metrics: dict[str, Any] | None = None
    model_version: str | None = Field(None, description="the version the recommender serves after the reload")
    error: dict[str, Any] | None = None
    created_at: float
    finished_at: float | None = None


class PipelineRunList(BaseModel):
    """Orchestrated training runs, newest first."""

    items: list[PipelineRun]


class PromoteResult(BaseModel):
    """Answer of POST /api/v1/admin/models/{version}/promote."""

    version: str
    promoted: bool
    model_version: str | None = Field(None, description="the version the recommender serves after the reload")
    training: dict[str, Any] | None = Field(None, description="the training service's answer")
