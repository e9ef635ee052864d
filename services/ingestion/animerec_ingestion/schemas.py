"""Request and response bodies of the ingestion service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobState = Literal["queued", "running", "succeeded", "failed"]


class IngestionCreate(BaseModel):
    """Ingest the Kaggle files of a folder under INGESTION_ALLOWED_ROOT (relative paths start there)."""

    source: str = Field(min_length=1, max_length=4096, examples=["sample-data"])


class JobAccepted(BaseModel):
    """A job was queued; poll its URL for the outcome."""

    id: str
    state: JobState


class JobError(BaseModel):
    code: str
    message: str
    details: Any = None


class _JobPublic(BaseModel):
    id: str
    state: JobState
    manifest: dict[str, Any] | None = None
    error: JobError | None = None
    progress: str | None = Field(None, description="latest progress line while running")
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None


class IngestionPublic(_JobPublic):
    """An ingestion job; ``dataset_id`` and ``manifest`` are set once it succeeded."""

    dataset_id: str | None = None


class ProcessingRunCreate(BaseModel):
    """Process a raw dataset (default: raw/CURRENT) into a processed dataset."""

    min_ratings: int | None = Field(None, ge=1, le=1_000_000, description="default INGESTION_MIN_USER_RATINGS (400)")
    raw_dataset: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="default INGESTION_PROCESS_SEED (42)")


class ProcessingRunPublic(_JobPublic):
    """A processing run; ``processed_id`` and ``manifest`` are set once it succeeded."""

    processed_id: str | None = None
