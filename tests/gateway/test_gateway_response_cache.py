"""The gateway's response cache: what it keeps, what it replays, and what empties it (over real HTTP)."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
from gateway_fakes import ADMIN_TOKEN, Stack

from animerec_gateway.response_cache import (
    MAX_ENTRY_BYTES,
    CachedAnswer,
    ResponseCache,
    ResponseCacheMiddleware,
    cacheable_path,
)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def stack():
    with Stack(response_cache_ttl_seconds=60) as s:  # long: nothing expires during a test
        yield s


@pytest.fixture
def client(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        yield c


def upstream_calls(stack: Stack) -> int:
    return len(stack.world.params)


def metric(text: str, name: str, **labels: str) -> float:
    """Returns the value of one sample of the /metrics text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            sample, value = line.rsplit(" ", 1)
            found = dict(re.findall(r'(\w+)="([^"]*)"', sample))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(value)
    return 0.0


def test_second_identical_get_is_served_from_the_cache(stack, client):
    before = upstream_calls(stack)
    first = client.get("/api/v1/anime/5114/similar?n=3", headers={"X-Request-ID": "first-request"})
    second = client.get("/api/v1/anime/5114/similar?n=3", headers={"X-Request-ID": "second-request"})
    third = client.get("/api/v1/anime/5114/similar?n=3")
    assert first.status_code == second.status_code == third.status_code == 200
    assert upstream_calls(stack) == before + 1
    assert stack.world.request_ids[-1] == "first-request"  # only the first one reached the recommender
    assert (first.headers["x-cache"], second.headers["x-cache"], third.headers["x-cache"]) == ("miss", "hit", "hit")
    assert second.content == first.content and second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["content-length"] == first.headers["content-length"]
    # each answer carries the id of its own request, not the cached one's
    assert first.headers["x-request-id"] == "first-request"
    assert second.headers["x-request-id"] == "second-request"
    assert third.headers["x-request-id"] not in ("first-request", "second-request")


def test_another_query_string_is_a_miss(stack, client):
    before = upstream_calls(stack)
    answers = [
        client.get(url)
        for url in (
            "/api/v1/anime?q=alchemist&limit=2",
            "/api/v1/anime?q=alchemist&limit=1",
            "/api/v1/anime?limit=2&q=alchemist",
            "/api/v1/anime?q=alchemist&limit=2",
        )
    ]
    assert [a.headers["x-cache"] for a in answers] == ["miss", "miss", "miss", "hit"]
    assert upstream_calls(stack) == before + 3
    assert len(answers[1].json()["items"]) == 1 and len(answers[0].json()["items"]) == 2


def test_error_answers_and_posts_are_not_cached(stack, client):
    before = upstream_calls(stack)
    missing = [client.get("/api/v1/anime/424242") for _ in range(2)]
    assert [m.status_code for m in missing] == [404, 404]
    assert [m.headers["x-cache"] for m in missing] == ["miss", "miss"]
    body = {"liked": [5114], "n": 2}
    posts = [client.post("/api/v1/recommendations", json=body) for _ in range(2)]
    assert [p.status_code for p in posts] == [200, 200] and "x-cache" not in posts[1].headers
    assert upstream_calls(stack) == before + 4


def test_models_and_admin_routes_are_not_cached(stack, client):
    before = upstream_calls(stack)
    models = [client.get("/api/v1/models") for _ in range(2)]
    assert [m.status_code for m in models] == [200, 200] and "x-cache" not in models[1].headers
    assert upstream_calls(stack) == before + 2
    runs = client.get("/api/v1/admin/training-runs", headers=AUTH)
    assert runs.status_code == 200 and "x-cache" not in runs.headers
    assert not cacheable_path("/api/v1/admin/training-runs") and not cacheable_path("/api/v1/models")
    assert (
        not cacheable_path("/") and not cacheable_path("/healthz") and cacheable_path("/api/v1/users/7/recommendations")
    )


def test_per_user_answers_are_kept_in_process_and_still_sent_private(stack, client):
    # Cache-Control: private is for the client and shared HTTP caches; the gateway's own store keeps them
    before = upstream_calls(stack)
    for url in ("/api/v1/users/11/recommendations?n=3", "/api/v1/users/11/continue", "/api/v1/users/11/preferences"):
        first, second = client.get(url), client.get(url)
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit"), url
        assert first.headers["cache-control"] == second.headers["cache-control"] == "private", url
        assert second.content == first.content
    assert upstream_calls(stack) == before + 3
    other = client.get("/api/v1/users/12/recommendations?n=3")  # the user id is in the key
    assert other.headers["x-cache"] == "miss" and upstream_calls(stack) == before + 4


def test_a_cached_answer_is_counted_under_its_route(client, stack):
    route = {"route": "/api/v1/users/{user_id}/preferences", "status": "200"}
    before = metric(stack.metrics(), "http_requests_total", **route)
    for _ in range(3):
        assert client.get("/api/v1/users/8/preferences").status_code == 200
    text = stack.metrics()
    assert metric(text, "http_requests_total", **route) == before + 3
    assert metric(text, "gateway_response_cache_total", outcome="hit") >= 2
    assert metric(text, "gateway_response_cache_total", outcome="miss") >= 1


def test_promotion_empties_the_cache(stack, client):
    stack.world.versions.append("v9")
    url = "/api/v1/users/7/recommendations?n=2"
    assert client.get(url).json()["model_version"] == stack.world.served
    assert client.get(url).headers["x-cache"] == "hit"
    r = client.post("/api/v1/admin/models/v9/promote", headers=AUTH)
    assert r.status_code == 200 and r.json()["model_version"] == "v9"
    after = client.get(url)
    assert after.headers["x-cache"] == "miss" and after.json()["model_version"] == "v9"


