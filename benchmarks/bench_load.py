"""Load through the gateway: an old commit and this working tree side by side in one run (`make loadtest`).

    .venv/bin/python -m benchmarks.bench_load                        # old 2ef153b vs this tree, 60 s per phase
    .venv/bin/python -m benchmarks.bench_load --seconds 20 --json    # shorter phases, a JSON summary last
    .venv/bin/python -m benchmarks.bench_load --old none             # this tree only
    .venv/bin/python -m benchmarks.bench_load --fault all            # faults under load (this tree)

Both stacks are up at once; each phase runs against one and then the other (who goes first
alternates from phase to phase), after --warmup seconds of closed-loop load on each:
- fixed rate: locust (FastHttpUser, constant_throughput, its own process) offers --rate requests/s
  (default 1,000) for --seconds from --locust-users users, one keep-alive connection each (default
  rate / 10: a user has 100 ms per request before the offered rate would drop, which the run
  reports as "offered rate held MISSED"). Targets: p99 <= 50 ms, zero errors;
- closed loop: wrk with --connections (default 64) keep-alive connections for --seconds.
  Targets: >= 2,000 requests/s, p99 <= 100 ms.
Mix: 50% similar anime, 30% user recommendations, 10% cold start (POST), 10% title search, ids
drawn with a popularity skew: one seeded request list, the same for both sides and both tools.

Each side is the real stack (five uvicorn services, a private redis-server on a free port, gateway
rate limit off) started by its own commit's launcher: ``python -m benchmarks.stack`` of this tree,
and the old commit's ``benchmarks/stack.py`` in a ``git worktree`` of --old, run with PYTHONPATH on
that worktree's package folders, so the old side runs old code throughout. Both sides ingest the
same generated sample data (--users users, made once by this tree's ``animerec sample-data``); each
processes it and publishes its SVD model with its own code. Worlds are kept in --workdir between
runs (--fresh rebuilds them). CPU ms per request: psutil CPU times of each service's processes and
of Redis before and after each phase, and the load tool's own CPU over the measured part.

The load tools share the machine's cores with the services. Prints figures only; never asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from animerec_shared.launcher import SERVICES
from benchmarks import faults
from benchmarks.load import FixedRate, Mix, closed_loop, wrk_installed
from benchmarks.stack import REPO, RedisServer, Stack, World, animerec, base_env, build_world
from benchmarks.worktree import code_env, worktree

OLD = "2ef153b"  # before issue #15: the gateway's fast lane and micro-cache, the recommender's fast path
TARGETS = {"fixed": {"p99_ms": 50.0, "errors": 0}, "closed": {"rps": 2000.0, "p99_ms": 100.0, "errors": 0}}
CPU_NAMES = (*SERVICES, "redis")


# -- one side: a stack served by some commit's benchmarks/stack.py -------------------------------------------
@dataclass
class Side:
    """A stack served by a `stack.py` subprocess: its URLs (the JSON line it prints) and its processes."""

    name: str
    label: str
    proc: subprocess.Popen
    log: Path
    info: dict[str, Any] = field(default_factory=dict)
    procs: dict[str, list[psutil.Process]] = field(default_factory=dict)
    world: World | None = None

    @property
    def gateway(self) -> str:
        return str(self.info["gateway"])

    @property
    def gateway_metrics(self) -> str | None:
        """The gateway's Prometheus URL: its own port (a stack.py that names none served /metrics on the API port)."""
        if "metrics" not in self.info:
            return self.gateway + "/metrics"
        url = self.info["metrics"].get("gateway")
        return str(url) if url else None

    def discover(self) -> None:
        """Finds each service's and Redis' processes among the children of the stack process."""
        for child in psutil.Process(self.proc.pid).children():
            with contextlib.suppress(psutil.Error):
                cmd = " ".join(child.cmdline())
                name = "redis" if "redis-server" in cmd else next((s for s in SERVICES if f"animerec_{s}." in cmd), "")
                if name:
                    self.procs[name] = [child, *child.children(recursive=True)]
        if "gateway" not in self.procs:
            raise RuntimeError(f"{self.label}: no gateway process among the stack's children")
        missing = [n for n in CPU_NAMES if n not in self.procs]
        if missing:
            print(f"warning: {self.label}: no process found for {missing}; their CPU is not counted", flush=True)

    def cpu_seconds(self) -> dict[str, float]:
        """Returns the user + system CPU seconds used so far by each service (workers included) and Redis."""
        out = {}
        for name, procs in self.procs.items():
            total = 0.0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    total += sum(p.cpu_times()[:2])
            out[name] = total
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the stack stops its services and Redis
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                for procs in self.procs.values():
                    for p in procs:
                        with contextlib.suppress(psutil.Error):
                            p.kill()
                self.proc.kill()
                self.proc.wait()


