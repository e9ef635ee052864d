"""Without a key, the template path answers with facts taken from the real recommender and model.

The real recommender app runs on loopback over a small real dataset (users of the MAL sample
with 50+ ratings in its first 40,000 rows) and an SVD model version, both built with the
recommender's own test fixtures (tests/recommender/recommender_fixtures.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from explainer_fakes import serve

pytest.importorskip("animerec_recommender", reason="the recommender service is not installed")
from tests.recommender.recommender_fixtures import publish_processed, publish_svd_model

VERSION = "svd-explainer-test"


@pytest.fixture(scope="module")
def real_recommender(tmp_path_factory, real_data):
    from animerec_recommender.app import create_app
    from animerec_recommender.config import Settings
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path_factory.mktemp("explainer-real") / "storage")
    ratings = pd.read_csv(real_data / "rating_complete_sample.csv", nrows=40_000)
    meta = pd.read_csv(real_data / "anime.csv")
    meta = meta[meta["MAL_ID"].isin(ratings["anime_id"])]
    synopsis = pd.read_csv(real_data / "anime_with_synopsis.csv")
    pid = publish_processed(storage, "p-explainer", ratings, meta, synopsis[synopsis["MAL_ID"].isin(meta["MAL_ID"])])
    publish_svd_model(storage, pid, VERSION, dim=32)
    settings = Settings(
        storage_url=storage.root.as_uri(),
        poll_interval_seconds=0,
        tune=False,
        hybrid_weights="item_item=1,content=0.5,collaborative=0.75",
        ease_top_n=500,
        log_json=False,
        log_level="WARNING",
    )
    with serve(create_app(settings)) as url:
        deadline = time.monotonic() + 150
        while httpx.get(f"{url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, httpx.get(f"{url}/readyz").json()
            time.sleep(0.2)
        yield url, storage.root / "processed" / pid, storage.root / "models" / VERSION


def _user_with_median_history(processed: Path) -> tuple[int, set[int]]:
    users = pd.read_parquet(processed / "users.parquet").sort_values("n_ratings")
    user = users.iloc[len(users) // 2]
    rated = pd.concat([pd.read_parquet(processed / f"ratings_{s}.parquet") for s in ("train", "val", "test")])
    rated_idx = rated.loc[rated["user_index"] == user["user_index"], "anime_index"]
    ids = pd.read_parquet(processed / "rated_anime.parquet").set_index("anime_index")["anime_id"]
    return int(user["user_id"]), {int(a) for a in ids.loc[rated_idx]}


def test_template_answers_with_facts_from_real_model(real_recommender, explainer):
    rec_url, processed, model = real_recommender
    user_id, rated = _user_with_median_history(processed)
    recs = httpx.get(f"{rec_url}/users/{user_id}/recommendations", params={"n": 3}).json()["items"]
    url = explainer(recommender_url=rec_url)
    resp = httpx.post(
        f"{url}/explanations/batch", json={"user_id": user_id, "anime_ids": [r["anime_id"] for r in recs]}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["model_version"] == VERSION
    anime = pd.read_parquet(processed / "anime.parquet").set_index("anime_id")
    emb = np.load(model / "anime_embeddings.npy")
    row_of = {int(a): i for i, a in enumerate(np.load(model / "anime_ids.npy"))}
    for item in resp.json()["items"]:
        assert item["source"] == "template" and item["fallback_reason"] is None
        assert item["model_version"] == VERSION
        assert item["title"] == anime.loc[item["anime_id"], "title"]
        liked = [f["data"] for f in item["facts"] if f["kind"] == "because_you_liked"]
        assert liked, item
        for fact in liked:
            assert fact["anime_id"] in rated  # one of the user's own titles
            if fact["by"] == "embedding":  # the similarity is the model's cosine of the two anime
                cosine = float(emb[row_of[fact["anime_id"]]] @ emb[row_of[item["anime_id"]]])
                assert fact["similarity"] == pytest.approx(cosine, abs=1e-3)
        genres = next((f["data"]["genres"] for f in item["facts"] if f["kind"] == "shared_genres"), [])
        assert set(genres) <= set(anime.loc[item["anime_id"], "genres"])
        assert liked[0]["title"] in item["text"] and item["title"] in item["text"]


def test_cold_start_and_unknown_user_against_real_recommender(real_recommender, explainer):
    rec_url, processed, _ = real_recommender
    popular = pd.read_parquet(processed / "rated_anime.parquet").nlargest(3, "n_ratings")["anime_id"].tolist()
    url = explainer(recommender_url=rec_url)
    body = httpx.post(f"{url}/explanations", json={"liked": popular[:2], "anime_id": popular[2]}, timeout=60).json()
    assert body["source"] == "template" and body["model_version"] == VERSION
    assert {f["data"]["anime_id"] for f in body["facts"] if f["kind"] == "because_you_liked"} <= set(popular[:2])
    assert body["text"].startswith(("You liked", body["title"]))
    missing = httpx.post(f"{url}/explanations", json={"user_id": 987654321, "anime_id": popular[0]})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"


def test_llm_answer_checked_against_real_catalogue(real_recommender, explainer, fake_openai):
    from explainer_fakes import wait_catalogue

    rec_url, processed, _ = real_recommender
    user_id, _ = _user_with_median_history(processed)
    anime = pd.read_parquet(processed / "anime.parquet")
    recs = httpx.get(f"{rec_url}/users/{user_id}/recommendations", params={"n": 1}).json()["items"]
    facts = httpx.post(
        f"{rec_url}/explanation-facts",
        json={"user_id": user_id, "anime_id": recs[0]["anime_id"], "liked": None, "strategy": None},
    ).json()
    named = {facts["anime_id"]} | {b["anime_id"] for b in facts["because_you_liked"]}
    stranger = (
        anime[~anime["anime_id"].isin(named) & (anime["title"].str.split().str.len() >= 2) & (anime["members"] > 0)]
        .nlargest(1, "members")["title"]
        .item()
    )
    liked = facts["because_you_liked"][0]["title"]
    fake_openai.answer(f'Since you rated "{liked}" highly, "{facts["title"]}" is a natural next watch.')
    fake_openai.answer(f"Since you rated {liked} highly and fans of {stranger} love it too, try it.")
    url = explainer(
        recommender_url=rec_url,
        storage_url=processed.parents[1].as_uri(),
        openai_api_key="sk-test",
        openai_base_url=f"{fake_openai.url}/v1",
    )
    assert wait_catalogue(url)["titles"] == len(anime)
    body = {"user_id": user_id, "anime_id": facts["anime_id"]}
    good = httpx.post(f"{url}/explanations", json=body, timeout=30).json()
    assert good["source"] == "llm", (good["fallback_reason"], good["text"], fake_openai.requests[-1:])
    synopsis = anime.set_index("anime_id").loc[facts["anime_id"], "synopsis"]
    user_message = fake_openai.requests[0]["body"]["messages"][1]["content"]
    sent = json.loads(user_message.split("<facts>\n", 1)[1].rsplit("\n</facts>", 1)[0])
    flat = lambda text: " ".join(text.split())[:100]  # noqa: E731
    assert flat(sent["recommended"]["synopsis"]) == flat(synopsis)  # the real synopsis, sent as data
    bad = httpx.post(f"{url}/explanations", json={**body, "strategy": "content"}, timeout=30).json()
    assert bad["source"] == "template" and bad["fallback_reason"] == "llm_unknown_title", (stranger, bad)


def test_franchise_is_named_first_against_real_recommender(real_recommender, explainer):
    """Someone who liked Gintama is told that Gintama' is from the same franchise."""
    rec_url, _, _ = real_recommender
    facts = httpx.post(
        f"{rec_url}/explanation-facts", json={"liked": [918, 20], "anime_id": 9969, "user_id": None, "strategy": None}
    ).json()
    assert facts["because_you_liked"][0]["anime_id"] == 918, facts
    assert facts["because_you_liked"][0]["by"] == "franchise"
    assert all(b["by"] != "franchise" for b in facts["because_you_liked"] if b["anime_id"] == 20)  # Naruto
    url = explainer(recommender_url=rec_url)
    body = httpx.post(f"{url}/explanations", json={"liked": [918, 20], "anime_id": 9969}, timeout=60).json()
    assert body["source"] == "template"
    assert body["text"].startswith(f"{body['title']} is from the same franchise as Gintama, which you liked."), body
    kinds = [(f["kind"], f["data"].get("by")) for f in body["facts"]]
    assert kinds[0] == ("because_you_liked", "franchise")
