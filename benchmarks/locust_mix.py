"""locust at a fixed offered rate, as a library, headless: the child process of ``benchmarks.load.FixedRate``.

    .venv/bin/python -m benchmarks.locust_mix --host http://127.0.0.1:8000 --rate 1000 --seconds 60 \\
        --requests requests.json --out records.json [--users 250] [--timeout 10]

requests.json: a list of [kind, method, path, body]. FastHttpUser users (one keep-alive connection
each) with ``constant_throughput(rate / users)``: each user sends the list's requests in turn,
starting at its own offset. The users are spawned over a short ramp first (at most 100 per second);
then a line ``locust-mix: measuring <epoch seconds>`` on stdout marks the start of the measured
part, which ends after --seconds or on SIGTERM. Every request is recorded through locust's request
event (start relative to the measured start, kind, status (0: no answer), latency, error code) and
written to --out with the CPU seconds this process used over the measured part.

Its own process because locust patches the interpreter with gevent on import (the standard modules
imported before it here are ones gevent patches in place).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import signal
import sys
import time

import gevent
from locust import FastHttpUser, constant_throughput, events, task
from locust.env import Environment

from benchmarks.load import error_code

JSON_HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
PLAIN_HEADERS = {"Accept-Encoding": "identity"}  # as wrk: no compressed answers


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", required=True, help="base URL (the gateway)")
    p.add_argument("--rate", type=float, required=True, help="offered requests per second in total")
    p.add_argument("--users", type=int, default=0, help="users (default: rate / 4)")
    p.add_argument("--seconds", type=float, required=True, help="length of the measured part")
    p.add_argument("--timeout", type=float, default=10.0, help="connect and network timeout of a request")
    p.add_argument("--requests", required=True, help="JSON list of [kind, method, path, body]")
    p.add_argument("--out", required=True, help="where the records go (JSON)")
    args = p.parse_args(argv)

    with open(args.requests) as f:
        reqs = [tuple(r) for r in json.load(f)]
    n = len(reqs)
    users = args.users or max(1, math.ceil(args.rate / 4))
    ramp = max(1.0, users / 100)
    offsets = itertools.count()
    records: list[tuple[float, str, int, float, str]] = []
    start = time.time() + ramp  # the measured part begins once every user is spawned

    class MixUser(FastHttpUser):
        host = args.host
        wait_time = constant_throughput(args.rate / users)
        network_timeout = args.timeout
        connection_timeout = args.timeout
        max_retries = 0

        def on_start(self) -> None:
            self.i = next(offsets) * n // users

        @task
        def one(self) -> None:
            kind, method, path, body = reqs[self.i % n]
            self.i += 1
            if body:
                self.client.request(method, path, name=kind, data=body, headers=JSON_HEADERS)
            else:
                self.client.request(method, path, name=kind, headers=PLAIN_HEADERS)

    @events.request.add_listener
    def record(
        request_type, name, response_time, response_length, response=None, exception=None, start_time=None, **_kw
    ) -> None:
        status = int(getattr(response, "status_code", 0) or 0)
        if status >= 400:
            code = error_code(getattr(response, "content", b""))
        elif status == 0:
            code = type(exception).__name__ if exception is not None else "no_answer"
        else:
            code = ""
        records.append((round((start_time or time.time()) - start, 4), name, status, response_time / 1000, code))

    env = Environment(user_classes=[MixUser], events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users / ramp)
    gevent.sleep(max(0.0, start - time.time()))
    cpu0 = _cpu()
    print(f"locust-mix: measuring {start:.6f}", flush=True)
    gevent.signal_handler(signal.SIGTERM, runner.quit)
    gevent.spawn_later(args.seconds, runner.quit)
    runner.greenlet.join()
    cpu = _cpu() - cpu0
    with open(args.out, "w") as f:
        json.dump(
            {
                "started": start,
                "seconds": args.seconds,
                "rate": args.rate,
                "users": users,
                "cpu_s": cpu,
                "records": records,
            },
            f,
        )
    print(f"locust-mix: done {len(records)} requests, {cpu:.2f} CPU s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
