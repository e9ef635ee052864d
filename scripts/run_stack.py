#!/usr/bin/env python3
"""Starts the whole platform on this machine (what `make run` calls).

On a fresh clone (after `make install`): makes sample data when it is missing, runs the pipeline
(ingest -> process -> train -> evaluate -> promote) when no model is promoted yet, starts the five
services, waits until the gateway's /readyz says every upstream answers and a model is loaded,
then prints the web page and Swagger URLs and a development admin token. A service that crashes is
restarted after 1, 2, 4 ... (at most 30) s; one that crashes more than 5 times within 5 minutes
stops the stack. Ctrl-C (or SIGTERM) stops everything.

Environment: DATA_DIR (real Kaggle files instead of sample data), REDIS_URL (Redis cache; unset: an
in-process LRU), GATEWAY_ADMIN_TOKEN (else a random one), SERVICE_TOKEN (else the launcher makes a random
one for this run, given to the gateway and the services that check it), INGESTION_MIN_USER_RATINGS (default 50),
STORAGE_URL, HOST and the <SERVICE>_PORT variables (README, "Configuration"); the launcher points the
gateway and the explainer at the services it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from animerec_shared.launcher import SERVICES, GaveUp, Launcher, RestartPolicy, installed_services, port_open
from animerec_shared.settings import REPO_ROOT, BaseServiceSettings, metrics_port_of, port_of
from animerec_shared.storage import open_storage


def say(msg: str) -> None:
    print(f"[run] {msg}", file=sys.stderr, flush=True)


def animerec(*argv: str, env: dict[str, str]) -> dict:
    """Returns the one-line JSON summary of an `animerec ... --json` command (progress goes to stderr)."""
    cmd = [sys.executable, "-m", "animerec_shared.cli", *argv, "--json"]
    say("$ animerec " + " ".join(argv) + " --json")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"[run] `animerec {' '.join(argv)}` failed (exit code {proc.returncode})")
    return json.loads(lines[-1])


def prepare_data(args: argparse.Namespace, env: dict[str, str]) -> Path:
    """Returns the folder of Kaggle-format files to ingest, making sample data when needed."""
    if args.data_dir:
        source = Path(args.data_dir).expanduser().resolve()
        if not (source / "anime.csv").exists():
            raise SystemExit(f"[run] DATA_DIR={source} has no anime.csv")
        return source
    source = Path(args.sample_dir).resolve()
    if not (source / "anime.csv").exists():
        summary = animerec("sample-data", "--out", str(source), "--users", str(args.users), env=env)
        say(f"sample data written to {source}: {json.dumps(summary)[:200]}")
    return source


def ensure_model(args: argparse.Namespace, source: Path, env: dict[str, str]) -> str:
    """Returns the promoted model version, running the pipeline first when there is none."""
    storage = open_storage(env.get("STORAGE_URL") or BaseServiceSettings().storage_url)
    current = storage.get_current("models")
    if current and not args.retrain:
        say(f"model {current} is promoted; skipping the pipeline (--retrain to run it anyway)")
        return current
    say(f"no promoted model yet: running the pipeline on {source} (this takes a few minutes)")
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    summary = animerec("pipeline", "--source", str(source), "--min-ratings", str(args.min_ratings), *extra, env=env)
    current = storage.get_current("models")
    if not current:
        raise SystemExit(f"[run] the pipeline promoted no model: {summary}")
    ndcg = {name: m.get("ndcg@10") for name, m in (summary.get("metrics") or {}).items() if isinstance(m, dict)}
    say(f"model {current} promoted; test NDCG@10 by strategy: {ndcg}")
    return current


def start_services(host: str, env: dict[str, str]) -> Launcher:
    """Returns the launcher with every service started on its configured port, in dependency order."""
    missing = [s for s in SERVICES if s not in installed_services()]
    if missing:
        raise SystemExit(f"[run] services not installed: {', '.join(missing)} (run `make install`)")
    ports = {s: port_of(s) for s in SERVICES}
    metrics = {s: metrics_port_of(s) for s in SERVICES}
    wanted = [(s, p) for s, p in ports.items()] + [(f"{s} metrics", p) for s, p in metrics.items()]
    busy = [f"{s}:{p}" for s, p in wanted if port_open(p, host, timeout=0.5)]
    if busy:
        raise SystemExit(f"[run] ports already in use: {', '.join(busy)} (another stack running?)")
    # Own session: Ctrl-C reaches only this script, which then stops the services in order.
    launcher = Launcher(ports, env=env, host=host, own_session=True, metrics_ports=metrics)
    for name in SERVICES:
        proc = launcher.start(name, wait_free=0)
        say(f"started {name} on http://{host}:{ports[name]} (pid {proc.pid}; metrics {launcher.metrics_url(name)})")
    return launcher


def stop_services(launcher: Launcher) -> None:
    """Stops the services, gateway first, each with SIGTERM then SIGKILL after 10 s."""
    for name in launcher.stop(timeout=10):
        say(f"{name} did not stop in 10 s; killed it")


def wait_ready(launcher: Launcher, timeout: float) -> dict:
    """Returns the gateway's /readyz body once it is 200; exits when a service dies or time runs out."""
    try:
        # each not-ready probe is logged by the services: keep them few
        return launcher.wait_ready(timeout, "gateway", step=1.5)
    except (RuntimeError, TimeoutError) as exc:
        raise SystemExit(f"[run] {exc}") from None


