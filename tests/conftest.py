"""Session fixtures: real Redis, a real GCS emulator on loopback, real folders."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from animerec_shared.launcher import free_port, wait_port

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "mal2020"


@pytest.fixture(scope="session")
def gcs_emulator():
    """Starts gcp-storage-emulator (in-memory) and yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--in-memory",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def gcs_storage(gcs_emulator, monkeypatch, tmp_path):
    """A GCSStorage on a fresh bucket of the emulator, through the real google-cloud-storage client."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator)
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs

    from animerec_shared.storage import GCSStorage

    client = gcs.Client(project="test", credentials=AnonymousCredentials())
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(bucket)
    return GCSStorage(bucket, "animerec", client=client, cache_dir=tmp_path / "gcs-cache")


@pytest.fixture
def file_storage(tmp_path):
    from animerec_shared.storage import FileStorage

    return FileStorage(tmp_path / "storage")


@pytest.fixture(params=["file", "gcs"])
def any_storage(request):
    """Runs a test once per storage backend."""
    return request.getfixturevalue(f"{request.param}_storage")


@pytest.fixture(scope="session")
def redis_url():
    """The real local Redis (started by .ci/run when it is down); its own db index for tests."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except Exception as exc:  # the test environment promises Redis; say so loudly
        pytest.fail(f"Redis is required at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real MyAnimeList files beside the repo (../shared/data/mal2020)."""
    if not (REAL_DATA / "anime.csv").exists():
        pytest.skip(f"real data not found at {REAL_DATA}")
    return REAL_DATA
