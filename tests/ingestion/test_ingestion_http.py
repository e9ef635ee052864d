"""The ingestion HTTP API through the real app (TestClient), with real folders and storage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient
from ingestion_helpers import wait_job

from animerec_ingestion.app import create_app
from animerec_ingestion.config import Settings


def test_ingest_from_allowed_folder_then_process(client):
    r = client.post("/ingestions", json={"source": "drop"})
    assert r.status_code == 202 and r.json()["state"] in ("queued", "running", "succeeded")
    job = wait_job(client, f"/ingestions/{r.json()['id']}")
    assert job["state"] == "succeeded", job
    assert job["dataset_id"] == job["manifest"]["id"]
    current = client.get("/datasets/current").json()
    assert current == job["manifest"]

    r = client.post("/processing-runs", json={"min_ratings": 10, "raw_dataset": None})
    assert r.status_code == 202
    run = wait_job(client, f"/processing-runs/{r.json()['id']}")
    assert run["state"] == "succeeded", run
    assert run["progress"].startswith("published processed/")
    assert run["manifest"]["raw_dataset"] == job["dataset_id"] and run["manifest"]["min_user_ratings"] == 10
    assert client.get("/datasets/processed/current").json()["id"] == run["processed_id"]


@pytest.mark.parametrize("src", ["../", "drop/../..", "/etc", "drop/../../storage"])
def test_ingest_outside_allowed_root_is_400(client, src):
    r = client.post("/ingestions", json={"source": src})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "source_outside_allowed_root"


def test_ingest_through_symlink_leaving_root_is_400(client, allowed_root, tmp_path):
    os.symlink(tmp_path, allowed_root / "escape")
    r = client.post("/ingestions", json={"source": "escape"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "source_outside_allowed_root"


def test_ingest_missing_folder_and_bad_body(client):
    r = client.post("/ingestions", json={"source": "nope"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "source_not_found"
    r = client.post("/ingestions", json={"path": "drop"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = client.post("/processing-runs", json={"min_ratings": 0})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_multipart_upload_ingests(client, allowed_root):
    folder = allowed_root / "drop"
    files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(folder.iterdir())]
    r = client.post("/ingestions", files=files)
    assert r.status_code == 202, r.text
    job = wait_job(client, f"/ingestions/{r.json()['id']}")
    assert job["state"] == "succeeded", job
    assert job["manifest"]["rows_kept"] == len((folder / "animelist.csv").read_text().splitlines()) - 1


def test_multipart_bad_file_fails_job_with_location(client, allowed_root):
    folder = allowed_root / "drop"
    files = [
        ("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(folder.iterdir()) if p.name != "animelist.csv"
    ]
    files.append(("files", ("animelist.csv", b"user_id,anime_id,rating\n1,2,3\n1,3,x\n", "text/csv")))
    job = wait_job(client, f"/ingestions/{client.post('/ingestions', files=files).json()['id']}")
    assert job["state"] == "failed"
    assert job["error"]["code"] == "invalid_data"
    assert job["error"]["details"] == {
        "file": "animelist.csv",
        "line": 3,
        "column": "rating",
        "expected": "an integer rating 0-10 (0 = not scored)",
        "found": "x",
    }
    assert client.get("/datasets/current").status_code == 404


def test_multipart_unexpected_name_is_400(client):
    r = client.post("/ingestions", files=[("files", ("../../evil.sh", b"x", "text/plain"))])
    assert r.status_code == 400 and r.json()["error"]["code"] == "unexpected_file"


def test_upload_over_the_size_limit_is_413(tmp_path, allowed_root):
    settings = Settings(
        storage_url=(tmp_path / "st413").as_uri(), allowed_root=allowed_root, upload_max_bytes=1000, log_json=False
    )
    with TestClient(create_app(settings)) as small:
        r = small.post("/ingestions", files=[("files", ("anime.csv", b"x" * 5000, "text/csv"))])
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
        assert small.get("/datasets/current").status_code == 404


def test_second_job_while_busy_is_409(client):
    gate = threading.Event()
    runner = client.app.state.jobs
    blocker = runner.submit("processing", lambda say: (say("waiting"), gate.wait(30), {})[2])
    try:
        r = client.post("/ingestions", json={"source": "drop"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "job_in_progress"
        r = client.post("/ingestions", files=[("files", ("anime.csv", b"x", "text/csv"))])
        assert r.status_code == 409
        assert client.get(f"/processing-runs/{blocker.id}").json()["progress"] == "waiting"
    finally:
        gate.set()
    assert wait_job(client, f"/processing-runs/{blocker.id}")["state"] == "succeeded"


def test_unknown_jobs_and_empty_storage_are_404(client):
    assert client.get("/ingestions/nope").json()["error"]["code"] == "ingestion_not_found"
    r = client.post("/processing-runs", json={})
    assert r.status_code == 404 and r.json()["error"]["code"] == "raw_dataset_not_found"
    r = client.post("/processing-runs", json={"raw_dataset": "ds-missing"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "raw_dataset_not_found"
    r = client.post("/ingestions", json={"source": "a\u0000b"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "source_not_found"
    assert client.get("/processing-runs/nope").status_code == 404
    r = client.get("/datasets/current")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_current_raw_dataset"


def test_health_ready_and_docs(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["raw_dataset"] is None
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/ingestions", "/ingestions/{ingestion_id}", "/datasets/current", "/processing-runs"} <= set(paths)


def test_cli_ingest_and_process_print_manifest_last(real_source, tmp_path):
    env = {**os.environ, "STORAGE_URL": (tmp_path / "cli-storage").as_uri()}
    animerec = [sys.executable, "-m", "animerec_shared.cli"]
    out = subprocess.run(
        [*animerec, "ingest", "--source", str(real_source), "--max-rows", "50000", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    assert (raw["rows_kept"], raw["rows_read"], raw["capped"]) == (50_000, 99_999, True)
    assert "[animerec]" in out.stderr
    out = subprocess.run(
        [*animerec, "process", "--min-ratings", "50", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    manifest = json.loads(out.stdout.strip().splitlines()[-1])
    assert manifest["raw_dataset"] == raw["id"] and manifest["min_user_ratings"] == 50
    bad = subprocess.run(
        [*animerec, "ingest", "--source", str(tmp_path / "missing")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "source_not_found" in bad.stderr


def test_ingest_source_name_too_long_is_400(client):
    r = client.post("/ingestions", json={"source": "0" * 4000})
    assert r.status_code == 400 and r.json()["error"]["code"] == "source_not_found"
