"""Settings of the ingestion service (INGESTION_* variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from animerec_shared.settings import REPO_ROOT, SERVICE_PORTS, BaseServiceSettings, service_config

DEFAULT_ALLOWED_ROOT = REPO_ROOT / "var"


class Settings(BaseServiceSettings):
    """Ingestion settings; every field reads INGESTION_<FIELD> (INGESTION_MAX_ROWS, ...)."""

    model_config = service_config("ingestion")

    port: int = SERVICE_PORTS["ingestion"]
    # Rows of the ratings file ingested at most (the seed's 5M cap); later rows are counted, not kept.
    max_rows: int = Field(5_000_000, ge=1)
    # POST /ingestions {"source": ...} may only name folders under this root (default: the repo's var/).
    allowed_root: Path = DEFAULT_ALLOWED_ROOT
    # Multipart uploads larger than this (all files together) are refused with 413.
    upload_max_bytes: int = Field(8 * 1024**3, ge=1)
    # Users need at least this many scored ratings to be kept by processing.
    min_user_ratings: int = Field(400, ge=1)
    # Seed of the per-user test/validation split.
    process_seed: int = 42
