"""The ingestion service's API: ingestion jobs and processing runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobState = Literal["queued", "running", "succeeded", "failed"]

# The manifests GET /datasets/current and /datasets/processed/current answer (shortened)
RAW_MANIFEST_EXAMPLE: dict[str, Any] = {
    "id": "ds-20261201T191406Z-98c9ee",
    "format": "animerec-raw/1",
    "created_at": "2026-12-01T19:14:07.079389+00:00",
    "ratings_source": "animelist.csv",
    "ratings_kind": "animelist",
    "rows_read": 87674,
    "rows_kept": 87674,
    "capped": False,
    "files": {"anime.csv": {"source": "anime.csv", "rows": 17562, "sha256": "50e56a16...", "bytes": 5658315}},
    "duration_s": 0.269,
}
PROCESSED_MANIFEST_EXAMPLE: dict[str, Any] = {
    "id": "pr-20261201T191409Z-3bcc0d",
    "raw_dataset": "ds-20261201T191406Z-98c9ee",
    "created_at": "2026-12-01T19:14:09.623681+00:00",
    "users": 240,
    "anime": 6080,
    "ratings": 42263,
    "train_ratings": 30429,
    "val_ratings": 3385,
    "test_ratings": 8449,
    "min_user_ratings": 50,
    "seed": 42,
    "duration_s": 0.399,
}


class IngestionCreate(BaseModel):
    """Ingest the Kaggle files of a folder under the allowed root (relative paths start there)."""

    source: str = Field(min_length=1, max_length=4096, examples=["sample-data"])


class JobAccepted(BaseModel):
    """A job was queued; poll its URL for the outcome."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "ing-20261201T191406Z-5d1f0a", "state": "queued"}]}
    )

    id: str = Field(description="the job's id (poll GET /ingestions/{id} or /processing-runs/{id})")
    state: JobState = Field(description="queued when accepted")


class JobError(BaseModel):
    """Why a job failed, in the error body's terms."""

    code: str = Field(description="stable machine-readable error code")
    message: str = Field(description="for people; may change between releases")
    details: Any = Field(None, description="structured context, when there is any")


class JobPublic(BaseModel):
    """A job's state, and its manifest once it succeeded."""

    id: str = Field(description="the job's id")
    state: JobState = Field(description="queued, running, succeeded or failed")
    manifest: dict[str, Any] | None = Field(None, description="the dataset's manifest (once succeeded)")
    error: JobError | None = Field(None, description="why it failed (state failed)")
    progress: str | None = Field(None, description="latest progress line while running")
    created_at: float = Field(description="when it was queued (Unix seconds)")
    started_at: float | None = Field(None, description="when it started running (Unix seconds)")
    finished_at: float | None = Field(None, description="when it succeeded or failed (Unix seconds)")


class IngestionPublic(JobPublic):
    """An ingestion job; ``dataset_id`` and ``manifest`` are set once it succeeded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ing-20261201T191406Z-5d1f0a",
                    "state": "succeeded",
                    "manifest": RAW_MANIFEST_EXAMPLE,
                    "error": None,
                    "progress": None,
                    "created_at": 1796126046.8,
                    "started_at": 1796126046.9,
                    "finished_at": 1796126047.2,
                    "dataset_id": RAW_MANIFEST_EXAMPLE["id"],
                }
            ]
        }
    )

    dataset_id: str | None = Field(None, description="the raw dataset it wrote (once succeeded)")


class ProcessingRunCreate(BaseModel):
    """Process a raw dataset (default: raw/CURRENT) into a processed dataset."""

    min_ratings: int | None = Field(None, ge=1, le=1_000_000, description="default: the service's setting (400)")
    raw_dataset: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="default: the service's setting (42)")


class ProcessingRunPublic(JobPublic):
    """A processing run; ``processed_id`` and ``manifest`` are set once it succeeded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "proc-20261201T191409Z-8b2c7e",
                    "state": "succeeded",
                    "manifest": PROCESSED_MANIFEST_EXAMPLE,
                    "error": None,
                    "progress": None,
                    "created_at": 1796126049.1,
                    "started_at": 1796126049.2,
                    "finished_at": 1796126049.6,
                    "processed_id": PROCESSED_MANIFEST_EXAMPLE["id"],
                }
            ]
        }
    )

    processed_id: str | None = Field(None, description="the processed dataset it wrote (once succeeded)")
