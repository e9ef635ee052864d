"""Behaviour on a generated world with planted tastes: similar anime share genres, tastes are followed."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from recommender_fixtures import CLUSTERS, cluster_of


def _majority(items: list[dict]) -> tuple[int, float]:
    clusters = Counter(cluster_of(i["anime_id"]) for i in items if i["anime_id"] <= 80)
    c, k = clusters.most_common(1)[0]
    return c, k / len(items)


@pytest.mark.parametrize("method", ["collaborative", "content"])
def test_similar_anime_share_genres_planted(planted_server, method):
    for anime_id in (5, 25, 45, 65):
        r = httpx.get(f"{planted_server.url}/anime/{anime_id}/similar", params={"n": 5, "method": method})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model_version"] == "v-planted-1" and len(body["items"]) == 5
        own = set(CLUSTERS[cluster_of(anime_id)][0])
        assert all(own <= set(i["genres"]) for i in body["items"]), (method, anime_id, body["items"])
        assert anime_id not in [i["anime_id"] for i in body["items"]]


@pytest.mark.parametrize("strategy", ["hybrid", "collaborative", "user_based", "content", "item_item"])
def test_recommendations_follow_planted_tastes(planted_server, strategy):
    for user_id in (0, 1, 2, 3, 10, 13):
        r = httpx.get(
            f"{planted_server.url}/users/{user_id}/recommendations",
            params={"n": 4, "strategy": strategy, "include_adult": "true"},
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert len(items) == 4
        c, share = _majority(items)
        assert c == user_id % 4 and share >= 0.75, (strategy, user_id, items)
        assert all(i["sources"] for i in items)


def test_cold_start_follows_liked_cluster(planted_server):
    r = httpx.post(f"{planted_server.url}/recommendations", json={"liked": [41, 42, 43], "disliked": [61], "n": 5})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    ids = [i["anime_id"] for i in items]
    assert not {41, 42, 43, 61} & set(ids)
    assert _majority(items)[0] == 2


def test_cold_start_serves_liked_anime_without_ratings(planted_server):
    # anime 81-85 have metadata and synopsis but no ratings: content still knows them
    r = httpx.post(f"{planted_server.url}/recommendations", json={"liked": [84], "n": 5, "strategy": "content"})
    assert r.status_code == 200, r.text
    assert all(set(CLUSTERS[3][0]) <= set(i["genres"]) for i in r.json()["items"])
    r = httpx.get(f"{planted_server.url}/anime/84/similar", params={"n": 3})
    assert r.status_code == 200 and r.json()["method"] == "content"
    r = httpx.post(f"{planted_server.url}/recommendations", json={"liked": [84], "n": 5})
    assert r.status_code == 200 and r.json()["items"]
    for strategy in ("collaborative", "user_based", "item_item"):
        r = httpx.post(f"{planted_server.url}/recommendations", json={"liked": [84], "strategy": strategy})
        assert r.status_code == 400 and r.json()["error"]["code"] == "strategy_unavailable"


@pytest.mark.parametrize("strategy", ["hybrid", "collaborative", "user_based", "item_item", "popularity"])
def test_cold_start_every_strategy_answers(planted_server, strategy):
    r = httpx.post(f"{planted_server.url}/recommendations", json={"liked": [21, 25], "strategy": strategy, "n": 6})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 6 and not {21, 25} & {i["anime_id"] for i in r.json()["items"]}


def test_preferences_name_the_planted_genres(planted_server):
    r = httpx.get(f"{planted_server.url}/users/5/preferences")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {g["genre"] for g in body["genres"][:2]} == set(CLUSTERS[1][0])
    assert all(cluster_of(f["anime_id"]) == 1 for f in body["favourites"])


def test_preferences_carry_no_rating_values(planted_server):
    # public through the gateway without user auth: favourite anime and genre weights, no rating of the user
    body = httpx.get(f"{planted_server.url}/users/5/preferences", params={"n": 100}).json()
    assert body["favourites"] and body["n_ratings"] > 0 and "threshold" not in body
    for f in body["favourites"]:
        assert "rating" not in f and f["sources"] == ["ratings"], f
        assert "similarity" not in f and f["relevance"] is None
    assert "rating" not in str(body["genres"])


def test_similar_users_share_the_cluster(planted_server):
    r = httpx.get(f"{planted_server.url}/users/6/similar", params={"n": 10})
    assert r.status_code == 200, r.text
    users = [u["user_id"] for u in r.json()["items"]]
    assert 6 not in users and sum(u % 4 == 2 for u in users) >= 8


def test_explanation_facts_ground_the_recommendation(planted_server):
    r = httpx.post(f"{planted_server.url}/explanation-facts", json={"user_id": 3, "anime_id": 70})
    assert r.status_code == 200, r.text
    facts = r.json()
    assert facts["anime_id"] == 70 and facts["model_version"] == "v-planted-1"
    assert set(facts["shared_genres"]) == set(CLUSTERS[3][0])
    assert facts["because_you_liked"] and all(cluster_of(b["anime_id"]) == 3 for b in facts["because_you_liked"])
    assert facts["similar_users"]["of"] > 0 and facts["similar_users"]["liked_it"] >= 0
    r = httpx.post(f"{planted_server.url}/explanation-facts", json={"liked": [21, 22], "anime_id": 30})
    assert r.status_code == 200 and "Romance" in r.json()["shared_genres"]


def test_title_search_is_accent_case_and_typo_tolerant(planted_server):
    for q in ("pokemon", "POKÉMON", "pokmon adventur", "Pokemon Journey", "ポケットモンスター"):
        r = httpx.get(f"{planted_server.url}/anime", params={"q": q, "limit": 3})
        assert r.status_code == 200, r.text
        assert r.json()["items"][0]["anime_id"] == 2, q


def test_anime_detail_has_synopsis(planted_server):
    r = httpx.get(f"{planted_server.url}/anime/3")
    assert r.status_code == 200
    assert "sword" in r.json()["synopsis"] and r.json()["n_ratings"] > 0
