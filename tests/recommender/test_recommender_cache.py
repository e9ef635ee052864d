"""Redis cache of similarity results: same answer on hit and miss, counters, Redis down still 200."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
import redis
from recommender_live import LiveServer, free_port, make_settings, wait_port


def _counter(metrics: str, name: str, kind: str) -> float:
    total = 0.0
    for m in re.finditer(rf'^{name}_total\{{([^}}]*)\}} ([0-9.e+]+)$', metrics, re.M):
        if f'kind="{kind}"' in m.group(1):
            total += float(m.group(2))
    return total


def test_cache_hit_and_miss_give_same_answer(planted_server, redis_url):
    url = f"{planted_server.url}/anime/7/similar"
    before = httpx.get(f"{planted_server.url}/metrics").text
    first = httpx.get(url, params={"n": 7, "min_members": 2000})
    second = httpx.get(url, params={"n": 7, "min_members": 2000})
    assert first.status_code == second.status_code == 200
    assert first.json()["items"] == second.json()["items"]
    after = httpx.get(f"{planted_server.url}/metrics").text
    assert _counter(after, "recommender_cache_misses", "similar_anime") == \
        _counter(before, "recommender_cache_misses", "similar_anime") + 1
    assert _counter(after, "recommender_cache_hits", "similar_anime") >= \
        _counter(before, "recommender_cache_hits", "similar_anime") + 1
    keys = redis.Redis.from_url(redis_url).keys("animerec:rec:similar_anime:v-planted-1:7:*")
    assert keys, "the result was not stored in Redis"
    recs = [httpx.get(f"{planted_server.url}/users/9/recommendations").json()["items"] for _ in range(2)]
    assert recs[0] == recs[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary needed")
def test_redis_stopped_mid_test_still_answers(planted_storage):
    from animerec_recommender.app import create_app

    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        app = create_app(make_settings(planted_storage.root, f"redis://127.0.0.1:{port}/0",
                                       recommender_local_cache_ttl=0))
        with LiveServer(app) as server:
            server.wait_ready()
            ok = httpx.get(f"{server.url}/anime/3/similar", params={"n": 5})
            assert ok.status_code == 200
            assert redis.Redis(port=port).dbsize() >= 1
            proc.kill()
            proc.wait(timeout=10)
            for n in (5, 6, 7, 5):  # cached key and new keys alike
                r = httpx.get(f"{server.url}/anime/3/similar", params={"n": n})
                assert r.status_code == 200 and len(r.json()["items"]) == n
                assert httpx.get(f"{server.url}/users/2/recommendations").status_code == 200
            metrics = httpx.get(f"{server.url}/metrics").text
            assert re.search(r"^recommender_cache_errors_total [1-9]", metrics, re.M)
            # Redis back on the same port: the service reconnects and caches again
            proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_port(port)
            import time

            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and redis.Redis(port=port).dbsize() == 0:
                assert httpx.get(f"{server.url}/anime/4/similar", params={"n": 3}).status_code == 200
                time.sleep(0.3)
            assert redis.Redis(port=port).dbsize() >= 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