def start_side(name: str, label: str, cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> Side:
    """Starts a stack process (it builds its world first); its JSON line is read by wait_side()."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    return Side(name, label, proc, log)


def wait_side(side: Side, timeout: float) -> Side:
    """Returns the side once its stack printed its URLs (world built, every service ready)."""
    assert side.proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(side.proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=1.0):
            line = side.proc.stdout.readline()
            if not line:
                break
            if line.startswith("{"):
                side.info = json.loads(line)
                side.world = World.load(Path(side.info["world"]))
                side.discover()
                return side
        elif side.proc.poll() is not None:
            break
    side.close()
    tail = side.log.read_text(errors="replace")[-4000:] if side.log.exists() else ""
    raise RuntimeError(f"{side.label}: the stack did not come up (exit code {side.proc.poll()}):\n{tail}")


def shared_sample(workdir: Path, users: int) -> Path:
    """Returns the folder of sample data both sides ingest (made once with this tree's `animerec sample-data`)."""
    sample = workdir / f"sample-{users}"
    if not (sample / "anime.csv").exists():
        animerec(base_env(), "sample-data", "--out", str(sample), "--users", str(users))
    return sample


def seed_world(world_dir: Path, sample: Path, fresh: bool) -> None:
    """Puts the shared sample into a side's world folder (its stack.py reuses a sample that is there)."""
    if fresh:
        shutil.rmtree(world_dir, ignore_errors=True)
    if not (world_dir / "sample" / "anime.csv").exists():
        shutil.copytree(sample, world_dir / "sample", dirs_exist_ok=True)


# -- measuring ----------------------------------------------------------------------------------------------
def measure(side: Side, phase: str, requests: list, args: argparse.Namespace) -> dict[str, Any]:
    """Returns one phase's figures on one side, with the CPU milliseconds per request of every process."""
    cache0 = cache_outcomes(side.gateway_metrics)
    if phase == "fixed":
        users = args.locust_users or max(1, math.ceil(args.rate / 10))
        with FixedRate(side.gateway, requests, args.rate, args.seconds, users=users) as load:
            load.start()  # CPU counted from the measured start: the users' spawning is left out
            before, machine0, t0 = side.cpu_seconds(), busy_seconds(), time.monotonic()
            s = load.wait().summary()
    else:
        before, machine0, t0 = side.cpu_seconds(), busy_seconds(), time.monotonic()
        s = closed_loop(side.gateway, requests, args.seconds, connections=args.connections, threads=args.threads)
    after, machine1, elapsed = side.cpu_seconds(), busy_seconds(), time.monotonic() - t0
    n = max(1, s["requests"])
    cpu = {k: round((after[k] - before.get(k, 0.0)) * 1000 / n, 3) for k in after}
    cpu["services"] = round(sum(v for k, v in cpu.items() if k in SERVICES), 3)
    cpu["load_tool"] = round(s["tool_cpu_s"] * 1000 / n, 3)
    s["cpu_ms_per_request"] = cpu
    # what else kept the cores busy meanwhile (other stacks, tests): machine busy CPU less this side and its tool
    ours = sum(after[k] - before.get(k, 0.0) for k in after) + s["tool_cpu_s"]
    s["other_cores_busy"] = round(max(0.0, machine1 - machine0 - ours) / elapsed, 2) if elapsed > 0 else None
    s["targets"] = targets_met(phase, s)
    cache1 = cache_outcomes(side.gateway_metrics)
    hits, misses = (cache1.get(k, 0.0) - cache0.get(k, 0.0) for k in ("hit", "miss"))
    s["gateway_cache_hit_rate"] = round(hits / (hits + misses), 3) if cache1 and hits + misses > 0 else None
    return s


def cache_outcomes(metrics_url: str | None) -> dict[str, float]:
    """Returns the gateway's `gateway_response_cache_total` samples by outcome (empty: no such counter)."""
    if metrics_url is None:
        return {}
    try:
        with urllib.request.urlopen(metrics_url, timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("gateway_response_cache_total{"):
            sample, value = line.rsplit(" ", 1)
            out[sample.split('outcome="', 1)[1].split('"', 1)[0]] = float(value)
    return out


def busy_seconds() -> float:
    """Returns the machine's busy CPU seconds so far (all cores: everything but idle and iowait)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def targets_met(phase: str, s: dict[str, Any]) -> dict[str, bool]:
    """Returns {target: met} of a phase (figures to read, never assertions)."""
    t = TARGETS[phase]
    met = {
        f"p99 <= {t['p99_ms']:.0f} ms": (s["p99_ms"] if s["p99_ms"] is not None else 1e9) <= t["p99_ms"],
        "0 errors": s["errors"] <= t["errors"],
    }
    if phase == "closed":
        met[f">= {t['rps']:,.0f} req/s"] = s["rps"] >= t["rps"]
    else:
        met[f"offered {s['offered_rps']:,.0f} req/s held"] = s["rps"] >= 0.98 * s["offered_rps"]
    return met


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def print_table(results: dict[str, dict[str, dict]], sides: list[Side], args: argparse.Namespace) -> None:
    """Prints one row per phase and side: throughput, latency, errors and CPU ms per request per process."""
    short = {
        "ingestion": "ingest",
        "training": "train",
        "recommender": "recom",
        "explainer": "explain",
        "gateway": "gatew",
        "redis": "redis",
        "services": "svc sum",
        "load_tool": "tool",
    }
    cpu_cols = ["gateway", "recommender", "explainer", "ingestion", "training", "redis", "services", "load_tool"]
    head = (
        f"{'phase':<18} {'side':<22} {'req/s':>8} {'p50':>6} {'p95':>6} {'p99':>7} {'errors':>7}  CPU ms/req: "
        + " ".join(f"{short[c]:>7}" for c in cpu_cols)
    )
    print("\n" + head + "\n" + "-" * len(head))
    titles = {"fixed": f"fixed {args.rate:,.0f}/s", "closed": f"closed {args.connections} conn"}
    for phase, by_side in results.items():
        for side in sides:
            s = by_side.get(side.name)
            if s is None:
                continue
            cpu = s["cpu_ms_per_request"]
            print(
                f"{titles[phase]:<18} {side.label:<22} {s['rps']:>8,.0f} {_ms(s['p50_ms']):>6} {_ms(s['p95_ms']):>6} "
                f"{_ms(s['p99_ms']):>7} {s['errors']:>7}  {'':11}"
                + " ".join(f"{cpu.get(c, 0.0):>7.3f}" for c in cpu_cols)
            )
    print(
        "(latencies in ms; CPU ms per request of each process: user + system over the phase / requests answered; "
        "svc sum = the five services, tool = the load tool)"
    )
    for phase, by_side in results.items():
        for side in sides:
            s = by_side.get(side.name)
            if s is not None:
                verdict = ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in s["targets"].items())
                kinds = ", ".join(f"{k} {v['p99_ms']}" for k, v in (s.get("kinds") or {}).items())
                extra = f"; p99 by kind: {kinds}" if kinds else ""
                errs = f"; errors: {s.get('error_codes') or s.get('error_kinds')}" if s["errors"] else ""
                print(
                    f"  {titles[phase]}, {side.label}: {verdict}{extra}{errs}; other processes kept "
                    f"{s.get('other_cores_busy')} of {os.cpu_count()} cores busy"
                )


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Runs the phases on the old and the new stack; returns the summary."""
    workdir = Path(args.workdir).resolve()
    sample = shared_sample(workdir, args.users)
    sides: list[Side] = []
    with contextlib.ExitStack() as stack:
        if args.old != "none":
            checkout = stack.enter_context(worktree(args.old))
            rev = subprocess.run(
                ["git", "-C", str(REPO), "rev-parse", "--short", args.old], capture_output=True, text=True, check=True
            ).stdout.strip()
            old_dir = workdir / f"old-{rev}"
            seed_world(old_dir / f"world-{args.users}", sample, args.fresh)
            as_module = (checkout / "benchmarks" / "__init__.py").exists()
            entry = ["-m", "benchmarks.stack"] if as_module else [str(checkout / "benchmarks" / "stack.py")]
            sides.append(
                start_side(
                    "old",
                    f"old {rev}",
                    [sys.executable, *entry, "--workdir", str(old_dir), "--users", str(args.users)],
                    checkout,
                    code_env(checkout),
                    workdir / "logs" / "old-stack.log",
                )
            )
        new_dir = workdir / "new"
        seed_world(new_dir / f"world-{args.users}", sample, args.fresh)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        sides.append(
            start_side(
                "new",
                "new (working tree)",
                [sys.executable, "-m", "benchmarks.stack", "--workdir", str(new_dir), "--users", str(args.users)],
                REPO,
                env,
                workdir / "logs" / "new-stack.log",
            )
        )
        for side in sides:
            stack.callback(side.close)
        t0 = time.monotonic()
        for side in sides:
            wait_side(side, args.start_timeout)
        print(
            f"stacks ready in {time.monotonic() - t0:.0f} s: "
            + "; ".join(f"{s.label} {s.gateway} (model {s.world.model_version if s.world else '?'})" for s in sides)
            + f"; cores: {os.cpu_count()}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        lists = {
            s.name: Mix(s.world.anime_ids, s.world.user_ids, s.world.titles).requests(args.requests)
            for s in sides
            if s.world is not None
        }
        same = len({json.dumps([(r.method, r.path, r.body) for r in v]) for v in lists.values()}) == 1
        print(
            f"request list: {args.requests:,} requests, {'the same for both sides' if same else 'per side'} "
            f"(each side's popular ids {'agree' if same else 'DIFFER: each side gets its own list'})",
            flush=True,
        )
        if args.warmup > 0:
            for side in sides:
                closed_loop(
                    side.gateway, lists[side.name], args.warmup, connections=args.connections, threads=args.threads
                )
        results: dict[str, dict[str, dict]] = {}
        for i, phase in enumerate(args.phases):
            results[phase] = {}
            for side in sides if i % 2 == 0 else sides[::-1]:  # alternate who goes first (drift, warm caches)
                s = measure(side, phase, lists[side.name], args)
                results[phase][side.name] = s
                print(
                    f"  {phase:<6} {side.label:<22} {s['rps']:>8,.0f} req/s  p50 {_ms(s['p50_ms'])}  "
                    f"p99 {_ms(s['p99_ms'])} ms  errors {s['errors']}  "
                    f"CPU ms/req services {s['cpu_ms_per_request']['services']:.3f}, "
                    f"load tool {s['cpu_ms_per_request']['load_tool']:.3f}; other processes kept "
                    f"{s['other_cores_busy']} cores busy; gateway cache hit rate {s['gateway_cache_hit_rate']}",
                    flush=True,
                )
        per_kind: dict[str, dict[str, dict]] = {}
        if args.per_kind > 0:
            for kind in ("similar", "user_recs", "cold_start", "search"):
                per_kind[kind] = {}
                for side in sides:
                    only = [r for r in lists[side.name] if r.kind == kind]
                    before = side.cpu_seconds()
                    k = closed_loop(
                        side.gateway, only, args.per_kind, connections=args.connections, threads=args.threads
                    )
                    after = side.cpu_seconds()
                    services = sum(after[n] - before[n] for n in SERVICES) * 1000 / max(1, k["requests"])
                    per_kind[kind][side.name] = {
                        "rps": k["rps"],
                        "p50_ms": k["p50_ms"],
                        "p99_ms": k["p99_ms"],
                        "errors": k["errors"],
                        "services_cpu_ms": round(services, 3),
                    }
                    print(
                        f"  only {kind:<10} {side.label:<22} {k['rps']:>8,.0f} req/s  p99 {_ms(k['p99_ms'])} ms  "
                        f"errors {k['errors']}  services CPU ms/req {services:.3f}",
                        flush=True,
                    )
        print_table(results, sides, args)
    return {
        "old": args.old,
        "users": args.users,
        "seconds": args.seconds,
        "rate": args.rate,
        "connections": args.connections,
        "sides": {s.name: s.label for s in sides},
        "same_requests": same,
        "phases": results,
        "per_kind": per_kind,
        "loadavg_after": os.getloadavg()[0],
    }


# -- faults under load (this tree) ---------------------------------------------------------------------------
def fault_drills(args: argparse.Namespace) -> dict[str, Any]:
    """Runs the fault scenarios under a fixed offered rate on this tree's stack; returns their figures."""
    workdir = Path(args.workdir).resolve()
    world_dir = workdir / "new" / f"world-{args.users}"
    seed_world(world_dir, shared_sample(workdir, args.users), args.fresh)
    world = build_world(world_dir, users=args.users)
    # The recommender's in-process copy is off so that the cache hit rate is Redis' own.
    with (
        RedisServer() as redis,
        Stack(
            world,
            workdir / "logs" / "faults",
            redis_url=redis.url,
            GATEWAY_RATE_LIMIT_PER_MINUTE="0",
            RECOMMENDER_LOCAL_CACHE_TTL_SECONDS="0",
        ) as stack,
    ):
        ready = stack.start_all(timeout=300)
        print(
            f"stack ready: gateway {stack.url('gateway')}, model {ready.get('model_version')}; "
            f"locust offering {args.fault_rate:,.0f} req/s",
            flush=True,
        )
        mix = Mix(world.anime_ids, world.user_ids, world.titles)
        explain = {"user_id": world.user_ids[0], "anime_id": world.anime_ids[3]}
        scenarios = ["redis", "explainer", "recommender"] if args.fault == "all" else [args.fault]
        out: dict[str, Any] = {}
        for name in scenarios:
            print(f"--- fault: {name}", flush=True)
            if name == "redis":
                r = faults.redis_outage(stack, redis, mix, args.fault_rate, down=args.redis_down)
            elif name == "explainer":
                r = faults.explainer_killed(stack, mix, args.fault_rate, body=explain)
            else:
                r = faults.recommender_restarted(stack, mix, args.fault_rate)
            load = r["figures"]["load"]
            print(
                f"  load: {load['requests']} requests, {load['rps']} req/s, p50 {load['p50_ms']} ms, "
                f"p99 {load['p99_ms']} ms, errors {load['errors']} (statuses {load['statuses']})"
            )
            for k, v in r["figures"].items():
                if k != "load":
                    print(f"  {k}: {v}")
            print("  promises: " + ("all held" if not r["broken"] else "BROKEN: " + "; ".join(r["broken"])), flush=True)
            out[name] = {
                "broken": r["broken"],
                **{k: v for k, v in r["figures"].items() if k != "load"},
                "load": {k: load[k] for k in ("requests", "rps", "p99_ms", "errors", "statuses")},
            }
            stack.wait_ready(120)
    return {"faults": out, "rate": args.fault_rate}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", default=OLD, help=f"commit to compare with (default {OLD}); 'none': this tree only")
    p.add_argument("--seconds", "--duration", type=float, default=60.0, help="seconds of each measured phase")
    p.add_argument("--rate", type=float, default=1000.0, help="offered requests/s of the fixed-rate phase")
    p.add_argument("--connections", type=int, default=64, help="wrk connections of the closed-loop phase")
    p.add_argument(
        "--locust-users",
        type=int,
        default=0,
        help="locust users (one connection each) of the fixed-rate phase (default rate / 10: 100 ms per request)",
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--phases", default="fixed,closed", help="comma-separated phases: fixed, closed")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of unmeasured closed-loop load per side first")
    p.add_argument(
        "--per-kind",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="then each request kind alone, closed loop, for SECONDS per side (CPU cost per kind)",
    )
    p.add_argument("--requests", type=int, default=50_000, help="length of the seeded request list")
    p.add_argument("--users", type=int, default=1000, help="sample users of the generated world")
    p.add_argument("--workdir", default=str(REPO / "var" / "bench-load"), help="worlds and logs (kept)")
    p.add_argument("--fresh", action="store_true", help="rebuild both worlds")
    p.add_argument("--start-timeout", type=float, default=1200.0, help="seconds for a side to build and start")
    p.add_argument(
        "--fault",
        choices=["none", "redis", "explainer", "recommender", "all"],
        default="none",
        help="fault drills under load on this tree instead of the comparison",
    )
    p.add_argument("--fault-rate", type=float, default=300.0, help="offered requests/s during the fault drills")
    p.add_argument("--redis-down", type=float, default=20.0, help="seconds Redis stays stopped (--fault redis)")
    p.add_argument("--json", action="store_true", help="print a one-line JSON summary last")
    args = p.parse_args(argv)
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = [x for x in args.phases if x not in TARGETS]
    if unknown:
        p.error(f"unknown phases {unknown}; known: {', '.join(TARGETS)}")
    if not wrk_installed() and (args.fault == "none" and ("closed" in args.phases or args.warmup or args.per_kind)):
        p.error("wrk is not installed: `make bench-deps` (or apt-get install wrk), or --phases fixed --warmup 0")
    try:
        summary = fault_drills(args) if args.fault != "none" else compare(args)
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:  # a stack or a load tool failed
        print(f"bench_load: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