def test_training_run_reload_empties_the_cache(stack, client):
    url = "/api/v1/users/7/continue"
    client.get(url)
    assert client.get(url).headers["x-cache"] == "hit"
    r = client.post("/api/v1/admin/training-runs", headers=AUTH, json={"processed_id": "proc-2", "promote": "always"})
    run_id = r.json()["id"]
    for _ in range(400):
        run = client.get(f"/api/v1/admin/training-runs/{run_id}", headers=AUTH).json()
        if run["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    assert run["state"] == "succeeded" and run["model_version"] == stack.world.served
    after = client.get(url)
    assert after.headers["x-cache"] == "miss" and after.json()["model_version"] == run["model_version"]


def test_admin_requests_without_passing_auth_leave_the_cache_alone(stack, client):
    url = "/api/v1/anime/9253"
    client.get(url)
    before = upstream_calls(stack)
    assert client.post("/api/v1/admin/models/v1/promote").status_code == 401
    assert client.post("/api/v1/admin/models/v1/promote", headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.post("/api/v1/admin/training-runs", json={}).status_code == 401
    assert client.get("/api/v1/admin/training-runs").status_code == 401
    assert client.get(url).headers["x-cache"] == "hit"
    assert upstream_calls(stack) == before


def test_rate_limit_applies_to_cached_answers():
    with Stack(rate_limit_per_minute=60, rate_limit_burst=3) as s, httpx.Client(base_url=s.url, timeout=10) as c:
        answers = [c.get("/api/v1/anime/5114") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers.get("x-cache") for a in answers] == ["miss", "hit", "hit", None]
        assert answers[3].json()["error"]["code"] == "rate_limited" and answers[3].headers["retry-after"]
        assert len({a.headers["x-request-id"] for a in answers}) == 4
        assert len(s.world.params) == 1
        text = s.metrics()
        assert metric(text, "gateway_rate_limited_total") == 1
        assert metric(text, "http_requests_total", route="/api/v1/anime/{anime_id}", status="200") == 3


def test_ttl_zero_turns_the_cache_off():
    with Stack(response_cache_ttl_seconds=0) as s, httpx.Client(base_url=s.url, timeout=10) as c:
        answers = [c.get("/api/v1/anime/5114/similar?n=2") for _ in range(2)]
        assert [a.status_code for a in answers] == [200, 200] and "x-cache" not in answers[1].headers
        assert len(s.world.params) == 2
        assert "gateway_response_cache_total" not in s.metrics()


# --- the middleware alone, over a bare ASGI app ---------------------------------------------------------------


def call(middleware: ResponseCacheMiddleware, path: str = "/api/v1/anime/1") -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def counting_app(ctype: bytes = b"application/json", extra: tuple = (), chunks: tuple[bytes, ...] = (b"{}",)):
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", ctype), (b"x-request-id", b"inner"), *extra],
            }
        )
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i + 1 < len(chunks)})

    return app, calls


def test_streamed_json_is_kept_whole_without_its_request_id():
    app, calls = counting_app(chunks=(b'{"a":', b"1}"))
    mw = ResponseCacheMiddleware(app, ResponseCache(60, 10))
    first, second = call(mw), call(mw)
    assert len(calls) == 1 and second[2] == first[2] == b'{"a":1}'
    assert second[1][b"x-cache"] == b"hit" and b"x-request-id" not in second[1]


@pytest.mark.parametrize(
    "ctype, extra, chunks",
    [
        (b"text/html", (), (b"<p>",)),
        (b"application/json", ((b"cache-control", b"no-store"),), (b"{}",)),
        (b"application/json", (), (b"[" + b"1," * (MAX_ENTRY_BYTES // 2), b"1]")),
    ],
)
def test_non_json_no_store_and_large_answers_are_not_kept(ctype, extra, chunks):
    app, calls = counting_app(ctype, extra, chunks)
    mw = ResponseCacheMiddleware(app, ResponseCache(60, 10))
    call(mw)
    assert call(mw)[1][b"x-cache"] == b"miss" and len(calls) == 2


def test_a_private_answer_is_kept_and_replayed_private():
    app, calls = counting_app(extra=((b"cache-control", b"private"),))
    mw = ResponseCacheMiddleware(app, ResponseCache(60, 10))
    first, second = call(mw, "/api/v1/users/3/recommendations"), call(mw, "/api/v1/users/3/recommendations")
    assert len(calls) == 1 and second[1][b"x-cache"] == b"hit"
    assert first[1][b"cache-control"] == second[1][b"cache-control"] == b"private"


def test_an_answer_made_across_a_clear_is_not_stored():
    cache = ResponseCache(60, 10)
    generation = cache.generation
    cache.clear()
    cache.put("/api/v1/anime/1?", CachedAnswer(200, (), b"{}", None), generation)
    assert cache.get("/api/v1/anime/1?") is None and len(cache) == 0
    assert not ResponseCache(0, 10).enabled


def test_answers_expire_after_the_ttl():
    app, calls = counting_app()
    mw = ResponseCacheMiddleware(app, ResponseCache(0.2, 10))
    call(mw)
    assert call(mw)[1][b"x-cache"] == b"hit"
    time.sleep(0.25)
    assert call(mw)[1][b"x-cache"] == b"miss" and len(calls) == 2
