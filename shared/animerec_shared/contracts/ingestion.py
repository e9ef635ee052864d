"""The ingestion service's API: ingestion jobs and processing runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobState = Literal["queued", "running", "succeeded", "failed"]


class IngestionCreate(BaseModel):
    """Ingest the Kaggle files of a folder under the allowed root (relative paths start there)."""

    source: str = Field(min_length=1, max_length=4096, examples=["sample-data"])


class JobAccepted(BaseModel):
    """A job was queued; poll its URL for the outcome."""

    id: str
    state: JobState


class JobError(BaseModel):
    """Why a job failed, in the error body's terms."""

    code: str
    message: str
    details: Any = None


class JobPublic(BaseModel):
    """A job's state, and its manifest once it succeeded."""

    id: str
    state: JobState
    manifest: dict[str, Any] | None = None
    error: JobError | None = None
    progress: str | None = Field(None, description="latest progress line while running")
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None


class IngestionPublic(JobPublic):
    """An ingestion job; ``dataset_id`` and ``manifest`` are set once it succeeded."""

    dataset_id: str | None = None


class ProcessingRunCreate(BaseModel):
    """Process a raw dataset (default: raw/CURRENT) into a processed dataset."""

    min_ratings: int | None = Field(None, ge=1, le=1_000_000, description="default: the service's setting (400)")
    raw_dataset: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="default: the service's setting (42)")


class ProcessingRunPublic(JobPublic):
    """A processing run; ``processed_id`` and ``manifest`` are set once it succeeded."""

    processed_id: str | None = None
