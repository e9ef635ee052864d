"""Filters on every list endpoint, and the error codes (404 user/anime, 422 parameters)."""

from __future__ import annotations

import httpx
import pytest


def _get(server, path, **params):
    r = httpx.get(f"{server.url}{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_genre_type_members_year_filters_honoured(planted_server):
    items = _get(planted_server, "/users/0/recommendations", n=10, genre="Romance", exclude_genre="Drama")
    assert items == []  # every Romance anime is also Drama in the planted world
    items = _get(planted_server, "/users/0/recommendations", n=10, genre="Romance", type="TV")
    assert items and all("Romance" in i["genres"] and i["type"] == "TV" for i in items)
    items = _get(planted_server, "/anime/5/similar", n=20, min_members=9000, year_min=1995, year_max=2010)
    assert items and all(i["members"] >= 9000 and 1995 <= i["year"] <= 2010 for i in items)
    items = _get(planted_server, "/anime", q="Planted", limit=50, exclude_genre=["Action", "Comedy"])
    assert items and all(not {"Action", "Comedy"} & set(i["genres"]) for i in items)
    r = httpx.post(f"{planted_server.url}/recommendations", json={"liked": [41], "n": 10, "type": ["Movie"]})
    assert r.status_code == 200 and all(i["type"] == "Movie" for i in r.json()["items"])


def test_already_rated_excluded_by_default(planted_server):
    rated = {
        f["anime_id"]
        for f in httpx.get(f"{planted_server.url}/users/0/preferences", params={"n": 100}).json()["favourites"]
    }
    items = _get(planted_server, "/users/0/recommendations", n=30, include_adult="true")
    assert not rated & {i["anime_id"] for i in items}
    again = _get(planted_server, "/users/0/recommendations", n=30, include_adult="true", exclude_rated="false")
    assert rated & {i["anime_id"] for i in again}


def test_adult_titles_only_when_asked(planted_server):
    # anime 1 is the planted 'Rx - Hentai' title, in the Action cluster of user 0
    for path, params in (
        ("/anime/2/similar", {"n": 30}),
        ("/users/0/recommendations", {"n": 30, "exclude_rated": "false"}),
        ("/anime", {"q": "Planted 0", "limit": 50}),
    ):
        ids = [i["anime_id"] for i in _get(planted_server, path, **params)]
        assert 1 not in ids, path
        ids = [i["anime_id"] for i in _get(planted_server, path, include_adult="true", **params)]
        assert 1 in ids, path


def test_unknown_user_is_404_with_cold_start_hint(planted_server):
    for path in ("/users/999999/recommendations", "/users/999999/similar", "/users/999999/preferences"):
        r = httpx.get(f"{planted_server.url}{path}")
        assert r.status_code == 404
        err = r.json()["error"]
        assert err["code"] == "user_not_found" and "POST /recommendations" in err["details"]["hint"]


def test_unknown_anime_is_404(planted_server):
    for method, path, body in (
        ("GET", "/anime/99999", None),
        ("GET", "/anime/99999/similar", None),
        ("POST", "/recommendations", {"liked": [99999]}),
        ("POST", "/explanation-facts", {"user_id": 0, "anime_id": 99999}),
    ):
        r = httpx.request(method, f"{planted_server.url}{path}", json=body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "anime_not_found", (path, r.text)


@pytest.mark.parametrize(
    "path,params",
    [
        ("/anime/5/similar", {"n": 0}),
        ("/anime/5/similar", {"n": 101}),
        ("/anime/5/similar", {"method": "magic"}),
        ("/users/0/recommendations", {"strategy": "best"}),
        ("/users/0/recommendations", {"year_min": 2010, "year_max": 2000}),
        ("/users/abc/similar", {}),
        ("/anime", {"limit": 0}),
        ("/users/0/recommendations", {"min_members": -1}),
    ],
)
def test_bad_parameters_are_422(planted_server, path, params):
    r = httpx.get(f"{planted_server.url}{path}", params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_bad_cold_start_body_is_422(planted_server):
    for body in ({"liked": []}, {"liked": [1], "n": 0}, {"disliked": [3]}, {"liked": [1], "strategy": "x"}):
        r = httpx.post(f"{planted_server.url}/recommendations", json=body)
        assert r.status_code == 422, body
