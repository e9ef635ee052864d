"""The whole platform on loopback for reliability runs: a small world, five services, a private Redis.

Used by ``benchmarks/bench_load.py``, ``scripts/fuzz.py`` and ``tests/reliability/``. Nothing here
touches the machine's Redis on 6379 or the repo's var/storage: every run gets its own folder.

- :func:`build_world` makes sample data with the real CLI (``animerec sample-data``, ``ingest``,
  ``process``) and publishes a model version with numpy SVD embeddings written exactly as
  docs/architecture.md specifies (TensorFlow training is minutes on 2 cores; serving only reads
  the numpy files).
- :class:`RedisServer` is a private ``redis-server`` on a free port that can be stopped and
  started again on the same port.
- :class:`Stack` runs each service as its own uvicorn process (stop, SIGKILL, restart one).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("ingestion", "training", "recommender", "explainer", "gateway")
ADMIN_TOKEN = "reliability-admin-token-0123456789"


def free_port() -> int:
    """Returns a free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    """Returns True when something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(check, timeout: float, what: str, step: float = 0.1):  # noqa: ANN001, ANN201
    """Returns the first truthy value of check() within timeout seconds; raises TimeoutError naming what."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"{what}: not true after {timeout:.0f}s")


def base_env(**extra: str) -> dict[str, str]:
    """Returns os.environ without upstream URLs, OpenAI keys or storage settings, plus extra."""
    drop = ("_URL", "_PORT")
    env = {k: v for k, v in os.environ.items() if not k.endswith(drop) and not k.startswith("OPENAI_")}
    env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "LOG_LEVEL": "WARNING",
                "ENVIRONMENT": "test", "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    env.update(extra)
    return env


def animerec(env: dict[str, str], *argv: str, timeout: float = 600) -> dict:
    """Returns the last-line JSON summary of ``animerec <argv> --json`` (raises with stderr on failure)."""
    proc = subprocess.run([sys.executable, "-m", "animerec_shared.cli", *argv, "--json"], env=env, cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
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
    user_ids: list[int] = field(default_factory=list)      # known users, most ratings first
    anime_ids: list[int] = field(default_factory=list)     # rated anime, most ratings first
    titles: list[str] = field(default_factory=list)        # titles of popular anime (search words)

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


def publish_numpy_model(storage_url: str, processed_id: str | None = None, version: str | None = None,
                        dim: int = 64, promote: bool = True) -> str:
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
        (staging / "metrics.json").write_text(json.dumps({"ndcg@10": 0.0, "recall@10": 0.0, "hr@10": 0.0,
                                                          "strategies": {}}))
        (staging / "config.json").write_text(json.dumps({"model": "svd-reliability", "dim": k,
                                                         "processed_id": processed_id, "seed": 0,
                                                         "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")}))
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
    world = World(root=root, storage_url=storage_url, sample_dir=sample, processed_id=processed["id"],
                  model_version=version, user_ids=[int(u) for u in users_df["user_id"]], anime_ids=top,
                  titles=[str(anime.loc[a, "name"]) for a in top[:50] if a in anime.index])
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
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--protected-mode", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
class Stack:
    """The five services as uvicorn subprocesses on free loopback ports, each with its own log file."""

    def __init__(self, world: World, logs: Path, redis_url: str | None = None, services: tuple[str, ...] = SERVICES,
                 uvicorn_args: dict[str, list[str]] | None = None, **env: str):
        self.world = world
        self.logs = Path(logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.services = services
        self.ports = {s: free_port() for s in SERVICES}
        self.env = base_env(STORAGE_URL=world.storage_url, INGEST_ALLOWED_ROOT=str(world.root),
                            ADMIN_TOKEN=ADMIN_TOKEN, TRAINING_RUNS_DIR=str(world.root / "training-runs"),
                            RECOMMENDER_POLL_SECONDS="2", EXPLAINER_TITLE_CATALOGUE="false",
                            # fixed blend weights: tuning on val costs ~80 s per model load on 2 busy cores
                            RECOMMENDER_TUNE="false", RECOMMENDER_EASE_TOP_N="1000",
                            **{f"{s.upper()}_PORT": str(p) for s, p in self.ports.items()})
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.env.update(env)
        self.procs: dict[str, subprocess.Popen] = {}
        self.uvicorn_args = uvicorn_args or {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name: str) -> subprocess.Popen:
        """Starts one service (its port must be free) and returns its process."""
        wait_for(lambda: not port_open(self.ports[name]), 15, f"port of {name} free")
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", f"animerec_{name}.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.ports[name]), "--log-level", "warning", "--no-access-log",
             *self.uvicorn_args.get(name, [])],
            env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        return self.procs[name]

    def start_all(self, timeout: float = 180) -> dict:
        """Starts every service and returns the gateway's /readyz body once it is 200."""
        for name in self.services:
            self.start(name)
        return self.wait_ready(timeout)

    def ready(self, name: str) -> dict | None:
        """Returns the /readyz body of a service when it answers 200, else None."""
        try:
            r = httpx.get(f"{self.url(name)}/readyz", timeout=2)
        except httpx.HTTPError:
            return None
        return r.json() if r.status_code == 200 else None

    def wait_ready(self, timeout: float = 180, name: str = "gateway") -> dict:
        """Returns the /readyz body of a service once it is 200; raises with the logs' tails otherwise."""
        def check() -> dict | None:
            dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
            if dead:
                raise RuntimeError(f"services exited: {dead}\n{self.tail()}")
            return self.ready(name)
        try:
            return wait_for(check, timeout, f"{name} ready", step=0.3)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.tail()}") from None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Sends sig to one service and waits until it is gone."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stops one service with sig and starts it again (not waiting for readiness)."""
        self.kill(name, sig)
        self.start(name)

    def tail(self, chars: int = 1500) -> str:
        """Returns the end of every service log."""
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-chars:]}"
                         for f in sorted(self.logs.glob("*.log")))

    def close(self) -> None:
        """Stops every service (SIGTERM, then SIGKILL after 10 s)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> int:
    """Serves a stack until Ctrl-C (for wrk, curl or a debugger): prints its URLs as JSON."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--workdir", default=str(REPO / "var" / "reliability"))
    p.add_argument("--users", type=int, default=1000)
    args = p.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    world = build_world(Path(args.workdir) / f"world-{args.users}", users=args.users)
    with RedisServer() as redis, Stack(world, Path(args.workdir) / "logs", redis_url=redis.url,
                                       RATE_LIMIT_PER_MINUTE="0") as stack:
        stack.start_all()
        print(json.dumps({"gateway": stack.url("gateway"), "redis": redis.url,
                          **{s: stack.url(s) for s in SERVICES}, "world": str(world.root)}), flush=True)
        try:
            while all(p.poll() is None for p in stack.procs.values()):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
