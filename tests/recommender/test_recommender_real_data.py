"""Real MAL sample (needs ../shared/data/mal2020): a sequel's nearest neighbours include its franchise."""

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
    app = create_app(make_settings(storage.root, None, recommender_tune=False, recommender_ease_top_n=800))
    with LiveServer(app) as server:
        server.wait_ready()
        yield server


# (sequel id, franchise name stem): pairs whose franchise has several rated entries in the sample
SEQUELS = [(25777, "Shingeki no Kyojin"), (1735, "Naruto"), (9969, "Gintama")]


@pytest.mark.parametrize("sequel,franchise", SEQUELS)
def test_sequel_neighbours_include_franchise_real_data(real_server, sequel, franchise):
    r = httpx.get(f"{real_server.url}/anime/{sequel}/similar", params={"n": 10, "method": "collaborative"})
    assert r.status_code == 200, r.text
    names = [i["name"] for i in r.json()["items"]]
    assert any(franchise.lower() in n.lower() for n in names), names


def test_real_search_finds_titles_despite_typos(real_server):
    for q, expected in (("shingeki no kyojin", 16498), ("attack on titan", 16498), ("cowboy bebop", 1),
                        ("cowbo bebop", 1)):
        items = httpx.get(f"{real_server.url}/anime", params={"q": q, "limit": 5}).json()["items"]
        assert expected in [i["anime_id"] for i in items], (q, items)
