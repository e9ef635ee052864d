"""Real MAL sample (needs ../shared/data/mal2020): franchises on real titles, the plain and the served lists."""

from __future__ import annotations

import httpx
import pytest
import recommender_fixtures as rf
from recommender_live import LiveServer, make_settings


@pytest.fixture(scope="module")
def real_server(real_data, tmp_path_factory):
    from animerec_recommender.app import create_app
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path_factory.mktemp("real") / "storage")
    pid = rf.publish_real_sample(storage, real_data)
    rf.publish_svd_model(storage, pid, "v-real-svd")
    app = create_app(make_settings(storage.root, None, tune=False, ease_top_n=800))
    with LiveServer(app) as server:
        server.wait_ready()
        yield server


# (sequel id, franchise name stem): pairs whose franchise has several rated entries in the sample
SEQUELS = [(25777, "Shingeki no Kyojin"), (1735, "Naruto"), (9969, "Gintama")]


@pytest.mark.parametrize("sequel,franchise", SEQUELS)
def test_sequel_neighbours_include_franchise_real_data(real_server, sequel, franchise):
    plain = {"n": 10, "method": "collaborative", "mix_franchises": "true", "max_per_franchise": 0}
    r = httpx.get(f"{real_server.url}/anime/{sequel}/similar", params=plain)
    assert r.status_code == 200, r.text
    names = [i["name"] for i in r.json()["items"]]
    assert any(franchise.lower() in n.lower() for n in names), names
    # served by default: the anime's own franchise is left out, other franchises one entry each
    items = httpx.get(f"{real_server.url}/anime/{sequel}/similar", params={"n": 10}).json()["items"]
    assert not any(franchise.lower() in i["name"].lower() for i in items), [i["name"] for i in items]
    ids = [i["franchise"]["id"] for i in items]
    assert len(ids) == len(set(ids)) == 10


def test_franchise_endpoint_lists_the_other_entries_in_watch_order(real_server):
    r = httpx.get(f"{real_server.url}/anime/16498/franchise")  # Shingeki no Kyojin
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [i["anime_id"] for i in body["items"]]
    assert 16498 not in ids and ids.index(25777) < ids.index(35760)  # Season 2 before Season 3
    dates = [i["aired_from"] for i in body["items"] if i["aired_from"]]
    assert dates == sorted(dates)
    assert all(
        i["evidence"]["relation"] == "same_franchise" and i["evidence"]["path"][0] == 16498 for i in body["items"]
    )
    assert {"type", "year", "episodes"} <= set(body["items"][0])
    assert httpx.get(f"{real_server.url}/anime/28223/franchise").json()["items"] == []  # Death Parade: standalone
    assert httpx.get(f"{real_server.url}/anime/999999999/franchise").json()["error"]["code"] == "anime_not_found"


def test_liking_attack_on_titan_continues_with_season_2_and_discovers_other_franchises(real_server):
    r = httpx.post(f"{real_server.url}/recommendations", json={"liked": [16498], "n": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["continue"][0]["anime_id"] == 25777, [i["name"] for i in body["continue"]]
    assert not any("kyojin" in i["name"].lower() for i in body["items"]), [i["name"] for i in body["items"]]
    franchises = [i["franchise"]["id"] for i in body["items"]]
    assert len(franchises) == len(set(franchises)) == 10
    mixed = httpx.post(
        f"{real_server.url}/recommendations",
        json={"liked": [16498], "n": 10, "mix_franchises": True, "max_per_franchise": 0},
    ).json()
    assert mixed["continue"] == [] and any("kyojin" in i["name"].lower() for i in mixed["items"])


def test_real_search_finds_titles_despite_typos(real_server):
    for q, expected in (
        ("shingeki no kyojin", 16498),
        ("attack on titan", 16498),
        ("cowboy bebop", 1),
        ("cowbo bebop", 1),
    ):
        items = httpx.get(f"{real_server.url}/anime", params={"q": q, "limit": 5}).json()["items"]
        assert expected in [i["anime_id"] for i in items], (q, items)
