#!/usr/bin/env python3
"""Long API fuzzing (`make fuzz`): schemathesis against every service's OpenAPI, live on loopback.

Starts the real stack (five uvicorn services on free ports, a private redis-server, a generated
world kept in --workdir) and runs `schemathesis run` against each service in turn with every phase
(examples, coverage, fuzzing, stateful). Promises: zero 5xx and zero answers outside the documented
API (status code, content type, headers, body schema). Exit code 0 only when every service keeps
them. Reports (JSON and schemathesis' text with curl lines to reproduce) go to --workdir/fuzz/.

    .venv/bin/python -m scripts.fuzz                         # 100 examples per operation
    .venv/bin/python -m scripts.fuzz --max-examples 500 --services gateway,recommender
    .venv/bin/python -m scripts.fuzz --strict-input          # also: invalid input must never get a 2xx

(as a module from the repository root: it imports the ``benchmarks`` package)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil

from benchmarks.fuzzing import CHECKS, STRICT_INPUT_CHECK, run_schemathesis
from benchmarks.stack import REPO, SERVICES, RedisServer, Stack, build_world


def _stop_training_children(stack: Stack) -> None:
    """Kills the training runs the fuzzer started (children of our own training service process)."""
    proc = stack.procs.get("training")
    if proc is not None and proc.poll() is None:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


def main(argv: list[str] | None = None) -> int:
    """Returns 0 when no service answered a 5xx or outside its documented API."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--max-examples", type=int, default=100, help="examples per operation (default 100)")
    p.add_argument("--max-time", type=float, default=None, help="seconds per service at most")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: a new one each run)")
    p.add_argument("--services", default=",".join(SERVICES), help="comma-separated services to fuzz")
    p.add_argument("--strict-input", action="store_true", help=f"add the {STRICT_INPUT_CHECK} check")
    p.add_argument("--users", type=int, default=300, help="sample users of the generated world")
    p.add_argument("--workdir", default=str(REPO / "var" / "reliability"))
    args = p.parse_args(argv)

    workdir = Path(args.workdir)
    world = build_world(workdir / f"world-{args.users}", users=args.users)
    checks = CHECKS + ((STRICT_INPUT_CHECK,) if args.strict_input else ())
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    results = []
    with (
        RedisServer() as redis,
        Stack(world, workdir / "logs", redis_url=redis.url, GATEWAY_RATE_LIMIT_PER_MINUTE="0") as stack,
    ):
        stack.start_all(timeout=300)
        print(
            f"stack ready; seed {seed}; {args.max_examples} examples per operation; checks: {', '.join(checks)}",
            flush=True,
        )
        for service in services:
            stack.wait_ready(60)
            try:
                result = run_schemathesis(
                    service,
                    stack.url(service),
                    workdir / "fuzz",
                    seed=seed,
                    max_examples=args.max_examples,
                    max_time=args.max_time,
                    checks=checks,
                    timeout=3600,
                )
            finally:
                if service == "training":
                    _stop_training_children(stack)
            alive = stack.procs[service].poll() is None
            results.append((result, alive))
            print(result.line() + ("" if alive else "  SERVICE DIED"), flush=True)
            if result.failures or result.errors:
                print("  " + result.details(0).split("\n--- schemathesis output")[0].replace("\n", "\n  "))
    bad = [r for r, alive in results if r.failures or r.errors or not alive]
    print(f"\n{len(results) - len(bad)}/{len(results)} services clean; reports in {workdir / 'fuzz'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
