"""The gateway in front of real HTTP upstreams on loopback: proxying, request ids, errors, readiness, docs."""

from __future__ import annotations

import httpx
import pytest
from gateway_fakes import BROKEN_USER, MISSING_USER, SLOW_USER, Stack


@pytest.fixture(scope="module")
def stack():
    with Stack(upstream_read_timeout_s=1.0) as s:
        yield s


@pytest.fixture
def client(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        yield c


def test_search_proxied_with_params_and_request_id(stack, client):
    r = client.get("/api/v1/anime", params={"q": "fullmetal", "limit": 5}, headers={"X-Request-ID": "rid-search-1"})
    assert r.status_code == 200
    assert [i["anime_id"] for i in r.json()["items"]] == [5114, 121]
    assert r.headers["x-request-id"] == "rid-search-1"
    assert stack.world.request_ids[-1] == "rid-search-1"
    assert stack.world.params[-1] == {"q": "fullmetal", "limit": "5", "include_adult": "false"}


def test_request_id_generated_when_absent_and_passed_upstream(stack, client):
    r = client.get("/api/v1/anime/5114")
    assert r.status_code == 200 and r.json()["title"] == "Fullmetal Alchemist: Brotherhood"
    rid = r.headers["x-request-id"]
    assert len(rid) >= 16 and stack.world.request_ids[-1] == rid


def test_similar_forwards_typed_filters(stack, client):
    r = client.get("/api/v1/anime/5114/similar", params=[("n", 3), ("method", "content"), ("genre", "Action"),
                                                        ("genre", "Drama"), ("type", "TV"), ("min_members", 10)])
    assert r.status_code == 200 and len(r.json()["items"]) == 3
    sent = stack.world.params[-1]
    assert sent["method"] == "content" and sent["n"] == "3" and sent["min_members"] == "10"
    assert sent["include_adult"] == "false" and sent["type"] == "TV"


def test_bad_query_parameter_is_422_before_upstream(stack, client):
    before = len(stack.world.request_ids)
    r = client.get("/api/v1/anime/5114/similar", params={"n": 1000})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = client.get("/api/v1/anime/5114/similar", params={"method": "magic"})
    assert r.status_code == 422
    assert len(stack.world.request_ids) == before


def test_upstream_error_body_passed_through(client):
    r = client.get(f"/api/v1/users/{MISSING_USER}/recommendations")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "user_not_found" and "cold start" in err["message"]
    r = client.get("/api/v1/anime/77777")
    assert r.status_code == 404 and r.json()["error"]["code"] == "anime_not_found"


def test_user_routes_and_cold_start_answer(stack, client):
    recs = client.get("/api/v1/users/7/recommendations", params={"strategy": "user_based", "n": 2})
    assert recs.status_code == 200 and len(recs.json()["items"]) == 2
    assert stack.world.params[-1]["strategy"] == "user_based" and stack.world.params[-1]["exclude_rated"] == "true"
    assert client.get("/api/v1/users/7/similar").json()["items"][0]["user_id"] == 8
    assert client.get("/api/v1/users/7/preferences", params={"n": 3}).json()["genres"][0]["genre"] == "Action"
    assert stack.world.params[-1] == {"n": "3"}
    cold = client.post("/api/v1/recommendations", json={"liked": [5114, 9253], "n": 2})
    assert cold.status_code == 200 and [i["anime_id"] for i in cold.json()["items"]] == [121, 1535]
    assert stack.world.bodies[-1] == {"liked": [5114, 9253], "disliked": [], "n": 2, "strategy": "hybrid",
                                      "include_adult": False}
    typo = client.post("/api/v1/recommendations", json={"liked": [5114], "genres": ["Action"]})
    assert typo.status_code == 422  # unknown fields are refused, not silently ignored
    years = client.get("/api/v1/anime/5114/similar", params={"year_min": 2010, "year_max": 2000})
    assert years.status_code == 422 and years.json()["error"]["code"] == "validation_error"
    bad = client.post("/api/v1/recommendations", json={"liked": [], "n": 2})
    assert bad.status_code == 422


def test_explanations_single_and_batch(client):
    one = client.post("/api/v1/explanations", json={"user_id": 7, "anime_id": 9253})
    assert one.status_code == 200 and one.json()["text"].startswith("Steins;Gate")
    batch = client.post("/api/v1/explanations/batch", json={"liked": [5114], "anime_ids": [9253, 1535]})
    assert [i["anime_id"] for i in batch.json()["items"]] == [9253, 1535]
    neither = client.post("/api/v1/explanations", json={"anime_id": 9253})
    assert neither.status_code == 422


def test_models_listed_read_only(client):
    r = client.get("/api/v1/models")
    assert r.status_code == 200 and r.json()["current"] == "v1"
    assert client.post("/api/v1/models").status_code == 405


def test_slow_upstream_is_504_upstream_timeout(client):
    r = client.get(f"/api/v1/users/{SLOW_USER}/similar")
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout"


def test_upstream_answer_outside_error_schema_is_502(client):
    r = client.get(f"/api/v1/users/{BROKEN_USER}/similar")
    assert r.status_code == 502
    assert r.json()["error"] == {"code": "bad_gateway", "message": "the recommender service answered 500 outside "
                                 "the error schema", "details": {"service": "recommender", "status": 500}}


def test_readyz_reports_upstreams_and_model(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["upstreams"] == {"ingestion": "ok", "training": "ok", "recommender": "ok", "explainer": "ok"}
    assert body["model_version"] == "v1"


def test_metrics_count_upstream_calls(client):
    client.get("/api/v1/anime/5114")
    text = client.get("/metrics").text
    assert 'gateway_upstream_requests_total{outcome="200",upstream="recommender"}' in text
    assert "http_requests_total" in text


def test_openapi_lists_public_routes_with_bounds(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/anime", "/api/v1/anime/{anime_id}", "/api/v1/anime/{anime_id}/similar",
                 "/api/v1/users/{user_id}/recommendations", "/api/v1/users/{user_id}/similar",
                 "/api/v1/users/{user_id}/preferences", "/api/v1/recommendations", "/api/v1/explanations",
                 "/api/v1/explanations/batch", "/api/v1/models", "/api/v1/admin/training-runs",
                 "/api/v1/admin/training-runs/{run_id}", "/api/v1/admin/models/{version}/promote"):
        assert path in paths, path
    n = next(p for p in paths["/api/v1/anime/{anime_id}/similar"]["get"]["parameters"] if p["name"] == "n")
    assert n["schema"]["maximum"] == 100 and n["schema"]["minimum"] == 1
    assert "AdminToken" in spec["components"]["securitySchemes"]
    assert paths["/api/v1/admin/training-runs"]["post"]["security"] == [{"AdminToken": []}]
    assert "security" not in paths["/api/v1/anime"]["get"]
    assert not any(p.startswith("/api/v1/{") for p in paths)  # no catch-all


def test_docs_served_without_cdn(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "/docs-assets/" in html and "cdn." not in html and "fonts.googleapis" not in html
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_web_page_served_with_csp_and_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert 'id="search-input"' in r.text and "/static/app.js" in r.text and "http" not in r.text.split("<body")[0]
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_down_service_is_503_only_for_its_routes():
    with Stack(down=("explainer",)) as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            r = c.post("/api/v1/explanations", json={"user_id": 1, "anime_id": 9253})
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "upstream_unavailable"
            assert r.json()["error"]["details"]["service"] == "explainer"
            assert c.get("/api/v1/anime", params={"q": "death"}).status_code == 200
            assert c.get("/api/v1/models").status_code == 200
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["upstreams"]["explainer"] == "down"
            # A service that goes down while the gateway runs: its routes fail, the others keep working.
            s.upstreams.pop("training").stop()
            r = c.get("/api/v1/models")
            assert r.status_code == 503 and r.json()["error"]["details"]["service"] == "training"
            assert c.get("/api/v1/users/7/recommendations").status_code == 200


def test_readyz_can_ignore_upstreams_for_cascade_free_probes():
    with Stack(down=("recommender", "explainer"), readyz_upstreams="") as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            assert c.get("/readyz").status_code == 200
            assert c.get("/api/v1/anime/5114").status_code == 503
