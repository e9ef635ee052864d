"""The whole platform on loopback for benchmarks and reliability runs: a small world, five services, a private Redis.

Used by ``benchmarks/bench_load.py``, ``scripts/fuzz.py`` and ``tests/reliability/``. Nothing here
touches the machine's Redis on 6379 or the repo's var/storage: every run gets its own folder.

- :func:`build_world` makes sample data with the real CLI (``animerec sample-data``, ``ingest``,
  ``process``) and publishes a model version with numpy SVD embeddings written exactly as
  docs/architecture.md specifies (TensorFlow training is minutes on 2 cores; serving only reads
  the numpy files).
- :class:`RedisServer` is a private ``redis-server`` on a free port that can be stopped and
  started again on the same port.
- :class:`Stack` is the repository's launcher (:class:`animerec_shared.launcher.Launcher`) with the
  world's environment: each service its own uvicorn process (stop, SIGKILL, restart one).

``.venv/bin/python -m benchmarks.stack`` serves such a stack until Ctrl-C / SIGTERM and prints its URLs
and the services' process ids as one JSON line (what ``bench_load.py`` starts for each side).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from animerec_shared.launcher import SERVICES, Launcher, free_port, port_open, wait_for

REPO = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "reliability-admin-token-0123456789"
__all__ = [
    "ADMIN_TOKEN",
    "REPO",
    "SERVICES",
    "RedisServer",
    "Stack",
    "World",
    "animerec",
    "base_env",
    "build_world",
    "free_port",
    "port_open",
    "publish_numpy_model",
    "wait_for",
]


def base_env(**extra: str) -> dict[str, str]:
    """Returns os.environ without upstream URLs, OpenAI keys or storage settings, plus extra."""
    drop = ("_URL", "_PORT")
    env = {k: v for k, v in os.environ.items() if not k.endswith(drop) and not k.startswith("OPENAI_")}
    env.update(
        {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "LOG_LEVEL": "WARNING",
            "GATEWAY_ENVIRONMENT": "test",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
    )
    env.update(extra)
    return env


def animerec(env: dict[str, str], *argv: str, timeout: float = 600) -> dict:
    """Returns the last-line JSON summary of ``animerec <argv> --json`` (raises with stderr on failure)."""
    proc = subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", *argv, "--json"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"animerec {' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.strip()][-1])


# -- the world: raw + processed dataset and a promoted model version ----------------------------------
@dataclass
class World:
    """A storage folder holding a current raw dataset, processed dataset and model version."""

    root: Path
    storage_url: str
    sample_dir: Path
    processed_id: str
    model_version: str
    user_ids: list[int] = field(default_factory=list)  # known users, most ratings first
    anime_ids: list[int] = field(default_factory=list)  # rated anime, most ratings first
    titles: list[str] = field(default_factory=list)  # titles of popular anime (search words)

    def save(self) -> None:
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        (self.root / "world.json").write_text(json.dumps(data))

    @classmethod
    def load(cls, root: Path) -> World | None:
        path = root / "world.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(**{**data, "root": Path(data["root"]), "sample_dir": Path(data["sample_dir"])})


def publish_numpy_model(
    storage_url: str, processed_id: str | None = None, version: str | None = None, dim: int = 64, promote: bool = True
) -> str:
    """Returns the version id after publishing an SVD model version (numpy files of the contract)."""
    import numpy as np

    from animerec_ranking.datasets import load_processed
    from animerec_ranking.model_versions import new_version_id
    from animerec_shared.storage import open_storage

    storage = open_storage(storage_url)
    processed_id = processed_id or storage.get_current("processed")
    data = load_processed(storage.fetch_dir(f"processed/{processed_id}"), with_anime=False)
    x = data.matrix(data.train_part).toarray().astype(np.float64)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(dim, len(s))
    weight = s[:k] ** 1.5
    ue, ae = u[:, :k] * weight, vt[:k].T * weight
    pad = lambda m: np.hstack([m, np.zeros((m.shape[0], 128 - k))])  # noqa: E731 - contract: 128 dims
    norm = lambda m: (m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)).astype(np.float32)  # noqa: E731
    version = version or new_version_id()
    with storage.publish(f"models/{version}", meta={"model": "svd-reliability"}) as staging:
        np.save(staging / "user_embeddings.npy", norm(pad(ue)))
        np.save(staging / "anime_embeddings.npy", norm(pad(ae)))
        np.save(staging / "user_ids.npy", np.asarray(data.user_ids, dtype=np.int64))
        np.save(staging / "anime_ids.npy", np.asarray(data.anime_ids, dtype=np.int64))
        (staging / "metrics.json").write_text(
            json.dumps({"ndcg@10": 0.0, "recall@10": 0.0, "hr@10": 0.0, "strategies": {}})
        )
        (staging / "config.json").write_text(
            json.dumps(
                {
                    "model": "svd-reliability",
                    "dim": k,
                    "processed_id": processed_id,
                    "seed": 0,
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        )
    if promote:
        storage.set_current("models", version)
    return version


def build_world(root: Path, users: int = 300, min_ratings: int = 50, reuse: bool = True) -> World:
    """Returns a World in root/storage built with the real CLI (reused when root/world.json exists)."""
    import pandas as pd

    from animerec_shared.storage import open_storage

    root = Path(root).resolve()
    if reuse and (world := World.load(root)) is not None and (root / "storage" / "models" / "CURRENT").exists():
        return world
    shutil.rmtree(root / "storage", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    storage_url = (root / "storage").as_uri()
    env = base_env(STORAGE_URL=storage_url)
    sample = root / "sample"
    if not (sample / "anime.csv").exists():
        animerec(env, "sample-data", "--out", str(sample), "--users", str(users))
    animerec(env, "ingest", "--source", str(sample))
    processed = animerec(env, "process", "--min-ratings", str(min_ratings))
    version = publish_numpy_model(storage_url, processed["id"])
    storage = open_storage(storage_url)
    folder = storage.fetch_dir(f"processed/{processed['id']}")
    users_df = pd.read_parquet(folder / "users.parquet").sort_values("n_ratings", ascending=False)
    rated = pd.read_parquet(folder / "rated_anime.parquet").sort_values("n_ratings", ascending=False)
    anime = pd.read_parquet(folder / "anime.parquet", columns=["anime_id", "name"]).set_index("anime_id")
    top = [int(a) for a in rated["anime_id"].head(200)]
    world = World(
        root=root,
        storage_url=storage_url,
        sample_dir=sample,
        processed_id=processed["id"],
        model_version=version,
        user_ids=[int(u) for u in users_df["user_id"]],
        anime_ids=top,
        titles=[str(anime.loc[a, "name"]) for a in top[:50] if a in anime.index],
    )
    world.save()
    return world


# -- a private Redis ------------------------------------------------------------------------------------
class RedisServer:
    """redis-server on a free loopback port (no persistence); stop() and start() keep the port."""

    def __init__(self, port: int | None = None):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), 10, f"redis-server on {self.port}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the five services ------------------------------------------------------------------------------------
class Stack(Launcher):
    """The five services (the launcher's uvicorn subprocesses) on free loopback ports against a World.

    Each service logs to logs/<service>.log; ``env`` overrides the services' environment.
    """

    def __init__(
        self,
        world: World,
        logs: Path,
        redis_url: str | None = None,
        services: tuple[str, ...] = SERVICES,
        uvicorn_args: dict[str, list[str]] | None = None,
        **env: str,
    ):
        self.world = world
        self.services = services
        ports = {s: free_port() for s in SERVICES}
        # the launcher points the gateway and the explainer at these ports (GATEWAY_*_URL, EXPLAINER_RECOMMENDER_URL)
        service_env = base_env(
            STORAGE_URL=world.storage_url,
            INGESTION_ALLOWED_ROOT=str(world.root),
            GATEWAY_ADMIN_TOKEN=ADMIN_TOKEN,
            TRAINING_RUNS_DIR=str(world.root / "training-runs"),
            RECOMMENDER_POLL_INTERVAL_SECONDS="2",
            EXPLAINER_TITLE_CATALOGUE="false",
            # fixed blend weights: tuning on val costs ~80 s per model load on 2 busy cores
            RECOMMENDER_TUNE="false",
            RECOMMENDER_EASE_TOP_N="1000",
        )
        if redis_url:
            service_env["REDIS_URL"] = redis_url
        service_env.update(env)
        super().__init__(ports, env=service_env, logs=Path(logs), cwd=REPO, uvicorn_args=uvicorn_args)

    def start_all(self, timeout: float = 180) -> dict:  # type: ignore[override]
        """Starts every service of the stack and returns the gateway's /readyz body once it is 200."""
        super().start_all(self.services)
        return self.wait_ready(timeout)

    def close(self) -> None:
        """Stops every service (gateway first; SIGTERM, then SIGKILL after 10 s)."""
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Serves a stack until Ctrl-C or SIGTERM (for bench_load.py, wrk, curl or a debugger): prints its URLs as JSON."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--workdir", default=str(REPO / "var" / "reliability"))
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--gateway-workers", type=int, default=1, help="uvicorn workers of the gateway")
    p.add_argument("--recommender-workers", type=int, default=1, help="uvicorn workers of the recommender")
    args = p.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    world = build_world(Path(args.workdir) / f"world-{args.users}", users=args.users)
    workers = {
        n: ["--workers", str(w)]
        for n, w in (("gateway", args.gateway_workers), ("recommender", args.recommender_workers))
        if w > 1
    }
    with (
        RedisServer() as redis,
        Stack(
            world,
            Path(args.workdir) / "logs",
            redis_url=redis.url,
            uvicorn_args=workers,
            GATEWAY_RATE_LIMIT_PER_MINUTE="0",
        ) as stack,
    ):
        try:
            stack.start_all(timeout=300)
            print(
                json.dumps(
                    {
                        "gateway": stack.url("gateway"),
                        "redis": redis.url,
                        **{s: stack.url(s) for s in SERVICES},
                        "metrics": {s: stack.metrics_url(s) for s in SERVICES},
                        "world": str(world.root),
                        "pids": {"redis": redis.proc.pid, **{s: p.pid for s, p in stack.procs.items()}},
                    }
                ),
                flush=True,
            )
            while not stack.dead():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
