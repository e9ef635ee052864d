"""Settings of the ingestion service (one env var per field)."""

from __future__ import annotations

from pathlib import Path

from animerec_shared.settings import REPO_ROOT, BaseServiceSettings
from pydantic import Field

DEFAULT_ALLOWED_ROOT = REPO_ROOT / "var"


class Settings(BaseServiceSettings):
    """Ingestion settings; every field reads the env var of the same name in upper case."""

    # Rows of the ratings file ingested at most (the seed's 5M cap); later rows are counted, not kept.
    ingest_max_rows: int = Field(5_000_000, ge=1)
    # POST /ingestions {"source": ...} may only name folders under this root (default: the repo's var/).
    ingest_allowed_root: Path = DEFAULT_ALLOWED_ROOT
    # Multipart uploads larger than this (all files together) are refused with 413.
    ingest_upload_max_bytes: int = Field(8 * 1024**3, ge=1)
    # Users need at least this many scored ratings to be kept by processing.
    min_user_ratings: int = Field(400, ge=1)
    # Seed of the per-user test/validation split.
    process_seed: int = 42
