"""The training API over real HTTP on loopback, with real training child processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
import processed_fixture
import pytest

from animerec_shared.launcher import free_port
from animerec_shared.storage import FileStorage


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def _old_version(storage: FileStorage, version: str) -> None:
    """Publishes a tiny but complete version (numpy only) and makes it current."""
    from animerec_training.versions import promote, write_version

    rng = np.random.default_rng(0)
    u, a = rng.normal(size=(300, 128)).astype(np.float32), rng.normal(size=(240, 128)).astype(np.float32)
    write_version(
        storage,
        version,
        user_embeddings=u / np.linalg.norm(u, axis=1, keepdims=True),
        anime_embeddings=a / np.linalg.norm(a, axis=1, keepdims=True),
        user_ids=np.arange(1000, 1300),
        anime_ids=np.arange(1, 241) * 10,
        metrics={"ndcg@10": 0.01, "recall@10": 0.01, "hr@10": 0.1},
        config={"model": "two_tower"},
        history={"loss": [1.0]},
        save_model=lambda p: p.write_bytes(b"placeholder"),
    )
    promote(storage, version)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A training service on a free port over file storage holding a planted dataset and one version."""
    root = tmp_path_factory.mktemp("training-api")
    storage = FileStorage(root / "storage")
    folder, _ = processed_fixture.planted_processed(root / "planted")
    processed_fixture.publish_processed(storage, folder)
    _old_version(storage, "v00000000-000000-old0")
    port = free_port()
    env = {
        **os.environ,
        "STORAGE_URL": storage.url,
        "TRAINING_RUNS_DIR": str(root / "runs"),
        "TRAINING_THREADS": "2",
        "LOG_JSON": "false",
    }
    env.pop("COMET_API_KEY", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "animerec_training.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=90)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield {"client": client, "storage": storage, "runs": root / "runs"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait(client: httpx.Client, run_id: str, until, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/training-runs/{run_id}").json()
        if until(body):
            return body
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not get there in {timeout}s: {body}")


def test_killed_training_process_leaves_no_version_and_current_unchanged_when_sigkilled_mid_run(service):
    client, storage = service["client"], service["storage"]
    before = storage.list_published("models")
    r = client.post("/training-runs", json={"model": "two_tower", "epochs": 200, "promote": "always"})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]

    second = client.post("/training-runs", json={"model": "seed"})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "training_in_progress"

    # killed while the val-blind copy trains (up to 200 epochs, early-stopped): always mid-run
    body = _wait(client, run_id, lambda b: (b.get("blind_epoch") or 0) >= 1)
    assert body["state"] == "running" and body["epochs"] == 200 and body["epoch"] == 0
    assert 0 < body["progress"] < 1 and "val_ndcg@10" in body["metrics"] and "loss" in body["metrics"]
    assert body["phase"] == "val-blind copy" and 0 < body["phase_progress"] <= 1 and body["eta_s"] > 0
    assert client.get("/healthz").status_code == 200  # the API answers while the child trains

    status = json.loads((service["runs"] / f"{run_id}.json").read_text())
    os.kill(status["pid"], signal.SIGKILL)
    body = _wait(client, run_id, lambda b: b["state"] == "failed", timeout=30)
    assert "exited" in body["error"] and body["version"] is None
    assert storage.list_published("models") == before
    assert storage.get_current("models") == "v00000000-000000-old0"
    listing = client.get("/models").json()
    assert [m["version"] for m in listing["models"]] == before and listing["current"] == "v00000000-000000-old0"


def test_training_run_succeeds_and_promotes_when_better_than_current(service):
    client, storage = service["client"], service["storage"]
    r = client.post("/training-runs", json={"epochs": 3, "promote": "if_better"})
    assert r.status_code == 202, r.text  # the killed run released the lock
    body = _wait(client, r.json()["id"], lambda b: b["state"] in ("succeeded", "failed"))
    assert body["state"] == "succeeded", body
    assert body["epoch"] == 2 and body["progress"] == 1.0 and body["promoted"] is True  # final fit: 2 epochs
    assert body["phase"] == "done" and body["eta_s"] == 0.0
    version = body["version"]
    assert storage.get_current("models") == version
    listing = client.get("/models").json()
    assert listing["current"] == version and listing["models"][0]["version"] == version
    assert listing["models"][0]["current"] is True and listing["models"][0]["metrics"]["ndcg@10"] > 0.01


def test_promote_rolls_back_and_unknown_version_is_404_model_not_found(service):
    client, storage = service["client"], service["storage"]
    r = client.post("/models/v00000000-000000-old0/promote")
    assert r.status_code == 200 and r.json()["model_version"] == "v00000000-000000-old0"
    assert storage.get_current("models") == "v00000000-000000-old0"
    missing = client.post("/models/v-does-not-exist/promote")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert storage.get_current("models") == "v00000000-000000-old0"
    assert client.get("/training-runs/run-nope").json()["error"]["code"] == "training_run_not_found"
    bad = client.post("/training-runs", json={"model": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"


def test_run_ids_with_nul_or_odd_characters_are_404_in_the_error_schema(service):
    client = service["client"]
    for run_id in ("%00", "run-%00x", "a%5Cb", "%20", "..%5C..", "x" * 300):
        r = client.get(f"/training-runs/{run_id}")
        assert r.status_code == 404, (run_id, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "training_run_not_found"
