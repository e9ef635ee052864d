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
import traceback
from importlib.metadata import entry_points
from typing import Any, NoReturn

from .launcher import SERVICES, GaveUp, Launcher, installed_services
from .settings import metrics_port_of, port_of

__all__ = ["build_parser", "fail", "installed_services", "main", "print_summary", "progress"]


def print_summary(obj: Any) -> None:
    """Prints the one-line JSON summary that --json commands end with."""
    print(json.dumps(obj, separators=(",", ":"), default=str), flush=True)


def fail(command: str, code: str, message: str, details: Any = None, *, as_json: bool = False) -> int:
    """Reports a failed command and returns its exit code (1).

    Always one line ``animerec CMD: error [code]: message`` on stderr; with ``--json`` also the HTTP
    error envelope ``{"error": {"code", "message", "details"}}`` (details null when there are none,
    the schema of ``animerec_shared.contracts.common.ErrorBody``) as the last stdout line, so a caller that
    reads the last line gets an error object instead of nothing.
    """
    print(f"animerec{' ' + command if command else ''}: error [{code}]: {message}", file=sys.stderr, flush=True)
    if as_json:
        print_summary({"error": {"code": code, "message": message, "details": details}})
    return 1


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


class UsageError(Exception):
    """A command line argparse rejected: its message and the usage of the (sub)command."""

    def __init__(self, message: str, usage: str):
        super().__init__(message)
        self.message, self.usage = message, usage


class _Parser(argparse.ArgumentParser):
    """Raises UsageError instead of exiting, so that ``main`` can answer ``--json`` callers in JSON."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.format_usage())


class _SubParsers(argparse._SubParsersAction):
    """Gives a subcommand registered with only a help line that line as its description, so that
    ``animerec CMD --help`` always says what the command does."""

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if kwargs.get("description") is None and kwargs.get("help") not in (None, argparse.SUPPRESS):
            help_text = str(kwargs["help"])
            kwargs["description"] = help_text[:1].upper() + help_text[1:] + "."
        return super().add_parser(name, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser with the built-in commands and every installed service's commands."""
    parser = _Parser(
        prog="animerec",
        description="Anime recommendation platform: data, training, evaluation and the services. "
        "A command run with --json ends with one JSON line on stdout: its summary, or "
        '{"error": {"code", "message", "details"}} when it fails (exit code 1; 2 for a bad command line).',
    )
    parser.register("action", "parsers", _SubParsers)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="start services (default: all installed) on their ports")
    serve.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)}")
    serve.add_argument(
        "--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to bind (HOST, default 127.0.0.1)"
    )
    serve.add_argument("--wait", type=float, default=60.0, help="seconds to wait for /healthz")
    serve.add_argument("--detach-check", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=_serve)
    for ep in sorted(entry_points(group="animerec.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the process exit code.

    A domain error (AnimeRecError) is one line on stderr, not a traceback; with ``--json`` it is also
    the error envelope on stdout, and so is any other failure (whose traceback still goes to stderr).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(exc.usage)
        command = next((a for a in argv if not a.startswith("-")), None)
        fail(command or "", "usage_error", exc.message, {"usage": exc.usage.strip()}, as_json="--json" in argv)
        return 2
    as_json = bool(getattr(args, "json", False))
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from .errors import AnimeRecError

        if isinstance(exc, AnimeRecError):
            return fail(args.command, exc.code, exc.message, exc.details or None, as_json=as_json)
        if not as_json:
            raise
        traceback.print_exc()
        return fail(args.command, "internal_error", f"{type(exc).__name__}: {exc}", as_json=True)


if __name__ == "__main__":
    sys.exit(main())
