"""Faults injected under load: Redis outage, explainer killed, recommender restarted.

Each scenario offers a fixed rate of the mix through the gateway with locust
(:class:`benchmarks.load.FixedRate`, its own process) while this process, on a timeline, breaks
one part of the stack and brings it back. It returns a dict of figures and a list of broken
promises (empty = all held), so ``bench_load.py --fault`` prints them and ``tests/reliability``
asserts them. Times are seconds since the start of the measured load.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from benchmarks.load import FixedRate, Mix, Records
from benchmarks.stack import RedisServer, Stack

Clock = Callable[[], float]

_METRIC = re.compile(r"^(recommender_cache_(?:hits|misses)_total)\{([^}]*)\}\s+([0-9.e+]+)$", re.M)


def cache_counters(stack: Stack) -> dict[str, float]:
    """Returns the recommender's cache counters {"local", "redis", "misses"} from its /metrics."""
    url = stack.metrics_url("recommender")
    if url is None:
        raise RuntimeError("the recommender runs with workers: no metrics port to read its cache counters from")
    text = httpx.get(url, timeout=5).text
    out = {"local": 0.0, "redis": 0.0, "memory": 0.0, "misses": 0.0}
    for name, labels, value in _METRIC.findall(text):
        if name.endswith("misses_total"):
            out["misses"] += float(value)
        else:
            layer = dict(re.findall(r'(\w+)="([^"]*)"', labels)).get("layer", "?")
            out[layer] = out.get(layer, 0.0) + float(value)
    return out


def hit_rates(a: dict[str, float], b: dict[str, float]) -> dict[str, float | None]:
    """Returns the overall and Redis-layer hit rates between two cache_counters() snapshots."""
    d = {k: b.get(k, 0.0) - a.get(k, 0.0) for k in b}
    lookups = d["local"] + d["redis"] + d.get("memory", 0.0) + d["misses"]
    shared = d["redis"] + d["misses"]  # lookups that reached Redis (the in-process copy missed)
    return {
        "lookups": lookups,
        "hit_rate": round((lookups - d["misses"]) / lookups, 3) if lookups else None,
        "redis_hit_rate": round(d["redis"] / shared, 3) if shared else None,
    }


def _5xx(result: Records) -> int:
    return sum(1 for r in result.records if r[2] >= 500 or r[2] == 0)


def under_load(
    stack: Stack,
    mix: Mix,
    rate: float,
    seconds: float,
    timeline: Callable[[Clock], None],
    stop_after_timeline: bool = False,
) -> Records:
    """Returns the Records of `rate` requests/s of the mix through the gateway while timeline(clock) runs.

    The load ends after `seconds`, or when the timeline has returned if stop_after_timeline.
    """
    with FixedRate(stack.url("gateway"), mix.requests(max(1000, int(rate * seconds) + 100)), rate, seconds) as load:
        started = load.start()
        try:
            timeline(lambda: time.time() - started)
        except BaseException:
            load.stop()
            raise
        return load.stop() if stop_after_timeline else load.wait()


def redis_outage(
    stack: Stack,
    redis: RedisServer,
    mix: Mix,
    rate: float = 300,
    before: float = 10,
    down: float = 20,
    after: float = 20,
) -> dict[str, Any]:
    """Stops the private Redis for `down` seconds under load; promises zero 5xx and a recovered hit rate."""
    marks: dict[str, Any] = {}

    def timeline(clock: Clock) -> None:
        time.sleep(before * 0.3)
        marks["c0"] = cache_counters(stack)
        time.sleep(before * 0.7)
        marks["c1"] = cache_counters(stack)
        marks["t_stop"] = clock()
        redis.stop()
        time.sleep(down)
        marks["c2"] = cache_counters(stack)
        redis.start()
        marks["t_start"] = clock()
        time.sleep(after * 0.4)  # the client reconnects by itself (retry every second), Redis refills
        marks["c3"] = cache_counters(stack)
        time.sleep(after * 0.6 - 1)
        marks["c4"] = cache_counters(stack)

    result = under_load(stack, mix, rate, before + down + after, timeline)
    figures = {
        "load": result.summary(),
        "redis_down_s": round(marks["t_start"] - marks["t_stop"], 1),
        "before": hit_rates(marks["c0"], marks["c1"]),
        "during": hit_rates(marks["c1"], marks["c2"]),
        "after": hit_rates(marks["c3"], marks["c4"]),
        "during_statuses": dict(result.statuses(marks["t_stop"], marks["t_start"])),
    }
    broken = []
    if _5xx(result):
        broken.append(f"{_5xx(result)} 5xx or dropped requests: {dict(result.codes())}")
    before_rate, after_rate = figures["before"]["hit_rate"] or 0, figures["after"]["hit_rate"] or 0
    if after_rate < 0.8 * before_rate:
        broken.append(f"hit rate did not recover: {before_rate} before, {after_rate} after")
    if not figures["after"]["redis_hit_rate"]:
        broken.append(f"no Redis hits after the restart: {figures['after']}")
    return {"figures": figures, "broken": broken}


