"""The explainer over real HTTP, without an LLM key: template text, errors, batch, health."""

from __future__ import annotations

import json
import time

import httpx
from explainer_fakes import free_port


def test_template_explains_user_recommendation_without_key(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    resp = httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 5114, "strategy": "hybrid"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["source"] == "template" and body["fallback_reason"] is None and body["llm_model"] is None
    assert body["model_version"] == "v-test" and body["strategy"] == "hybrid"
    assert body["title"] == "Fullmetal Alchemist: Brotherhood"
    kinds = [f["kind"] for f in body["facts"]]
    assert kinds == ["because_you_liked"] * 3 + ["shared_genres", "similar_users", "score", "popularity", "strategy"]
    assert body["facts"][0]["data"]["title"] == "Steins;Gate"
    text = body["text"]
    assert text.startswith("You rated Steins;Gate and Code Geass: Hangyaku no Lelouch highly")
    assert "close in genres and story to Shingeki no Kyojin" in text
    assert "Action and Drama" in text and "37 of the 50 users" in text
    assert "9.19/10 across 2.2 million members and ranks #3 in popularity" in text
    assert fake_recommender.requests[0]["body"] == {"user_id": 7, "liked": None, "anime_id": 5114, "strategy": "hybrid"}


def test_liked_set_is_explained_for_someone_without_account(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    resp = httpx.post(f"{url}/explanations", json={"liked": [9253, 1575, 9253], "anime_id": 30001})
    assert resp.status_code == 200, resp.text
    assert resp.json()["title"] == "Test Show 1"
    assert "Test Show 1 too" in resp.json()["text"]
    assert fake_recommender.requests[0]["body"]["liked"] == [1575, 9253]
    assert fake_recommender.requests[0]["body"]["user_id"] is None


def test_unknown_user_and_anime_pass_through_recommender_404(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    user = httpx.post(f"{url}/explanations", json={"user_id": 999, "anime_id": 5114})
    anime = httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 424242})
    assert user.status_code == 404 and user.json()["error"]["code"] == "user_not_found"
    assert "cold start" in user.json()["error"]["message"]
    assert anime.status_code == 404 and anime.json()["error"]["code"] == "anime_not_found"


def test_recommender_down_gives_503_upstream_unavailable(explainer):
    url = explainer(recommender_url=f"http://127.0.0.1:{free_port()}")
    resp = httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 5114})
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "upstream_unavailable"
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 503 and ready.json()["recommender"] == "unreachable"


def test_facts_outside_the_contract_give_503(explainer, fake_recommender):
    """The recommender's answer is read as contracts.recommender.ExplanationFacts: a missing field is its fault."""
    url = explainer(recommender_url=fake_recommender.url)
    del fake_recommender.facts[30002]["members"]
    resp = httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 30002})
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "upstream_unavailable"
    assert resp.json()["error"]["details"]["fields"] == ["members"]
    assert httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 30001}).status_code == 200


def test_request_id_reaches_recommender(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    resp = httpx.post(
        f"{url}/explanations", json={"user_id": 7, "anime_id": 5114}, headers={"X-Request-ID": "trace-abc-123"}
    )
    assert resp.headers["x-request-id"] == "trace-abc-123"
    assert fake_recommender.requests[-1]["headers"]["x-request-id"] == "trace-abc-123"


def test_invalid_bodies_are_422(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    both = httpx.post(f"{url}/explanations", json={"user_id": 7, "liked": [1], "anime_id": 5114})
    neither = httpx.post(f"{url}/explanations", json={"anime_id": 5114})
    too_many = httpx.post(f"{url}/explanations/batch", json={"user_id": 7, "anime_ids": list(range(1, 22))})
    bad_strategy = httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 1, "strategy": "x; drop"})
    for resp in (both, neither, too_many, bad_strategy):
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error"
    assert fake_recommender.requests == []


def test_batch_answers_in_order_with_bounded_concurrency(explainer, fake_recommender):
    fake_recommender.delay = 0.2
    url = explainer(recommender_url=fake_recommender.url, batch_concurrency=3)
    ids = [30001, 30002, 424242, 30003, 30004, 30005, 30006, 30001]
    start = time.perf_counter()
    resp = httpx.post(f"{url}/explanations/batch", json={"user_id": 42, "anime_ids": ids}, timeout=20)
    elapsed = time.perf_counter() - start
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [i["anime_id"] for i in items] == [30001, 30002, 424242, 30003, 30004, 30005, 30006]
    assert items[2] == {"anime_id": 424242, "error": {"code": "anime_not_found", "message": "no such anime"}}
    assert all(i["source"] == "template" for i in items if "error" not in i)
    assert resp.json()["model_version"] == "v-test"
    assert fake_recommender.max_in_flight == 3  # bounded, and actually concurrent
    assert elapsed < 7 * 0.2  # 7 calls of 0.2 s in at most 3 waves, not one after another


def test_batch_for_unknown_user_is_404(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    resp = httpx.post(f"{url}/explanations/batch", json={"user_id": 999, "anime_ids": [30001, 30002]})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "user_not_found"


def test_health_ready_metrics_and_docs(explainer, fake_recommender):
    url = explainer(recommender_url=fake_recommender.url)
    httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 5114})
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok", "service": "explainer"}
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["recommender"] == "ready" and ready.json()["llm"] == "off"
    metrics = httpx.get(explainer.metrics_url(url)).text
    assert httpx.get(f"{url}/metrics").status_code == 404  # its own port only
    assert 'explanations_total{fallback_reason="",source="template"} 1.0' in metrics
    assert 'explanation_cache_total{result="miss"} 1.0' in metrics
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert {"/explanations", "/explanations/batch"} <= set(paths)
    assert httpx.get(f"{url}/docs").status_code == 200


def test_cli_prints_explanation_json(explainer, fake_recommender, capsys):
    from animerec_shared.cli import main

    url = explainer(recommender_url=fake_recommender.url)
    assert main(["explain", "--url", url, "--liked", "9253", "--anime-id", "5114", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["anime_id"] == 5114 and summary["source"] == "template"
    assert main(["explain", "--url", url, "--user-id", "999", "--anime-id", "5114"]) == 1
    assert "user_not_found" in capsys.readouterr().err
