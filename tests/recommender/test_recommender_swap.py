"""Model hot-swap: zero failed requests under concurrent load; a corrupt version is refused."""

from __future__ import annotations

import json
import threading
import time

import httpx
import numpy as np
import recommender_fixtures as rf
from recommender_live import LiveServer, make_settings


def test_version_swap_under_concurrent_requests_has_zero_errors(tmp_path):
    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path / "storage")
    pid, v1 = rf.publish_planted(storage, version="v-swap-1")
    app = create_app(make_settings(storage.root, None, poll_interval_seconds=0.3, tune=False))
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def hammer(i: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            k = 0
            while not stop.is_set():
                k += 1
                paths = [
                    f"/users/{(i * 7 + k) % 200}/recommendations",
                    f"/anime/{1 + (i + k) % 80}/similar",
                    f"/users/{k % 200}/similar",
                ]
                r = c.get(paths[k % 3], params={"n": 5 + k % 3})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.add(r.json()["model_version"])

    with LiveServer(app) as server:
        assert server.wait_ready()["model_version"] == "v-swap-1"
        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        rf.publish_svd_model(storage, pid, "v-swap-2", seed=3)  # promotion: poller picks it up
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and app.state.holder.state.version != "v-swap-2":
            time.sleep(0.1)
        rf.publish_svd_model(storage, pid, "v-swap-3", seed=5, promote=False)
        r = httpx.post(f"{server.url}/admin/reload", json={"version": "v-swap-3"}, timeout=60)  # explicit reload
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
    assert r.status_code == 200 and r.json() == {"model_version": "v-swap-3", "previous": "v-swap-2"}
    assert len(statuses) > 50 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert {"v-swap-1", "v-swap-2", "v-swap-3"} <= versions


def test_corrupt_or_incomplete_version_is_refused_old_keeps_serving(tmp_path):
    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path / "storage")
    pid, v1 = rf.publish_planted(storage, version="v-good")
    with storage.publish("models/v-incomplete") as d:  # no embeddings at all
        (d / "config.json").write_text(json.dumps({"processed_id": pid}))
    with storage.publish("models/v-corrupt") as d:
        for name in ("user_embeddings.npy", "anime_embeddings.npy"):
            (d / name).write_bytes(b"\x93NUMPY garbage")
        np.save(d / "user_ids.npy", np.arange(3))
        np.save(d / "anime_ids.npy", np.arange(3))
        (d / "metrics.json").write_text("{}")
        (d / "config.json").write_text(json.dumps({"processed_id": pid}))
    with storage.publish("models/v-mismatch") as d:  # well-formed arrays of the wrong size
        np.save(d / "user_embeddings.npy", np.eye(4, 8, dtype=np.float32))
        np.save(d / "anime_embeddings.npy", np.eye(4, 8, dtype=np.float32))
        np.save(d / "user_ids.npy", np.arange(4))
        np.save(d / "anime_ids.npy", np.arange(4))
        (d / "metrics.json").write_text("{}")
        (d / "config.json").write_text(json.dumps({"processed_id": pid}))
    app = create_app(make_settings(storage.root, None, tune=False))
    with LiveServer(app) as server:
        server.wait_ready()
        for bad in ("v-incomplete", "v-corrupt", "v-mismatch"):
            r = httpx.post(f"{server.url}/admin/reload", json={"version": bad}, timeout=60)
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_model_version", r.text
            ok = httpx.get(f"{server.url}/anime/5/similar")
            assert ok.status_code == 200 and ok.json()["model_version"] == "v-good"
        storage.set_current("models", "v-corrupt")  # promoted by mistake: still refused
        r = httpx.post(f"{server.url}/admin/reload", timeout=60)
        assert r.status_code == 422
        assert httpx.get(f"{server.url}/users/1/recommendations").json()["model_version"] == "v-good"


def test_not_ready_answer_keeps_the_load_error_out_of_the_body(tmp_path):
    """The 503 before any version loaded says so in a stable message; why the load failed is logged and on /readyz."""
    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path / "storage")
    pid, _ = rf.publish_planted(storage, version="v-good")
    with storage.publish("models/v-corrupt") as d:
        for name in ("user_embeddings.npy", "anime_embeddings.npy"):
            (d / name).write_bytes(b"\x93NUMPY garbage")
        np.save(d / "user_ids.npy", np.arange(3))
        np.save(d / "anime_ids.npy", np.arange(3))
        (d / "metrics.json").write_text("{}")
        (d / "config.json").write_text(json.dumps({"processed_id": pid}))
    storage.set_current("models", "v-corrupt")
    app = create_app(make_settings(storage.root, None, tune=False))
    with LiveServer(app) as server:
        deadline = time.monotonic() + 60
        while not (last_error := httpx.get(f"{server.url}/readyz", timeout=5).json().get("last_error")):
            assert time.monotonic() < deadline, "the corrupt version was never refused"
            time.sleep(0.1)
        r = httpx.get(f"{server.url}/users/1/recommendations", timeout=10)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json() == {"error": {"code": "not_ready", "message": "no model version is loaded yet"}}, r.text
        assert "v-corrupt" in last_error
