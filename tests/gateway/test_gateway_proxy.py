"""The gateway in front of real HTTP upstreams on loopback: proxying, request ids, errors, readiness, docs."""

from __future__ import annotations

import httpx
import pytest
from gateway_fakes import BROKEN_USER, MISSING_USER, SLOW_USER, Stack


@pytest.fixture(scope="module")
def stack():
    with Stack(upstream_read_timeout_seconds=1.0) as s:
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
    assert stack.world.params[-1] == {"q": "fullmetal", "limit": "5"}  # the contract's defaults are not sent


def test_request_id_generated_when_absent_and_passed_upstream(stack, client):
    r = client.get("/api/v1/anime/5114")
    assert r.status_code == 200 and r.json()["title"] == "Fullmetal Alchemist: Brotherhood"
    rid = r.headers["x-request-id"]
    assert len(rid) >= 16 and stack.world.request_ids[-1] == rid


def test_similar_forwards_typed_filters(stack, client):
    r = client.get(
        "/api/v1/anime/5114/similar",
        params=[
            ("n", 3),
            ("method", "content"),
            ("genre", "Action"),
            ("genre", "Drama"),
            ("type", "TV"),
            ("min_members", 10),
        ],
    )
    assert r.status_code == 200 and len(r.json()["items"]) == 3
    sent = stack.world.params[-1]
    assert sent["method"] == "content" and sent["limit"] == "3" and sent["min_members"] == "10" and sent["type"] == "TV"
    assert stack.world.multi_params[-1].count(("genre", "Action")) == 1  # lists as repeated keys
    assert ("genre", "Drama") in stack.world.multi_params[-1] and "include_adult" not in sent


def test_bad_query_parameter_is_422_before_upstream(stack, client):
    before = len(stack.world.request_ids)
    r = client.get("/api/v1/anime/5114/similar", params={"n": 1000})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = client.get("/api/v1/anime/5114/similar", params={"method": "magic"})
    assert r.status_code == 422
    assert len(stack.world.request_ids) == before


@pytest.mark.parametrize(
    ("ascii_path", "path"),
    [
        ("/api/v1/anime/5114/similar", "/api/v1/anime/\u0665\u0661\u0661\u0664/similar"),  # Arabic-Indic 5114
        ("/api/v1/users/7/recommendations", "/api/v1/users/\u0667/recommendations"),
        ("/api/v1/anime/5114", "/api/v1/anime/\uff15\uff11\uff11\uff14"),  # full-width 5114
    ],
)
def test_ids_in_non_ascii_digits_are_422_before_upstream(stack, client, ascii_path, path):
    # int() and a regex's digit class take any Unicode digit; the routes' validation takes ASCII digits only
    # (a lane that reused the plan of an identical query string once answered these 200).
    assert client.get(ascii_path, params={"n": 10}).status_code == 200
    before = len(stack.world.request_ids)
    r = client.get(path, params={"n": 10})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
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
    assert stack.world.params[-1] == {"strategy": "user_based", "limit": "2"}  # n: the deprecated limit
    client.get("/api/v1/users/7/recommendations", params={"exclude_rated": "false", "include_adult": "true"})
    assert stack.world.params[-1] == {"include_adult": "true", "exclude_rated": "false"}  # booleans as true/false
    assert client.get("/api/v1/users/7/preferences", params={"n": 3}).json()["genres"][0]["genre"] == "Action"
    assert stack.world.params[-1] == {"limit": "3"}
    cold = client.post("/api/v1/recommendations", json={"liked": [5114, 9253], "n": 2})
    assert cold.status_code == 200 and [i["anime_id"] for i in cold.json()["items"]] == [121, 1535]
    assert stack.world.bodies[-1] == {"liked": [5114, 9253], "limit": 2}  # the defaults are the recommender's too
    typo = client.post("/api/v1/recommendations", json={"liked": [5114], "genres": ["Action"]})
    assert typo.status_code == 422  # unknown fields are refused, not silently ignored
    years = client.get("/api/v1/anime/5114/similar", params={"year_min": 2010, "year_max": 2000})
    assert years.status_code == 422 and years.json()["error"]["code"] == "validation_error"
    bad = client.post("/api/v1/recommendations", json={"liked": [], "n": 2})
    assert bad.status_code == 422


def test_franchise_options_forwarded_on_recommendation_and_similar_lists(stack, client):
    recs = client.get("/api/v1/users/7/recommendations", params={"n": 3, "max_per_franchise": 2})
    assert recs.status_code == 200
    assert stack.world.params[-1] == {"max_per_franchise": "2", "limit": "3"}
    body = recs.json()
    assert [i["anime_id"] for i in body["continue"]] == [5114]  # passed through: discovery and continue apart
    assert body["items"][0]["franchise"] == {"id": 9253, "size": 3}
    mixed = client.get(
        "/api/v1/users/7/recommendations", params={"n": 3, "max_per_franchise": 0, "mix_franchises": "true"}
    )
    assert mixed.status_code == 200 and mixed.json()["continue"] == []
    assert stack.world.params[-1]["max_per_franchise"] == "0" and stack.world.params[-1]["mix_franchises"] == "true"
    similar = client.get("/api/v1/anime/5114/similar", params={"n": 2, "mix_franchises": "false"})
    assert similar.status_code == 200
    assert stack.world.params[-1] == {"limit": "2"}  # mix_franchises=false is the default: not sent
    client.get("/api/v1/anime/5114/similar", params={"n": 4})
    assert "max_per_franchise" not in stack.world.params[-1] and "mix_franchises" not in stack.world.params[-1]


