"""Drill (#16): a promotion that fails leaves models/CURRENT, the served model and a restarted recommender alone.

Two broken versions are promoted through the gateway against the live stack:
- one with user_embeddings.npy truncated: the training service's validation refuses it (422) before the
  pointer moves;
- one that is complete but names a processed dataset that does not exist: it passes the training
  service's file checks, the recommender refuses it at /admin/reload (422), and the gateway puts the
  previous version back as current.
Each time: 422 invalid_model_version, CURRENT unchanged, the recommender keeps serving the old
version, and after a restart it loads and serves the old version again.

Then a corrupt models/CURRENT: /api/v1/models names it (current null), a restarted recommender's
error names the key, and promoting a good version through the gateway repairs it.
"""

from __future__ import annotations

import json

import httpx
import pytest

from animerec_shared.storage import CorruptPointer, FileStorage, open_storage
from benchmarks import stack as st

AUTH = {"Authorization": f"Bearer {st.ADMIN_TOKEN}"}


def _truncate_user_embeddings(storage: FileStorage, version: str) -> None:
    path = storage.local_path(f"models/{version}/user_embeddings.npy")
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[: len(data) // 2])


def _point_at_missing_dataset(storage: FileStorage, version: str) -> None:
    path = storage.local_path(f"models/{version}/config.json")
    config = json.loads(path.read_text())
    path.chmod(0o644)
    path.write_text(json.dumps({**config, "processed_id": "p-does-not-exist-0000"}))


def _served(stack: st.Stack, client: httpx.Client, anime_id: int) -> tuple[str | None, str]:
    """Returns (the recommender's readiness model_version, the model_version of a gateway answer)."""
    ready = stack.ready("recommender") or {}
    r = client.get(f"/api/v1/anime/{anime_id}/similar", params={"n": 5})
    assert r.status_code == 200, r.text
    return ready.get("model_version"), r.json()["model_version"]


@pytest.mark.parametrize(
    ("breakage", "refused_by"),
    [(_truncate_user_embeddings, "training"), (_point_at_missing_dataset, "recommender")],
    ids=["truncated-file", "refused-by-recommender"],
)
def test_failed_promotion_keeps_current_and_the_served_version_across_a_restart(
    healthy_stack, world, breakage, refused_by
):
    storage = open_storage(world.storage_url)
    assert isinstance(storage, FileStorage)
    before = storage.get_current("models")
    assert before
    bad = st.publish_numpy_model(world.storage_url, world.processed_id, dim=16, promote=False)
    try:
        breakage(storage, bad)
        with httpx.Client(base_url=healthy_stack.url("gateway"), timeout=60) as client:
            assert _served(healthy_stack, client, world.anime_ids[0]) == (before, before)

            r = client.post(f"/api/v1/admin/models/{bad}/promote", headers=AUTH)
            assert r.status_code == 422, r.text
            error = r.json()["error"]
            assert error["code"] == "invalid_model_version" and bad in error["message"]
            if refused_by == "recommender":
                assert (error.get("details") or {}).get("restored") == before
            assert storage.get_current("models") == before, "a refused promotion moved models/CURRENT"
            assert client.get("/api/v1/models").json()["current"] == before
            assert _served(healthy_stack, client, world.anime_ids[0]) == (before, before)

            healthy_stack.restart("recommender")
            healthy_stack.wait_ready(180, "recommender")
            healthy_stack.wait_ready(60)
            assert storage.get_current("models") == before
            assert _served(healthy_stack, client, world.anime_ids[1]) == (before, before)
    finally:
        storage.delete_prefix(f"models/{bad}")  # other drills check every published version loads


def test_corrupt_current_is_named_and_repaired_by_promoting(healthy_stack, world):
    """Invalid JSON in models/CURRENT: named in /api/v1/models and the restarted recommender; promote repairs it."""
    storage = open_storage(world.storage_url)
    before = storage.get_current("models")
    assert before
    storage.write_bytes("models/CURRENT", b'{"id": "v-half-written')
    try:
        with httpx.Client(base_url=healthy_stack.url("gateway"), timeout=60) as client:
            listing = client.get("/api/v1/models")
            assert listing.status_code == 200, listing.text
            assert listing.json()["current"] is None and "models/CURRENT" in listing.json()["current_error"]

            healthy_stack.restart("recommender")
            healthy_stack.wait_ready(60, "recommender", "/healthz")
            r = client.get(f"/api/v1/anime/{world.anime_ids[0]}/similar")
            assert r.status_code == 503, r.text
            err = httpx.get(f"{healthy_stack.url('recommender')}/readyz", timeout=5).json().get("last_error") or ""
            assert "models/CURRENT" in err and "v-half-written" in err

            r = client.post(f"/api/v1/admin/models/{before}/promote", headers=AUTH)
            assert r.status_code == 200, r.text
            assert r.json()["model_version"] == before
            assert storage.get_current("models") == before
            assert client.get("/api/v1/models").json()["current_error"] is None
            assert _served(healthy_stack, client, world.anime_ids[0]) == (before, before)
    finally:
        try:
            storage.get_current("models")
        except CorruptPointer:  # the drill failed half-way: leave the stack with a good pointer
            storage.set_current("models", before)
