"""Explanations cached in the real Redis by (subject, anime, model version, source)."""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis

from animerec_explainer.explainer import CACHE_PREFIX


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    for key in client.scan_iter(f"{CACHE_PREFIX}:*"):
        client.delete(key)


def _post(url, **body):
    resp = httpx.post(f"{url}/explanations", json={"user_id": 7, "anime_id": 5114, **body}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_llm_explanation_is_served_from_redis(explainer, fake_recommender, fake_openai, redis_url, redis_client):
    fake_recommender.version = f"v-{uuid.uuid4().hex[:8]}"
    fake_openai.default = {"content": 'A strong match for fans of "Steins;Gate".'}
    settings = {
        "recommender_url": fake_recommender.url,
        "openai_api_key": "sk-test",
        "redis_url": redis_url,
        "openai_base_url": f"{fake_openai.url}/v1",
        "cache_ttl_seconds": 120,
    }
    url = explainer(**settings)
    first, second = _post(url), _post(url)
    assert (first["cached"], second["cached"]) == (False, True)
    assert {k: v for k, v in second.items() if k != "cached"} == {k: v for k, v in first.items() if k != "cached"}
    assert len(fake_openai.requests) == 1
    keys = [k.decode() for k in redis_client.scan_iter(f"{CACHE_PREFIX}:u7:5114:{fake_recommender.version}:*")]
    assert keys == [f"{CACHE_PREFIX}:u7:5114:{fake_recommender.version}:llm=gpt-4o-mini:-"]
    assert 0 < redis_client.ttl(keys[0]) <= 120

    # a second explainer process shares the cache; a new model version or another user misses it
    other = explainer(**settings)
    assert _post(other)["cached"] is True
    assert _post(other, user_id=42)["cached"] is False
    fake_recommender.version += "-next"
    assert _post(other)["cached"] is False
    assert len(fake_openai.requests) == 3


def test_template_and_llm_answers_are_cached_apart(explainer, fake_recommender, fake_openai, redis_url, redis_client):
    fake_recommender.version = f"v-{uuid.uuid4().hex[:8]}"
    fake_openai.default = {"content": "A strong match for you."}
    template_url = explainer(recommender_url=fake_recommender.url, redis_url=redis_url)
    llm_url = explainer(
        recommender_url=fake_recommender.url,
        redis_url=redis_url,
        openai_api_key="sk-test",
        openai_base_url=f"{fake_openai.url}/v1",
    )
    template = _post(template_url)
    llm = _post(llm_url)
    assert (template["source"], template["cached"]) == ("template", False)
    assert (llm["source"], llm["cached"]) == ("llm", False)
    assert _post(template_url)["cached"] is True and _post(template_url)["source"] == "template"
    assert len(list(redis_client.scan_iter(f"{CACHE_PREFIX}:u7:5114:{fake_recommender.version}:*"))) == 2


def test_redis_down_still_answers(explainer, fake_recommender):
    from explainer_fakes import free_port

    url = explainer(recommender_url=fake_recommender.url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    first, second = _post(url), _post(url)
    assert (first["cached"], second["cached"]) == (False, False)
    assert first["text"] == second["text"] and first["source"] == "template"
    ready = httpx.get(f"{url}/readyz").json()
    assert ready["cache"]["backend"] == "redis" and ready["cache"]["ok"] is False
