"""Live-server helpers of the recommender tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import uvicorn

from animerec_shared.launcher import free_port, wait_port


class LiveServer:
    """A uvicorn server running an app object in a thread, on a free loopback port."""

    def __init__(self, app):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_port(self.port)
        return self

    def wait_ready(self, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = httpx.get(f"{self.url}/readyz", timeout=5)
            if r.status_code == 200:
                return r.json()
            time.sleep(0.2)
        raise RuntimeError(f"not ready: {r.text}")

    def metrics(self) -> str:
        """Returns the app's Prometheus text from its own metrics port (make_settings asks for a free one)."""
        return httpx.get(self.app.state.metrics_url, timeout=10).text

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def make_settings(storage_root: Path, redis_url: str | None, **extra):
    from animerec_recommender.config import Settings

    values = {"poll_interval_seconds": 0, "metrics_port": 0, **extra}
    return Settings(
        storage_url=storage_root.as_uri(), redis_url=redis_url, log_json=False, log_level="WARNING", **values
    )
