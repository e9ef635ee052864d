"""The costly-request budget of the gateway (#16 item 9): short title searches and explanations (one token per
anime) draw on a second, smaller bucket per client IP, so spending it leaves ordinary requests and other clients
alone."""

from __future__ import annotations

import httpx
import pytest
from gateway_fakes import CATALOGUE, Stack

from animerec_gateway.limits import explanation_cost, fold_query, is_short_search

IDS = list(CATALOGUE)  # six anime the fake explainer knows


@pytest.fixture(scope="module")
def stack():
    # Rate limit on and ample; the costly bucket holds one batch of six anime, refilled one token per 10 s.
    with Stack(rate_limit_per_minute=10_000, costly_per_minute=6, costly_burst=6, trust_forwarded_for=True) as s:
        yield s


def client(stack: Stack, ip: str) -> httpx.Client:
    return httpx.Client(base_url=stack.url, timeout=10, headers={"X-Forwarded-For": ip})


def limited(r: httpx.Response) -> bool:
    return r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1


def test_spent_costly_budget_refuses_costly_requests_only(stack):
    with client(stack, "10.0.0.1") as a, client(stack, "10.0.0.2") as b:
        batch = a.post("/api/v1/explanations/batch", json={"user_id": 1, "anime_ids": IDS})
        assert batch.status_code == 200  # six tokens: the whole costly bucket
        single = a.post("/api/v1/explanations", json={"user_id": 1, "anime_id": 5114})
        assert limited(single) and 5 <= int(single.headers["retry-after"]) <= 10
        assert limited(a.get("/api/v1/anime", params={"q": "a"}))
        assert limited(a.post("/api/v1/explanations/batch", json={"user_id": 1, "anime_ids": [5114]}))
        # its ordinary requests still answer
        assert a.get("/api/v1/anime/5114/similar").status_code == 200
        assert a.get("/api/v1/anime/5114").status_code == 200
        assert a.get("/api/v1/anime", params={"q": "Fullmetal"}).status_code == 200
        assert a.get("/api/v1/anime").status_code == 200
        # another client has its own costly budget
        assert b.get("/api/v1/anime", params={"q": "a"}).status_code == 200
        assert b.post("/api/v1/explanations/batch", json={"user_id": 1, "anime_ids": IDS[:5]}).status_code == 200
        assert "gateway_rate_limited_total 3.0" in stack.metrics()


def test_short_searches_are_costly_once_folded(stack):
    with client(stack, "10.0.0.3") as c:
        for q in ("a", "De", " d. ", "É", "fm", "x"):  # six folded queries of one or two characters
            assert c.get("/api/v1/anime", params={"q": q}).status_code == 200
        assert limited(c.get("/api/v1/anime", params={"q": "é"}))
        for q in ("Death", "!!", "a b"):  # three folded characters or more, or none at all: not costly
            assert c.get("/api/v1/anime", params={"q": q}).status_code == 200


def test_costly_budget_is_off_with_the_rate_limit():
    with Stack(rate_limit_per_minute=0, costly_per_minute=1, costly_burst=1) as s, httpx.Client(base_url=s.url) as c:
        codes = [c.get("/api/v1/anime", params={"q": "a"}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]


def test_costly_classification():
    def scope(path: str, query: bytes = b"", method: str = "GET") -> dict:
        return {"type": "http", "method": method, "path": path, "query_string": query}

    assert fold_query(" Shingeki no Kyōjin! ") == "shingeki no kyojin"
    assert is_short_search(scope("/api/v1/anime", b"q=a&limit=5"))
    assert is_short_search(scope("/api/v1/anime", b"q=%C3%A9"))
    assert not is_short_search(scope("/api/v1/anime", b"q=abc"))
    assert not is_short_search(scope("/api/v1/anime", b"q=%21%21"))
    assert not is_short_search(scope("/api/v1/anime"))
    assert not is_short_search(scope("/api/v1/anime/5114", b"q=a"))
    assert explanation_cost("/api/v1/explanations", b"{}") == 1
    assert explanation_cost("/api/v1/explanations/batch", b'{"anime_ids": [1, 2, 2, 3]}') == 3
    assert explanation_cost("/api/v1/explanations/batch", b"not json") == 1
    assert explanation_cost("/api/v1/explanations/batch", None) == 20
