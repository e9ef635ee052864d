"""The gateway's fast lane: hot proxy routes served without FastAPI's per-request work, same answers and errors."""

from __future__ import annotations

import re

import httpx
import pytest
from gateway_fakes import MISSING_USER, Stack


@pytest.fixture(scope="module")
def stack():
    with Stack(gateway_micro_cache_ttl_s=0) as s:  # every request reaches the lane or the route
        yield s


def lane_count(c: httpx.Client, route: str) -> float:
    text = c.get("/metrics").text
    m = re.search(r'gateway_fast_lane_requests_total\{route="' + re.escape(route) + r'"\} ([0-9.e+]+)', text)
    return float(m.group(1)) if m else 0.0


def requests_count(c: httpx.Client, route: str, status: str) -> float:
    text = c.get("/metrics").text
    m = re.search(r'http_requests_total\{method="GET",route="' + re.escape(route) + r'",service="gateway",status="'
                  + status + r'"\} ([0-9.e+]+)', text)
    return float(m.group(1)) if m else 0.0


def test_second_identical_query_takes_the_lane_with_the_same_answer_and_upstream_call(stack):
    route = "/api/v1/anime/{anime_id}/similar"
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        before = lane_count(c, route)
        counted = requests_count(c, route, "200")
        first = c.get("/api/v1/anime/5114/similar", params={"n": 3, "genre": "Drama"}, headers={"X-Request-ID": "fl-1"})
        first_params = stack.world.params[-1]
        second = c.get("/api/v1/anime/9253/similar", params={"n": 3, "genre": "Drama"},
                       headers={"X-Request-ID": "fl-2"})
        second_params = stack.world.params[-1]
        assert lane_count(c, route) == before + 1  # only the second one
        assert requests_count(c, route, "200") == counted + 2  # both labelled with the route template
    assert first.status_code == second.status_code == 200
    assert first_params == second_params == {"n": "3", "method": "collaborative", "genre": "Drama",
                                             "include_adult": "false"}
    assert stack.world.request_ids[-2:] == ["fl-1", "fl-2"]  # request ids still travel upstream
    assert second.headers["x-request-id"] == "fl-2"
    assert [i["anime_id"] for i in second.json()["items"]] == [5114, 121, 1535]  # all but 9253: its own id


def test_lane_keeps_the_routes_validation(stack):
    route = "/api/v1/anime/{anime_id}/similar"
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        assert c.get("/api/v1/anime/5114/similar", params={"n": 2}).status_code == 200  # plan for "n=2"
        before = lane_count(c, route)
        out_of_range = [c.get(f"/api/v1/anime/{i}/similar", params={"n": 2}) for i in (0, 10_000_001)]
        bad_query = c.get("/api/v1/anime/5114/similar", params={"n": 1000})
        assert lane_count(c, route) == before
    for r in (*out_of_range, bad_query):
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_lane_plans_carry_the_franchise_options_and_keep_their_validation(stack):
    route = "/api/v1/users/{user_id}/recommendations"
    query = {"n": 2, "max_per_franchise": 3, "mix_franchises": "true"}
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        first = c.get("/api/v1/users/7/recommendations", params=query)
        first_params = stack.world.params[-1]
        before = lane_count(c, route)
        second = c.get("/api/v1/users/8/recommendations", params=query)
        assert lane_count(c, route) == before + 1
        assert stack.world.params[-1] == first_params == {"n": "2", "strategy": "hybrid", "exclude_rated": "true",
                                                          "include_adult": "false", "max_per_franchise": "3",
                                                          "mix_franchises": "true"}
        bad = [c.get("/api/v1/users/7/recommendations", params={"n": 2, "max_per_franchise": -1}),
               c.get("/api/v1/users/7/recommendations", params={"n": 2, "mix_franchises": "maybe"}),
               c.get("/api/v1/anime/5114/similar", params={"n": 2, "max_per_franchise": -1}),
               c.get("/api/v1/anime/5114/similar", params={"n": 2, "mix_franchises": "maybe"})]
        assert lane_count(c, route) == before + 1
    assert first.status_code == second.status_code == 200 and second.json()["continue"] == []
    assert [r.status_code for r in bad] == [422] * 4
    assert all(r.json()["error"]["code"] == "validation_error" for r in bad)


