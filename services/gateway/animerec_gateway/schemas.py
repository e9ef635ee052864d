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

PIPELINE_RUN_EXAMPLE: dict[str, Any] = {
    "id": "3f5c2a9b1d4e7f60",
    "state": "succeeded",
    "step": None,
    "steps": [
        {"name": "ingestion", "state": "skipped"},
        {"name": "processing", "state": "skipped"},
        {
            "name": "training",
            "state": "succeeded",
            "upstream_id": "run-20261201-120000-3f5c2a",
            "progress": 1.0,
            "result": {"version": "20261201-120512", "promoted": True},
            "started_at": 1796126400.1,
            "finished_at": 1796126712.4,
        },
        {"name": "reload", "state": "succeeded", "started_at": 1796126712.5, "finished_at": 1796126713.0},
    ],
    "request": {"processed_id": "pr-20261201T115000Z-29300c", "model": "two_tower", "promote": "if_better"},
    "dataset_id": None,
    "processed_id": "pr-20261201T115000Z-29300c",
    "version": "20261201-120512",
    "promoted": True,
    "metrics": {"ndcg@10": 0.31, "recall@10": 0.24},
    "model_version": "20261201-120512",
    "error": None,
    "created_at": 1796126400.0,
    "finished_at": 1796126713.0,
}


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
    model: ModelName = Field("two_tower", description="the model to train")
    epochs: int | None = Field(None, ge=1, le=500, description="default: the model's setting")
    promote: PromotePolicy = Field(
        "if_better", description="never; if_better: when it is not worse than the current version; always"
    )

    @model_validator(mode="after")
    def _source_or_processed(self) -> TrainingRunCreate:
        if self.processed_id is not None and (self.source is not None or self.min_ratings is not None):
            raise ValueError("processed_id skips ingestion and processing: do not combine it with source/min_ratings")
        return self


class PipelineStep(BaseModel):
    """One step of an orchestrated training run."""

    name: Literal["ingestion", "processing", "training", "reload"] = Field(description="the step")
    state: Literal["pending", "running", "succeeded", "failed", "skipped"] = Field(
        "pending", description="skipped: not needed by this request (e.g. processed_id given)"
    )
    upstream_id: str | None = Field(None, description="the job or run id at the service that runs the step")
    progress: float | None = Field(None, description="fraction of the step done, as its service reports it")
    result: dict[str, Any] | None = Field(None, description="what the step answered once it ended")
    started_at: float | None = Field(None, description="when the step started (Unix seconds)")
    finished_at: float | None = Field(None, description="when the step ended (Unix seconds)")


class PipelineRun(BaseModel):
    """State of an orchestrated training run (ingestion, processing, training, reload)."""

    model_config = ConfigDict(json_schema_extra={"examples": [PIPELINE_RUN_EXAMPLE]})

    id: str = Field(description="the run's id (GET /api/v1/admin/training-runs/{run_id})")
    state: JobState = Field("queued", description="queued, running, succeeded or failed")
    step: str | None = Field(None, description="the step running now (null when none is)")
    steps: list[PipelineStep] = Field(description="ingestion, processing, training and reload, in order")
    request: TrainingRunCreate = Field(description="the request that started the run")
    dataset_id: str | None = Field(None, description="the raw dataset ingested (ingestion step)")
    processed_id: str | None = Field(None, description="the processed dataset trained on")
    version: str | None = Field(None, description="the model version training published")
    promoted: bool | None = Field(None, description="the published version was made current")
    metrics: dict[str, Any] | None = Field(None, description="the new version's evaluation metrics, by name")
    model_version: str | None = Field(None, description="the version the recommender serves after the reload")
    error: dict[str, Any] | None = Field(None, description="why the run failed: {step, code, message} (state failed)")
    created_at: float = Field(description="when the run was queued (Unix seconds)")
    finished_at: float | None = Field(None, description="when the run succeeded or failed (Unix seconds)")


class PipelineRunList(BaseModel):
    """Orchestrated training runs, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [PIPELINE_RUN_EXAMPLE]}]})

    items: list[PipelineRun] = Field(description="the runs, newest first")


class PromoteResult(BaseModel):
    """Answer of POST /api/v1/admin/models/{version}/promote."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": "20261201-120512",
                    "promoted": True,
                    "model_version": "20261201-120512",
                    "training": {
                        "model_version": "20261201-120512",
                        "current": "20261201-120512",
                        "previous": "20261130-090000",
                    },
                }
            ]
        }
    )

    version: str = Field(description="the version asked for")
    promoted: bool = Field(description="it is now the current version")
    model_version: str | None = Field(None, description="the version the recommender serves after the reload")
    training: dict[str, Any] | None = Field(None, description="the training service's answer")
