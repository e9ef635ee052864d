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
import sys
import time
from importlib.metadata import entry_points
from typing import Any

from .launcher import SERVICES, GaveUp, Launcher, installed_services
from .settings import metrics_port_of, port_of

__all__ = ["build_parser", "installed_services", "main", "print_summary", "progress"]


def print_summary(obj: Any) -> None:
    """Prints the one-line JSON summary that --json commands end with."""
    print(json.dumps(obj, separators=(",", ":"), default=str), flush=True)


def progress(msg: str) -> None:
    """Writes a progress line to stderr (stdout stays clean for --json)."""
    print(f"[animerec] {msg}", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace) -> int:
    available = installed_services()
    names = args.services or [s for s in SERVICES if s in available]
    unknown = [n for n in names if n not in available]
    if unknown:
        print(
            f"animerec serve: unknown or uninstalled service(s): {', '.join(unknown)}; "
            f"installed: {', '.join(sorted(available)) or 'none'}",
            file=sys.stderr,
        )
        return 2
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    launcher = Launcher(
        {n: port_of(n) for n in names}, env=env, host=args.host, metrics_ports={n: metrics_port_of(n) for n in names}
    )
    signal.signal(signal.SIGTERM, lambda *_: (launcher.stop(), sys.exit(0)))
    try:
        for name in names:
            launcher.start(name, wait_free=0)
            progress(
                f"starting {name} on http://{args.host}:{launcher.ports[name]} (metrics: {launcher.metrics_url(name)})"
            )
        deadline = time.monotonic() + args.wait
        pending = list(names)
        while pending and time.monotonic() < deadline:
            for name in [n for n in pending if launcher.ready(n, "/healthz")]:
                pending.remove(name)
                progress(f"{name} is up")
            for name, code in launcher.dead().items():
                progress(f"{name} exited with code {code}")
                return 1
            time.sleep(0.3)
        if pending:
            progress(f"not up after {args.wait}s: {', '.join(sorted(pending))}")
        if args.detach_check:
            return 0 if not pending else 1
        try:  # a crashed service is restarted with backoff (1, 2, 4 ... 30 s) until it crashes too often
            launcher.supervise(say=progress)
        except GaveUp as exc:
            progress(f"{exc}; stopping")
        return 1
    except KeyboardInterrupt:
        progress("stopping")
        return 0
    finally:
        launcher.stop()


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser with the built-in commands and every installed service's commands."""
    parser = argparse.ArgumentParser(prog="animerec", description="Anime recommendation platform")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start services (default: all installed) on their ports")
    serve.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)}")
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
