"""The whole stack on loopback as `make run` starts it (scripts/run_stack.py): sample data, the pipeline,
five real services (uvicorn subprocesses), real HTTP, real Redis, real storage; SIGTERM stops it all.

A training run triggered through the gateway's admin API (ingestion -> processing -> training ->
promotion -> recommender reload) ends with a new version promoted, the recommender answers with the
new model_version, and clients hammering the public API meanwhile see zero failed requests.
Slow (a TensorFlow training on 2 cores): about 3-5 minutes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from animerec_shared.launcher import SERVICES, free_port, port_open

TOKEN = "e2e-admin-token-0123456789abcdef"

pytestmark = [
    pytest.mark.skipif(
        any(importlib.util.find_spec(f"animerec_{s}") is None for s in SERVICES),
        reason="needs all five service packages installed (make install)",
    ),
    pytest.mark.timeout(1200),
]


REPO = Path(__file__).resolve().parents[2]


def _wait_ready(url: str, launcher: subprocess.Popen, log: Path, timeout: float = 900) -> dict:
    """Returns the gateway's /readyz body once it is 200 (sample data and the pipeline come first)."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        assert launcher.poll() is None, f"run_stack.py exited with {launcher.returncode}\n" + _tail(log)
        try:
            r = httpx.get(f"{url}/readyz", timeout=3)
            body = r.json()
            if r.status_code == 200:
                return body
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"stack not ready: {body}\n" + _tail(log))


def _tail(log: Path) -> str:
    return f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    """The stack as `make run` starts it: scripts/run_stack.py makes sample data, runs the pipeline,
    starts the five services and serves until it gets SIGTERM."""
    from animerec_shared.storage import open_storage

    root = tmp_path_factory.mktemp("e2e")
    var, log = root / "var", root / "run_stack.log"
    ports = {s: free_port() for s in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL") or k == "REDIS_URL"}
    env.update(
        {
            "STORAGE_URL": (root / "storage").as_uri(),
            "REDIS_URL": redis_url,
            "INGESTION_ALLOWED_ROOT": str(var),
            "GATEWAY_ADMIN_TOKEN": TOKEN,
            "LOG_LEVEL": "WARNING",
            "OPENBLAS_NUM_THREADS": "1",
            "GATEWAY_ENVIRONMENT": "test",
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
        }
    )  # the hammer below is one client IP doing ~100 req/s
    env.update({f"{s.upper()}_PORT": str(p) for s, p in ports.items()})
    env.pop("OPENAI_API_KEY", None)
    env.pop("DATA_DIR", None)
    with open(log, "wb") as out:
        launcher = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "scripts" / "run_stack.py"),
                "--sample-dir",
                str(var / "sample"),
                "--users",
                "300",
                "--epochs",
                "1",
                "--min-ratings",
                "50",
                "--host",
                "127.0.0.1",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        url = f"http://127.0.0.1:{ports['gateway']}"
        ready = _wait_ready(url, launcher, log)
        first = open_storage(env["STORAGE_URL"]).get_current("models")
        assert first and ready["model_version"] == first, (first, ready)
        yield {"url": url, "first": {"version": first}, "root": root, "log": log}
    finally:
        launcher.terminate()  # run_stack.py stops the services, gateway first, then exits
        try:
            assert launcher.wait(timeout=90) == 0, _tail(log)
        except subprocess.TimeoutExpired:
            launcher.kill()
            raise
    stopped = [s for s, p in ports.items() if port_open(p, timeout=0.5)]
    assert stopped == [], f"still listening after run_stack.py stopped: {stopped}\n" + _tail(log)


