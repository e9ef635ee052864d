"""The ``animerec`` command line.

``animerec_shared`` imports no service: each installed service contributes its commands through
the entry-point group ``animerec.commands`` (a callable ``register(subparsers)``) and its app
through ``animerec.services`` (``name = "module:create_app"``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from typing import Any

import httpx

from .settings import SERVICE_PORTS, BaseServiceSettings

SERVICE_ORDER = ["ingestion", "training", "recommender", "explainer", "gateway"]


def installed_services() -> dict[str, str]:
    """Returns {service name: "module:create_app"} for every installed service."""
    return {ep.name: ep.value for ep in entry_points(group="animerec.services")}


def print_summary(obj: Any) -> None:
    """Prints the one-line JSON summary that --json commands end with."""
    print(json.dumps(obj, separators=(",", ":"), default=str), flush=True)


def progress(msg: str) -> None:
    """Writes a progress line to stderr (stdout stays clean for --json)."""
    print(f"[animerec] {msg}", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace) -> int:
    settings = BaseServiceSettings()
    available = installed_services()
    names = args.services or [s for s in SERVICE_ORDER if s in available]
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"animerec serve: unknown or uninstalled service(s): {', '.join(unknown)}; "
              f"installed: {', '.join(sorted(available)) or 'none'}", file=sys.stderr)
        return 2
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    for name in names:
        port = settings.port_of(name)
        cmd = [sys.executable, "-m", "uvicorn", "--factory", available[name], "--host", args.host,
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
        procs.append((name, subprocess.Popen(cmd, env=env)))
        progress(f"starting {name} on http://{args.host}:{port}")

    def stop(*_: Any) -> None:
        for _, p in procs:
            if p.poll() is None:
                p.terminate()
        for _, p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        deadline = time.monotonic() + args.wait
        pending = {n for n, _ in procs}
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                try:
                    if httpx.get(f"http://127.0.0.1:{settings.port_of(name)}/healthz", timeout=1).status_code == 200:
                        pending.discard(name)
                        progress(f"{name} is up")
                except httpx.HTTPError:
                    pass
            for name, p in procs:
                if p.poll() is not None:
                    progress(f"{name} exited with code {p.returncode}")
                    stop()
                    return 1
            time.sleep(0.3)
        if pending:
            progress(f"not up after {args.wait}s: {', '.join(sorted(pending))}")
        if args.detach_check:
            stop()
            return 0 if not pending else 1
        while all(p.poll() is None for _, p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        progress("stopping")
        return 0
    finally:
        stop()


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser with the built-in commands and every installed service's commands."""
    parser = argparse.ArgumentParser(prog="animerec", description="Anime recommendation platform")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start services (default: all installed) on their ports")
    serve.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICE_PORTS)}")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--wait", type=float, default=60.0, help="seconds to wait for /healthz")
    serve.add_argument("--detach-check", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=_serve)
    for ep in sorted(entry_points(group="animerec.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line message instead of a traceback for domain errors
        from .errors import AnimeRecError

        if isinstance(exc, AnimeRecError):
            print(f"animerec {args.command}: error [{exc.code}]: {exc.message}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
