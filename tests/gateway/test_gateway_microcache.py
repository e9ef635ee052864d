"""The gateway's edge micro-cache: repeated public GETs answered from a short-lived copy, errors never kept."""

from __future__ import annotations

import time

import httpx
import pytest
from gateway_fakes import MISSING_USER, Stack


@pytest.fixture(scope="module")
def stack():
    with Stack(gateway_micro_cache_ttl_s=0.5) as s:
        yield s


def test_repeated_get_is_served_from_the_micro_cache_with_its_own_request_id(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        first = c.get("/api/v1/anime/5114/similar", params={"n": 3}, headers={"X-Request-ID": "mc-1"})
        seen = len(stack.world.request_ids)
        second = c.get("/api/v1/anime/5114/similar", params={"n": 3}, headers={"X-Request-ID": "mc-2"})
    assert first.status_code == second.status_code == 200
    assert "x-gateway-cache" not in first.headers and second.headers["x-gateway-cache"] == "hit"
    assert second.content == first.content
    assert second.headers["x-request-id"] == "mc-2"
    assert len(stack.world.request_ids) == seen  # the upstream was not asked again


def test_micro_cache_copy_expires_after_its_ttl(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        c.get("/api/v1/anime/121")
        seen = len(stack.world.request_ids)
        time.sleep(0.6)
        r = c.get("/api/v1/anime/121")
    assert r.status_code == 200 and "x-gateway-cache" not in r.headers
    assert len(stack.world.request_ids) == seen + 1


def test_micro_cache_keys_on_the_query_string(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        a = c.get("/api/v1/anime/5114/similar", params={"n": 1})
        b = c.get("/api/v1/anime/5114/similar", params={"n": 2})
    assert len(a.json()["items"]) == 1 and len(b.json()["items"]) == 2


def test_error_answers_are_never_micro_cached(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        seen = len(stack.world.request_ids)
        codes = [c.get(f"/api/v1/users/{MISSING_USER}/recommendations").status_code for _ in range(2)]
    assert codes == [404, 404]
    assert len(stack.world.request_ids) == seen + 2


def test_cors_and_no_cache_requests_bypass_the_micro_cache(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        c.get("/api/v1/anime/1535")
        seen = len(stack.world.request_ids)
        r1 = c.get("/api/v1/anime/1535", headers={"Cache-Control": "no-cache"})
        r2 = c.get("/api/v1/anime/1535", headers={"Origin": "https://example.org"})
    assert r1.status_code == r2.status_code == 200
    assert "x-gateway-cache" not in r1.headers and "x-gateway-cache" not in r2.headers
    assert len(stack.world.request_ids) == seen + 2


def test_micro_cache_off_when_ttl_is_zero():
    with Stack(gateway_micro_cache_ttl_s=0) as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            rs = [c.get("/api/v1/anime/5114") for _ in range(2)]
        assert all(r.status_code == 200 and "x-gateway-cache" not in r.headers for r in rs)
        assert len(s.world.request_ids) == 2