class Hammer:
    """Client threads calling public routes in a loop; records every status and model_version."""

    def __init__(self, url: str, paths: list[str], threads: int = 4):
        self.url, self.paths = url, paths
        self.stop = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.versions: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True) for i in range(threads)]

    def _loop(self, i: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as c:
            n = i
            while not self.stop.is_set():
                path = self.paths[n % len(self.paths)]
                n += 1
                try:
                    r = c.get(path)
                    status, version = r.status_code, (r.json() or {}).get("model_version")
                except (httpx.HTTPError, ValueError) as exc:
                    status, version = 0, None
                    r = exc  # type: ignore[assignment]
                with self.lock:
                    self.statuses[status] += 1
                    if status != 200:
                        self.failures.append(f"{path}: {status} {getattr(r, 'text', r)!s:.300}")
                    elif version:
                        self.versions.append(version)
                time.sleep(0.01)

    def __enter__(self) -> Hammer:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)


def test_training_via_gateway_promotes_new_version_with_zero_failed_requests(stack):
    url, first = stack["url"], stack["first"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, timeout=30) as c:
        hits = c.get("/api/v1/anime", params={"q": "a", "limit": 3}).json()["items"]
        anime_id = hits[0]["anime_id"]
        user_id = _known_user(stack["root"])
        recs = c.get(f"/api/v1/users/{user_id}/recommendations", params={"n": 5})
        assert recs.status_code == 200 and recs.json()["model_version"] == first["version"]
        paths = [
            f"/api/v1/users/{user_id}/recommendations?n=10",
            f"/api/v1/anime/{anime_id}/similar?n=10",
            f"/api/v1/users/{user_id}/preferences",
        ]
        with Hammer(url, paths) as hammer:
            started = c.post(
                "/api/v1/admin/training-runs",
                headers=auth,
                json={"source": "sample", "min_ratings": 50, "epochs": 1, "promote": "always"},
            )
            assert started.status_code == 202, started.text
            run = _wait_run(c, started.json()["id"], auth, stack["log"])
            time.sleep(2)  # keep hammering on the new version for a moment
        assert run["state"] == "succeeded", run
        assert run["promoted"] is True and run["version"] != first["version"]
        assert run["model_version"] == run["version"]
        assert [s["state"] for s in run["steps"]] == ["succeeded"] * 4
        print(
            f"\n[e2e] {sum(hammer.statuses.values())} public requests during the run and swap: "
            f"{dict(hammer.statuses)}; versions seen {sorted(set(hammer.versions))}"
        )
        assert hammer.failures == [], hammer.failures[:5]
        assert sum(hammer.statuses.values()) > 50
        assert first["version"] in hammer.versions and run["version"] in hammer.versions
        after = c.get(f"/api/v1/users/{user_id}/recommendations", params={"n": 5}).json()
        assert after["model_version"] == run["version"]
        assert c.get("/api/v1/models").json()["current"] == run["version"]
        why = c.post("/api/v1/explanations", json={"user_id": user_id, "anime_id": after["items"][0]["anime_id"]})
        assert why.status_code == 200 and why.json()["text"], why.text
        # rollback through the admin API: the recommender serves the first version again
        back = c.post(f"/api/v1/admin/models/{first['version']}/promote", headers=auth, timeout=330)
        assert back.status_code == 200 and back.json()["model_version"] == first["version"], back.text


def _known_user(root: Path) -> int:
    import pandas as pd

    from animerec_shared.storage import open_storage

    storage = open_storage((root / "storage").as_uri())
    folder = storage.fetch_dir(f"processed/{storage.get_current('processed')}")
    users = pd.read_parquet(folder / "users.parquet")
    return int(users.sort_values("n_ratings", ascending=False)["user_id"].iloc[0])


def _wait_run(c: httpx.Client, run_id: str, auth: dict[str, str], log: Path, timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = c.get(f"/api/v1/admin/training-runs/{run_id}", headers=auth)
        assert r.status_code == 200, r.text
        run = r.json()
        if run["state"] in ("succeeded", "failed"):
            return run
        time.sleep(1)
    raise AssertionError(f"training run {run_id} did not finish\n" + _tail(log))