def explainer_killed(
    stack: Stack,
    mix: Mix,
    rate: float = 300,
    before: float = 5,
    dead: float = 10,
    after: float = 10,
    body: dict | None = None,
) -> dict[str, Any]:
    """SIGKILLs the explainer under load; promises recommendations stay 200 and explanations say 503."""
    marks: dict[str, Any] = {}

    def timeline(clock: Clock) -> None:
        url = stack.url("gateway")
        time.sleep(before)
        marks["t_kill"] = clock()
        stack.kill("explainer", signal.SIGKILL)
        time.sleep(1)
        r = httpx.post(f"{url}/api/v1/explanations", json=body, timeout=10)
        marks["explain_dead"] = (r.status_code, r.json().get("error", {}).get("code"))
        time.sleep(max(0.0, dead - 1))
        stack.start("explainer")
        stack.wait_ready(60, "explainer")
        marks["t_back"] = clock()
        r = httpx.post(f"{url}/api/v1/explanations", json=body, timeout=10)
        marks["explain_back"] = (r.status_code, None)

    result = under_load(stack, mix, rate, before + dead + after, timeline)
    figures = {
        "load": result.summary(),
        "explanation_while_dead": marks["explain_dead"],
        "explanation_after_restart": marks["explain_back"],
        "statuses_while_dead": dict(result.statuses(marks["t_kill"], marks["t_back"])),
    }
    broken = []
    if result.summary()["errors"]:
        broken.append(f"recommendation routes failed while the explainer was down: {dict(result.codes())}")
    if marks["explain_dead"] != (503, "upstream_unavailable"):
        broken.append(
            f"explanations while the explainer is dead: {marks['explain_dead']}, not 503 upstream_unavailable"
        )
    if marks["explain_back"][0] != 200:
        broken.append(f"explanations after the restart: {marks['explain_back']}")
    return {"figures": figures, "broken": broken}


def recommender_restarted(
    stack: Stack, mix: Mix, rate: float = 300, before: float = 5, after: float = 15, recover_within: float = 90
) -> dict[str, Any]:
    """Restarts the recommender under load; promises 503 upstream_unavailable for its routes only, then recovery."""
    marks: dict[str, Any] = {"other_routes": Counter()}

    def timeline(clock: Clock) -> None:
        url = stack.url("gateway")
        time.sleep(before)
        marks["t_stop"] = clock()
        stack.kill("recommender", signal.SIGTERM)
        with httpx.Client(base_url=url, timeout=10) as c:
            for _ in range(3):  # routes of other services keep working while it is down
                marks["other_routes"][c.get("/api/v1/models").status_code] += 1
            stack.start("recommender")
            deadline = time.monotonic() + recover_within
            while time.monotonic() < deadline:
                marks["other_routes"][c.get("/api/v1/models").status_code] += 1
                if stack.ready("recommender"):
                    break
                time.sleep(0.5)
        marks["t_ready"] = clock()
        time.sleep(after)

    result = under_load(stack, mix, rate, before + recover_within + after, timeline, stop_after_timeline=True)
    t_ready = marks["t_ready"]
    bad_codes = Counter(f"{r[2]}:{r[4]}" for r in result.records if r[2] != 200)
    figures = {
        "load": result.summary(),
        "down_until_ready_s": round(t_ready - marks["t_stop"], 1),
        "non_200": dict(bad_codes),
        "other_routes": dict(marks["other_routes"]),
        "after_ready": dict(result.statuses(t_ready + 2, None)),
    }
    broken = []
    unexpected = {k: v for k, v in bad_codes.items() if k not in ("503:upstream_unavailable", "503:not_ready")}
    if unexpected:
        broken.append(f"answers other than 200 / 503 upstream_unavailable / 503 not_ready: {unexpected}")
    if set(marks["other_routes"]) != {200}:
        broken.append(f"GET /api/v1/models (training) failed while the recommender was down: {marks['other_routes']}")
    if figures["after_ready"] and set(figures["after_ready"]) != {"200"}:
        broken.append(f"not recovered 2 s after the recommender was ready: {figures['after_ready']}")
    if not figures["after_ready"]:
        broken.append("no requests after the recommender came back")
    return {"figures": figures, "broken": broken}
