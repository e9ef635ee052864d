"""Faults under load through the gateway (shorter than `bench_load --fault all`, same scenarios).

The load is locust offering a fixed rate of similar-anime and user-recommendation requests
(benchmarks.load.FixedRate, its own process); the faults are injected from this process.

- Redis stopped then restarted: zero 5xx, and the cache hit rate (Redis layer included) recovers.
- Explainer SIGKILLed: recommendation routes stay 200; explanations answer 503 upstream_unavailable.
- Recommender restarted: its routes answer 503 upstream_unavailable (or not_ready while it loads),
  the training route keeps answering, and the gateway recovers by itself.
"""

from __future__ import annotations

import httpx

from benchmarks import faults
from benchmarks.load import Mix

RATE = 100  # offered requests/s: light enough for 2 cores shared with the whole stack


def _mix(world) -> Mix:
    return Mix(world.anime_ids, world.user_ids, world.titles, mix=(("similar", 0.6), ("user_recs", 0.4)))


def test_redis_outage_under_load_no_5xx_and_hit_rate_recovers(healthy_stack, private_redis, world):
    out = faults.redis_outage(healthy_stack, private_redis, _mix(world), RATE, before=8, down=10, after=12)
    print(out["figures"])
    assert out["broken"] == [], out
    assert out["figures"]["load"]["requests"] > 50
    # Redis was really gone (a hit or two may straddle the snapshot taken just before the stop)
    assert (out["figures"]["during"]["redis_hit_rate"] or 0) < 0.05, out["figures"]


def test_explainer_killed_recommendations_still_200(healthy_stack, world):
    body = {"user_id": world.user_ids[0], "anime_id": world.anime_ids[3]}
    out = faults.explainer_killed(healthy_stack, _mix(world), RATE, before=3, dead=6, after=3, body=body)
    print(out["figures"])
    assert out["broken"] == [], out
    assert out["figures"]["statuses_while_dead"].get("200", 0) > 10


def test_recommender_restart_gives_503_for_its_routes_only_and_recovers(healthy_stack, world):
    out = faults.recommender_restarted(healthy_stack, _mix(world), RATE, before=3, after=4, recover_within=90)
    print(out["figures"])
    assert out["broken"] == [], out
    assert out["figures"]["non_200"].get("503:upstream_unavailable", 0) > 0, "the restart was not seen"
    with httpx.Client(base_url=healthy_stack.url("gateway"), timeout=10) as c:
        r = c.get(f"/api/v1/anime/{world.anime_ids[0]}/similar", params={"n": 5})
        assert r.status_code == 200 and r.json()["model_version"] == world.model_version