def test_continue_and_franchise_routes_take_the_normal_route(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        rs = [c.get(path, params={"n": 2} if "continue" in path else None)
              for path in ("/api/v1/users/7/continue", "/api/v1/anime/5114/franchise") for _ in range(2)]
        text = c.get("/metrics").text
    assert [r.status_code for r in rs] == [200] * 4
    assert 'gateway_fast_lane_requests_total{route="/api/v1/users/{user_id}/continue"}' not in text
    assert 'gateway_fast_lane_requests_total{route="/api/v1/anime/{anime_id}/franchise"}' not in text


def test_lane_relays_upstream_errors_in_the_error_schema(stack):
    route = "/api/v1/users/{user_id}/recommendations"
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        assert c.get("/api/v1/users/7/recommendations", params={"n": 2}).status_code == 200
        before = lane_count(c, route)
        missing = c.get(f"/api/v1/users/{MISSING_USER}/recommendations", params={"n": 2})
        found = c.get("/api/v1/users/8/recommendations", params={"n": 2})
        assert lane_count(c, route) == before + 2
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    assert found.status_code == 200 and len(found.json()["items"]) == 2


def test_search_lane(stack):
    route = "/api/v1/anime"
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        c.get("/api/v1/anime", params={"q": "steins", "limit": 5})
        before = lane_count(c, route)
        r = c.get("/api/v1/anime", params={"q": "steins", "limit": 5})
        assert lane_count(c, route) == before + 1
    assert r.status_code == 200 and [i["anime_id"] for i in r.json()["items"]] == [9253]


def test_cold_start_lane_forwards_valid_bodies_and_leaves_invalid_ones_to_the_route(stack):
    route = "/api/v1/recommendations"
    body = {"liked": [5114, 9253], "n": 2, "genre": ["Drama"]}
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        first = c.post("/api/v1/recommendations", json=body)
        before = lane_count(c, route)
        second = c.post("/api/v1/recommendations", json=body)
        assert lane_count(c, route) == before + 1
        bad = [c.post("/api/v1/recommendations", json={"liked": []}),
               c.post("/api/v1/recommendations", json={"liked": [1], "n": 0}),
               c.post("/api/v1/recommendations", json={"liked": [1], "max_per_franchise": -1}),
               c.post("/api/v1/recommendations", json={"liked": [1], "mix_franchises": "maybe"}),
               c.post("/api/v1/recommendations", json={"liked": [1], "surprise": True}),
               c.post("/api/v1/recommendations", json={"liked": [-3]})]
        not_json = c.post("/api/v1/recommendations", content=b"{nope", headers={"Content-Type": "application/json"})
        assert lane_count(c, route) == before + 1
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert stack.world.bodies[-1] == stack.world.bodies[-2] == {"liked": [5114, 9253], "disliked": [], "n": 2,
                                                                "strategy": "hybrid", "genre": ["Drama"],
                                                                "include_adult": False}
    assert [r.status_code for r in bad] == [422] * 6
    assert all(r.json()["error"]["code"] == "validation_error" for r in bad)
    assert not_json.status_code in (400, 422) and "error" in not_json.json()
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        before = lane_count(c, route)
        capped = c.post("/api/v1/recommendations", json={**body, "max_per_franchise": 0, "mix_franchises": True})
        assert lane_count(c, route) == before + 1
    assert capped.status_code == 200 and capped.json()["continue"] == []
    assert stack.world.bodies[-1] == {**stack.world.bodies[-2], "max_per_franchise": 0, "mix_franchises": True}


def test_lane_answers_503_when_the_recommender_is_down():
    with Stack(down=("recommender",), gateway_micro_cache_ttl_s=0) as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            rs = [c.get("/api/v1/users/7/recommendations", params={"n": 2}) for _ in range(2)]
            assert lane_count(c, "/api/v1/users/{user_id}/recommendations") == 1
        assert [r.status_code for r in rs] == [503, 503]
        assert all(r.json()["error"]["code"] == "upstream_unavailable" for r in rs)


def test_lane_off_when_disabled():
    with Stack(gateway_fast_lane=False, gateway_micro_cache_ttl_s=0) as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            rs = [c.get("/api/v1/anime/5114/similar", params={"n": 2}) for _ in range(2)]
            assert "gateway_fast_lane_requests_total" not in c.get("/metrics").text
        assert [r.status_code for r in rs] == [200, 200] and rs[0].content == rs[1].content