@pytest.mark.parametrize("path", ["/api/v1/users/7/recommendations", "/api/v1/anime/5114/similar"])
@pytest.mark.parametrize(
    "query",
    [{"max_per_franchise": -1}, {"max_per_franchise": 101}, {"max_per_franchise": "one"}, {"mix_franchises": "maybe"}],
)
def test_bad_franchise_options_are_422_before_upstream(stack, client, path, query):
    before = len(stack.world.request_ids)
    r = client.get(path, params=query)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert len(stack.world.request_ids) == before


def test_cold_start_body_takes_the_franchise_options(stack, client):
    r = client.post(
        "/api/v1/recommendations", json={"liked": [5114], "n": 2, "max_per_franchise": 3, "mix_franchises": False}
    )
    assert r.status_code == 200 and [i["anime_id"] for i in r.json()["continue"]] == [121]
    assert stack.world.bodies[-1] == {"liked": [5114], "limit": 2, "max_per_franchise": 3}
    before = len(stack.world.request_ids)
    for bad in ({"max_per_franchise": -1}, {"max_per_franchise": 101}, {"mix_franchises": "maybe"}):
        r = client.post("/api/v1/recommendations", json={"liked": [5114], **bad})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", bad
    assert len(stack.world.request_ids) == before


def test_continue_watching_proxied(stack, client):
    r = client.get(
        "/api/v1/users/7/continue",
        params=[("n", 5), ("genre", "Action"), ("type", "TV")],
        headers={"X-Request-ID": "rid-continue-1"},
    )
    assert r.status_code == 200
    assert [i["anime_id"] for i in r.json()["items"]] == [5114] and r.json()["model_version"] == "v1"
    assert r.json()["items"][0]["franchise"] == {"id": 121, "size": 2}
    assert stack.world.request_ids[-1] == "rid-continue-1"
    assert stack.world.params[-1] == {"limit": "5", "genre": "Action", "type": "TV"}
    missing = client.get(f"/api/v1/users/{MISSING_USER}/continue")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    before = len(stack.world.request_ids)
    for params, user in (
        ({"n": 0}, 7),
        ({"n": 101}, 7),
        ({}, -1),
        ({}, 2**31),
        ({"year_min": 2010, "year_max": 2000}, 7),
    ):
        r = client.get(f"/api/v1/users/{user}/continue", params=params)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", (params, user)
    assert len(stack.world.request_ids) == before


def test_franchise_of_an_anime_proxied(stack, client):
    r = client.get("/api/v1/anime/5114/franchise")
    assert r.status_code == 200
    body = r.json()
    assert body["franchise_id"] == 121 and [i["anime_id"] for i in body["items"]] == [121]
    assert body["items"][0]["evidence"]["relation"] == "same_franchise"
    assert stack.world.params[-1] == {}
    standalone = client.get("/api/v1/anime/199/franchise")
    assert standalone.status_code == 200 and standalone.json()["items"] == []
    missing = client.get("/api/v1/anime/77777/franchise")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "anime_not_found"
    before = len(stack.world.request_ids)
    for bad in (0, 2**31):  # the bounds of the other anime routes: one bound for anime and user ids, 2**31 - 1
        assert client.get(f"/api/v1/anime/{bad}/franchise").status_code == 422
    assert len(stack.world.request_ids) == before


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


def test_similar_users_are_not_public(stack, client):
    # other users' ids and rating counts: the recommender keeps its internal route, the gateway serves none
    before = len(stack.world.params)
    r = client.get("/api/v1/users/7/similar")
    assert r.status_code == 404 and len(stack.world.params) == before
    assert "/api/v1/users/{user_id}/similar" not in client.get("/openapi.json").json()["paths"]


