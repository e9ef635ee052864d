"""Promotion never moves models/CURRENT to a broken version, and a corrupt CURRENT is named and repairable (#16)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from animerec_ranking.model_versions import InvalidModelVersion
from animerec_shared.errors import StorageError
from animerec_shared.storage import MARKER, FileStorage


def _version(storage, version: str) -> None:
    from animerec_training.versions import write_version

    rng = np.random.default_rng(0)
    u, a = rng.normal(size=(30, 128)).astype(np.float32), rng.normal(size=(24, 128)).astype(np.float32)
    write_version(
        storage,
        version,
        user_embeddings=u / np.linalg.norm(u, axis=1, keepdims=True),
        anime_embeddings=a / np.linalg.norm(a, axis=1, keepdims=True),
        user_ids=np.arange(1000, 1030),
        anime_ids=np.arange(1, 25) * 10,
        metrics={"ndcg@10": 0.01},
        config={"model": "two_tower", "processed_id": "p1"},
        history={"loss": [1.0]},
        save_model=lambda p: p.write_bytes(b"placeholder"),
    )


def _truncate(storage, key: str) -> None:
    data = storage.read_bytes(key)
    path = storage.local_path(key)
    path.chmod(0o644)
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture
def storage(tmp_path) -> FileStorage:
    storage = FileStorage(tmp_path / "storage")
    _version(storage, "v1")
    _version(storage, "v2")
    storage.set_current("models", "v1")
    return storage


@pytest.fixture
def client(storage, tmp_path):
    from animerec_training.app import create_app
    from animerec_training.config import Settings

    app = create_app(Settings(storage_url=storage.url, runs_dir=str(tmp_path / "runs")))
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("name", ["user_embeddings.npy", "anime_ids.npy", "config.json"])
def test_promote_of_a_truncated_version_is_refused_before_current_moves(storage, name):
    """Failed on the old code: promote only checked the marker, so CURRENT named the broken v2."""
    from animerec_training.versions import promote

    _truncate(storage, f"models/v2/{name}")
    with pytest.raises(InvalidModelVersion) as exc:
        promote(storage, "v2")
    assert "v2" in exc.value.message
    assert storage.get_current("models") == "v1"


def test_promote_of_a_version_with_an_unreadable_marker_is_refused(storage):
    from animerec_training.versions import promote

    storage.local_path(f"models/v2/{MARKER}").write_text("{half")
    with pytest.raises(InvalidModelVersion):
        promote(storage, "v2")
    assert storage.get_current("models") == "v1"


def test_promote_route_answers_422_and_keeps_current_for_a_truncated_version(storage, client):
    """Failed on the old code: 200 and CURRENT = v2."""
    _truncate(storage, "models/v2/user_embeddings.npy")
    r = client.post("/models/v2/promote")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_model_version", r.text
    assert "user_embeddings" in r.json()["error"]["message"] or "v2" in r.json()["error"]["message"]
    assert storage.get_current("models") == "v1"
    assert client.get("/models").json()["current"] == "v1"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'{"no_id": 1}', b'{"id": 7}', b"\xff\xfe" + b"x" * 500])
def test_corrupt_pointer_is_a_named_storage_error(storage, raw):
    """Failed on the old code: a bare JSONDecodeError / AttributeError naming no key."""
    from animerec_shared.storage import CorruptPointer

    storage.write_bytes("models/CURRENT", raw)
    with pytest.raises(CorruptPointer) as exc:
        storage.get_current("models")
    assert isinstance(exc.value, StorageError) and exc.value.code == "corrupt_pointer"
    assert "models/CURRENT" in exc.value.message
    assert exc.value.details is not None and exc.value.details["key"] == "models/CURRENT"
    assert len(exc.value.details["found"]) <= 120 and len(exc.value.message) < 400


def test_models_listing_answers_current_null_and_names_the_corrupt_pointer(storage, client):
    """Failed on the old code: 500 internal error."""
    storage.write_bytes("models/CURRENT", b"{garbage")
    r = client.get("/models")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["current"] is None and "models/CURRENT" in body["current_error"]
    assert {m["version"] for m in body["models"]} == {"v1", "v2"} and not any(m["current"] for m in body["models"])
    assert client.get("/readyz").status_code == 200  # promotion, the repair, must stay reachable


def test_promote_overwrites_a_corrupt_pointer(storage, client):
    """Failed on the old code: 500 (promote read the previous pointer first)."""
    storage.write_bytes("models/CURRENT", b"{garbage")
    r = client.post("/models/v2/promote")
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == "v2" and r.json()["previous"] is None
    assert storage.get_current("models") == "v2"
    assert client.get("/models").json()["current_error"] is None


def test_if_better_run_fails_fast_on_a_corrupt_pointer_before_training(storage, tmp_path, monkeypatch):
    """Failed on the old code: the run loaded the data and trained, then died on JSONDecodeError."""
    from animerec_shared.storage import CorruptPointer
    from animerec_training import runner
    from animerec_training.config import Settings

    storage.write_bytes("models/CURRENT", b"{garbage")

    def no_data(*_a, **_k):
        raise AssertionError("the run loaded the dataset despite the corrupt pointer")

    monkeypatch.setattr(runner, "load_dataset", no_data)
    with pytest.raises(CorruptPointer) as exc:
        runner.run_training(Settings(storage_url=storage.url, runs_dir=str(tmp_path / "runs")), promote="if_better")
    assert "models/CURRENT" in exc.value.message and "promoting a version" in exc.value.message
