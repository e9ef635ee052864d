"""The recommender's one result cache: same answer on hit and miss, counters, Redis down still 200, model swaps."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
import recommender_fixtures as rf
import redis
from recommender_live import LiveServer, free_port, make_settings, wait_port


def _counter(metrics: str, name: str, kind: str, layer: str | None = None) -> float:
    total = 0.0
    for m in re.finditer(rf"^{name}_total\{{([^}}]*)\}} ([0-9.e+]+)$", metrics, re.M):
        if f'kind="{kind}"' in m.group(1) and (layer is None or f'layer="{layer}"' in m.group(1)):
            total += float(m.group(2))
    return total


def test_cache_hit_and_miss_give_same_answer(planted_server, redis_url):
    url = f"{planted_server.url}/anime/7/similar"
    before = planted_server.metrics()
    first = httpx.get(url, params={"n": 7, "min_members": 2000})
    second = httpx.get(url, params={"n": 7, "min_members": 2000})
    assert first.status_code == second.status_code == 200
    a, b = first.json(), second.json()
    assert a.pop("took_ms") >= 0 and b.pop("took_ms") >= 0
    assert a == b and a["model_version"] == "v-planted-1" and a["method"] == "collaborative"
    after = planted_server.metrics()
    assert (
        _counter(after, "recommender_cache_misses", "similar_anime")
        == _counter(before, "recommender_cache_misses", "similar_anime") + 1
    )
    assert (
        _counter(after, "recommender_cache_hits", "similar_anime", "local")
        == _counter(before, "recommender_cache_hits", "similar_anime", "local") + 1
    )  # the second from the process
    keys = redis.Redis.from_url(redis_url).keys("animerec:rec:similar_anime:v-planted-1:7:*")
    assert keys, "the result was not stored in Redis"
    recs = [httpx.get(f"{planted_server.url}/users/9/recommendations").json()["items"] for _ in range(2)]
    assert recs[0] == recs[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary needed")
def test_redis_stopped_mid_test_still_answers(planted_storage):
    from animerec_recommender.app import create_app

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        app = create_app(make_settings(planted_storage.root, f"redis://127.0.0.1:{port}/0", local_cache_ttl_seconds=0))
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
            metrics = server.metrics()
            assert re.search(r"^recommender_cache_errors_total [1-9]", metrics, re.M)
            # Redis back on the same port: the service reconnects and caches again
            proc = subprocess.Popen(
                ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
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


def test_every_caching_route_hits_on_its_second_identical_request(planted_storage):
    from animerec_recommender.app import create_app

    with LiveServer(create_app(make_settings(planted_storage.root, None))) as server:
        server.wait_ready()
        calls = {
            "search": ("GET", "/anime", {"q": "planted", "limit": 5}),
            "similar_anime": ("GET", "/anime/5/similar", {"n": 4, "method": "content"}),
            "similar_users": ("GET", "/users/3/similar", {"n": 4}),
            "user_recs": ("GET", "/users/3/recommendations", {"n": 4, "strategy": "item_item"}),
            "user_continue": ("GET", "/users/3/continue", {"n": 4}),
            "cold_start": ("POST", "/recommendations", {"json": {"liked": [5, 6], "n": 4}}),
        }
        for kind, (method, path, params) in calls.items():
            kw = params if method == "POST" else {"params": params}
            before = server.metrics()
            first, second = (httpx.request(method, server.url + path, **kw) for _ in range(2))
            after = server.metrics()
            assert first.status_code == second.status_code == 200, (kind, first.text)
            a, b = first.json(), second.json()
            assert isinstance(a.pop("took_ms"), float) and isinstance(b.pop("took_ms"), float)
            assert a == b and a["model_version"] == "v-planted-1", kind
            assert (
                _counter(after, "recommender_cache_misses", kind)
                == _counter(before, "recommender_cache_misses", kind) + 1
            ), kind
            assert (
                _counter(after, "recommender_cache_hits", kind, "local")
                == _counter(before, "recommender_cache_hits", kind, "local") + 1
            ), kind
        # answers carry the fields of their kind only, as they always did (no nulls for what a list lacks)
        similar = httpx.get(f"{server.url}/anime/5/similar", params={"n": 4}).json()
        assert set(similar) == {"items", "method", "pagination", "model_version", "took_ms"}
        assert "similarity" not in similar["items"][0] and 0 <= similar["items"][0]["relevance"] <= 1
        recs = httpx.get(f"{server.url}/users/3/recommendations", params={"n": 4}).json()
        assert set(recs) == {"items", "continue", "strategy", "pagination", "model_version", "took_ms"}
        assert "similarity" not in recs["items"][0] and "franchise" in recs["items"][0]
        assert set(httpx.get(f"{server.url}/anime", params={"limit": 3}).json()) == {
            "items",
            "pagination",
            "model_version",
            "took_ms",
        }
        # errors are not cached: the same unknown id is a 404 each time
        for _ in range(2):
            assert httpx.get(f"{server.url}/anime/999999/similar").status_code == 404


def test_redis_unreachable_from_the_start_answers_from_the_process(planted_storage):
    from animerec_recommender.app import create_app

    app = create_app(make_settings(planted_storage.root, f"redis://127.0.0.1:{free_port()}/0"))
    with LiveServer(app) as server:
        server.wait_ready()
        answers = [httpx.get(f"{server.url}/users/4/recommendations", params={"n": 5}) for _ in range(2)]
        assert [r.status_code for r in answers] == [200, 200]
        assert answers[0].json()["items"] == answers[1].json()["items"]
        metrics = server.metrics()
        assert re.search(r"^recommender_cache_errors_total [1-9]", metrics, re.M)
        assert _counter(metrics, "recommender_cache_hits", "user_recs", "local") == 1


def test_model_swap_never_serves_the_old_versions_list(tmp_path):
    from animerec_recommender.app import create_app
    from animerec_recommender.routes import similarity_relevance
    from animerec_recommender.similarity import similar_anime
    from animerec_shared.contracts.recommender import Filters
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path / "storage")
    pid, _ = rf.publish_planted(storage, version="v-cache-1")
    app = create_app(make_settings(storage.root, None, tune=False))
    with LiveServer(app) as server:
        server.wait_ready()
        url = f"{server.url}/anime/7/similar"
        old = [httpx.get(url, params={"n": 6}).json() for _ in range(2)]  # computed, then cached under v-cache-1
        assert [a["model_version"] for a in old] == ["v-cache-1"] * 2
        rf.publish_svd_model(storage, pid, "v-cache-2", dim=4, promote=False)  # a coarser model
        assert httpx.post(f"{server.url}/admin/reload", json={"version": "v-cache-2"}, timeout=60).status_code == 200
        before = server.metrics()
        answer = httpx.get(url, params={"n": 6}).json()
        after = server.metrics()
        assert answer["model_version"] == "v-cache-2"
        assert (
            _counter(after, "recommender_cache_misses", "similar_anime")
            == _counter(before, "recommender_cache_misses", "similar_anime") + 1
        )
        items, method = similar_anime(app.state.holder.state, 7, "collaborative", 6, Filters())
        assert answer["items"] == similarity_relevance(items) and answer["method"] == method
        assert answer["items"] != old[0]["items"]  # the versions rank apart: a stale list would show