def test_per_user_answers_are_cache_control_private(client):
    for path in ("/api/v1/users/7/recommendations", "/api/v1/users/7/continue", "/api/v1/users/7/preferences"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "private", path
    missing = client.get(f"/api/v1/users/{MISSING_USER}/recommendations")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "private"
    assert "cache-control" not in client.get("/api/v1/anime/5114").headers  # public, not per user


def test_preferences_schema_has_no_rating_values(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "threshold" not in schemas["Preferences"]["properties"]
    assert schemas["Preferences"]["properties"]["favourites"]["items"] == {"$ref": "#/components/schemas/AnimeItem"}
    assert "rating" not in schemas["AnimeItem"]["properties"]


def test_slow_upstream_is_504_upstream_timeout(client):
    r = client.get(f"/api/v1/users/{SLOW_USER}/preferences")
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout"


def test_upstream_answer_outside_error_schema_is_502(client):
    r = client.get(f"/api/v1/users/{BROKEN_USER}/preferences")
    assert r.status_code == 502
    assert r.json()["error"] == {
        "code": "bad_gateway",
        "message": "the recommender service answered 500 outside the error schema",
        "details": {"upstream": "recommender", "status": 500},
    }


def test_readyz_reports_upstreams_and_model(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["upstreams"] == {"ingestion": "ok", "training": "ok", "recommender": "ok", "explainer": "ok"}
    assert body["model_version"] == "v1"


def test_metrics_count_upstream_calls(client, stack):
    client.get("/api/v1/anime/5114")
    text = stack.metrics()
    assert 'gateway_upstream_requests_total{outcome="200",upstream="recommender"}' in text
    assert "http_requests_total" in text


def test_openapi_lists_public_routes_with_bounds(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/anime",
        "/api/v1/anime/{anime_id}",
        "/api/v1/anime/{anime_id}/similar",
        "/api/v1/users/{user_id}/recommendations",
        "/api/v1/users/{user_id}/continue",
        "/api/v1/users/{user_id}/preferences",
        "/api/v1/recommendations",
        "/api/v1/explanations",
        "/api/v1/explanations/batch",
        "/api/v1/models",
        "/api/v1/admin/training-runs",
        "/api/v1/admin/training-runs/{run_id}",
        "/api/v1/admin/models/{version}/promote",
    ):
        assert path in paths, path
    params = {p["name"]: p for p in paths["/api/v1/anime/{anime_id}/similar"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100 and params["limit"]["schema"]["minimum"] == 1
    assert params["n"]["deprecated"] is True and "limit" in params["n"]["description"]
    assert "AdminToken" in spec["components"]["securitySchemes"]
    assert paths["/api/v1/admin/training-runs"]["post"]["security"] == [{"AdminToken": []}]
    assert "security" not in paths["/api/v1/anime"]["get"]
    assert not any(p.startswith("/api/v1/{") for p in paths)  # no catch-all


def test_openapi_documents_the_franchise_routes_and_options(client):
    spec = client.get("/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    for path, model in (
        ("/api/v1/users/{user_id}/continue", "ContinueList"),
        ("/api/v1/anime/{anime_id}/franchise", "FranchiseAnswer"),
    ):
        op = paths[path]["get"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(model)
        assert {"404", "422", "429", "503", "504"} <= set(op["responses"]), path
    for path in ("/api/v1/users/{user_id}/recommendations", "/api/v1/anime/{anime_id}/similar"):
        params = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        bounds = params["max_per_franchise"]["schema"]
        assert (bounds["minimum"], bounds["maximum"], bounds["default"]) == (0, 100, 1)
        assert params["mix_franchises"]["schema"]["type"] == "boolean"
    search = {p["name"] for p in paths["/api/v1/anime"]["get"]["parameters"]}
    assert "max_per_franchise" not in search  # search does not group by franchise
    anime_id = next(p for p in paths["/api/v1/anime/{anime_id}/franchise"]["get"]["parameters"])
    assert (anime_id["schema"]["minimum"], anime_id["schema"]["maximum"]) == (1, 2**31 - 1)
    assert "continue" in schemas["AnimeList"]["properties"] and "franchise" in schemas["AnimeItem"]["properties"]
    assert {"max_per_franchise", "mix_franchises"} <= set(schemas["ColdStartRequest"]["properties"])


def test_openapi_has_one_error_schema_that_every_error_response_uses(client):
    """The contract's ErrorBody is the only error body documented: no FastAPI HTTPValidationError, no copies."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    error_bodies = [name for name, schema in schemas.items() if set(schema.get("properties", {})) == {"error"}]
    assert error_bodies == ["ErrorBody"]
    assert schemas["ErrorBody"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)
    documented = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if (path, status) == ("/readyz", "503"):  # not an error: the readiness answer, status not_ready
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ReadyAnswer"
                    }
                elif status[0] in "45":
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }, (method, path, status)
                    documented += 1
    assert documented > 50


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
            assert r.json()["error"]["details"]["upstream"] == "explainer"
            assert c.get("/api/v1/anime", params={"q": "death"}).status_code == 200
            assert c.get("/api/v1/models").status_code == 200
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["upstreams"]["explainer"] == "down"
            # A service that goes down while the gateway runs: its routes fail, the others keep working.
            s.upstreams.pop("training").stop()
            r = c.get("/api/v1/models")
            assert r.status_code == 503 and r.json()["error"]["details"]["upstream"] == "training"
            assert c.get("/api/v1/users/7/recommendations").status_code == 200


def test_readyz_can_ignore_upstreams_for_cascade_free_probes():
    with Stack(down=("recommender", "explainer"), readyz_upstreams="") as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            assert c.get("/readyz").status_code == 200
            assert c.get("/api/v1/anime/5114").status_code == 503
