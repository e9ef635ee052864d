"""The cache contract: in-process LRU and real Redis, including Redis being unreachable."""

from __future__ import annotations

import time

import redis

from animerec_shared.cache import LocalCache, RedisCache, open_cache
from benchmarks.stack import RedisServer


def test_local_cache_returns_stored_value_until_ttl_expires():
    now = [100.0]
    c = LocalCache(timer=lambda: now[0])
    c.set_json("k", {"a": [1, 2]}, ttl=1)
    assert c.get_json("k") == {"a": [1, 2]}
    now[0] += 1.5  # past its TTL
    assert c.get_json("k") is None
    assert c.stats.as_dict() == {"hits": 1, "misses": 1, "errors": 0}


def test_local_cache_evicts_least_recently_used_when_full():
    c = LocalCache(max_entries=2)
    c.set_json("a", 1, 60)
    c.set_json("b", 2, 60)
    assert c.get_json("a") == 1  # a is now most recent
    c.set_json("c", 3, 60)
    assert c.get_json("b") is None
    assert c.get_json("a") == 1 and c.get_json("c") == 3


def test_open_cache_without_url_is_in_process():
    assert open_cache(None).backend == "memory"


def test_redis_cache_roundtrip_with_real_redis(redis_url):
    c = open_cache(redis_url)
    assert c.backend == "redis"
    key = f"test:{time.time_ns()}"
    assert c.get_json(key) is None
    c.set_json(key, {"x": 1}, ttl=30)
    assert c.get_json(key) == {"x": 1}
    assert redis.Redis.from_url(redis_url).ttl(key) > 0
    assert c.stats.hits == 1 and c.stats.misses == 1


def test_redis_cache_degrades_to_misses_and_recovers_when_redis_restarts():
    server = RedisServer().start()
    try:
        c = RedisCache(server.url, retry_after=0.2)
        c.set_json("k", 1, 60)
        assert c.get_json("k") == 1
        server.stop()
        assert c.get_json("k") is None  # down: a miss, not an exception
        c.set_json("k2", 2, 60)  # down: skipped silently
        assert c.stats.errors >= 1
        server.start()  # same port
        time.sleep(0.3)
        c.set_json("k3", 3, 60)
        assert c.get_json("k3") == 3
    finally:
        server.stop()