def supervise(launcher: Launcher, policy: RestartPolicy | None = None) -> int:
    """Restarts crashed services with backoff until Ctrl-C/SIGTERM (KeyboardInterrupt, raised through);
    returns 1 once one crashed too often."""
    try:
        launcher.supervise(policy, say=say)
    except GaveUp as exc:
        say(f"{exc}; stopping the stack")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Returns the exit code: 0 after a clean Ctrl-C, 1 when a service kept crashing."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=os.environ.get("DATA_DIR") or None, help="real Kaggle files (DATA_DIR)")
    p.add_argument("--sample-dir", default=str(REPO_ROOT / "var" / "sample-data"))
    p.add_argument(
        "--users",
        type=int,
        default=int(os.environ.get("SAMPLE_USERS", "1000")),
        help="users in generated sample data (SAMPLE_USERS)",
    )
    # A first start should take minutes, not tens of minutes: fewer epochs than the tuned 30
    # (RUN_EPOCHS=0 keeps the model's default); retrain later through the admin API.
    p.add_argument(
        "--epochs",
        type=int,
        default=int(os.environ.get("RUN_EPOCHS", "10")),
        help="training epochs of the first pipeline run (RUN_EPOCHS; 0 = model default)",
    )
    p.add_argument(
        "--min-ratings",
        type=int,
        default=int(os.environ.get("INGESTION_MIN_USER_RATINGS", "50")),
        help="processing: minimum ratings per user (INGESTION_MIN_USER_RATINGS)",
    )
    p.add_argument("--retrain", action="store_true", help="run the pipeline even when a model is promoted")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--wait", type=float, default=180.0, help="seconds to wait for /readyz")
    p.add_argument("--check", action="store_true", help="stop once ready (smoke test) instead of serving")
    args = p.parse_args(argv)

    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    token = env.get("GATEWAY_ADMIN_TOKEN") or secrets.token_urlsafe(24)
    env["GATEWAY_ADMIN_TOKEN"] = token
    source = prepare_data(args, env)
    # The ingestion API only reads folders under INGESTION_ALLOWED_ROOT (default var/): let it see DATA_DIR.
    allowed = Path(env.get("INGESTION_ALLOWED_ROOT") or REPO_ROOT / "var").resolve()
    if not source.is_relative_to(allowed):
        env["INGESTION_ALLOWED_ROOT"] = str(source)
        allowed = source
    ensure_model(args, source, env)

    launcher: Launcher | None = None
    stopping = False

    def on_term(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # A shell may start us with SIGINT ignored (background job); Ctrl-C must still stop the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        launcher = start_services(args.host, env)
        gateway = launcher.url("gateway")
        ready = wait_ready(launcher, args.wait)
        cache = f"Redis at {env['REDIS_URL']}" if env.get("REDIS_URL") else "in-process LRU (set REDIS_URL for Redis)"
        print(
            f"""
  AnimeRec is running (model {ready.get("model_version")}; cache: {cache})
    web page     {gateway}/
    Swagger      {gateway}/docs      (ReDoc {gateway}/redoc, OpenAPI {gateway}/openapi.json)
    admin token  {token}   (GATEWAY_ADMIN_TOKEN; random unless set)
    retrain      curl -X POST -H "Authorization: Bearer {token}" -H "Content-Type: application/json" \\
                   -d '{{"source": "{source.relative_to(allowed)}", "min_ratings": {args.min_ratings}}}' \\
                   {gateway}/api/v1/admin/training-runs
  Ctrl-C stops everything.
""",
            flush=True,
        )
        if args.check:
            return 0
        return supervise(launcher)
    except KeyboardInterrupt:
        stopping = True
        return 0
    finally:
        if launcher is not None:
            say("stopping the services" if stopping else "stopping")
            stop_services(launcher)
            say("stopped")


if __name__ == "__main__":
    sys.exit(main())
