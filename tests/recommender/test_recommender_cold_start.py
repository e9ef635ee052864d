"""Cold start (no account, a few liked anime) is served with its own blend, tuned on val."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import recommender_fixtures as rf

from animerec_ranking import COMPONENTS, RankingParams, cold_start_metrics
from animerec_ranking.cold_start import NOT_FOR_COLD_START, fold_in, query_mask, simulated_queries
from animerec_ranking.datasets import load_processed
from animerec_recommender.engine import recommend_cold_start
from animerec_recommender.state import build_state
from animerec_shared.contracts.recommender import Filters
from animerec_shared.storage import FileStorage


def test_simulated_queries_take_liked_anime_of_each_user_and_skip_short_histories():
    ratings = pd.DataFrame(
        {
            "user_index": [0] * 6 + [1] * 3 + [2] * 7,
            "anime_index": [*range(6), 10, 11, 12, *range(20, 27)],
            "rating": [9, 9, 9, 8, 3, 10, 9, 9, 9, 8, 8, 8, 8, 2, 2, 2],
        }
    )
    relevant = {0: np.array([40]), 1: np.array([41]), 2: np.array([42])}
    queries, rel = simulated_queries(ratings, relevant, liked_rating=8, n_liked=3, limit=10, seed=0)
    assert [r.tolist() for r in rel] == [[40], [41], [42]]
    assert set(queries[0]) <= {0, 1, 2, 3, 5} and len(set(queries[0])) == 3  # never the 3-rated anime 4
    assert queries[1].tolist() == [10, 11, 12] and set(queries[2]) <= {20, 21, 22, 23}
    again, _ = simulated_queries(ratings, relevant, 8, 3, 10, seed=0)
    assert all((a == b).all() for a, b in zip(queries, again, strict=False))  # seeded
    few, few_rel = simulated_queries(ratings, relevant, 8, 5, 10, seed=0)
    assert [r.tolist() for r in few_rel] == [[40]]  # users 1 and 2 have fewer than 5 liked anime
    assert query_mask(queries, 50).toarray().sum(axis=1).tolist() == [3, 3, 3]


def test_fold_in_is_a_unit_vector_of_the_liked_embeddings():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(fold_in(vectors, np.array([0, 1])), [0.7071068, 0.7071068], rtol=1e-6)
    np.testing.assert_allclose(fold_in(vectors, np.array([0]), np.array([1])), [0.8944272, -0.4472136], rtol=1e-6)
    assert fold_in(vectors, np.array([], dtype=np.int64)) is None


def test_stored_blend_carries_cold_start_weights_and_older_blends_keep_the_default():
    params = RankingParams().with_stored_blend(
        {"weights": {"item_item": 1.0}, "cold_start_weights": {"popularity": 0.5, "content": 1.0}}
    )
    assert params.cold_start_weights == {c: 0.0 for c in COMPONENTS} | {"popularity": 0.5, "content": 1.0}
    older = RankingParams().with_stored_blend({"weights": {"item_item": 1.0}})
    assert older.cold_start_weights == RankingParams().cold_start_weights


@pytest.fixture(scope="module")
def real_state(real_data, tmp_path_factory):
    storage = FileStorage(tmp_path_factory.mktemp("cold") / "storage")
    pid = rf.publish_real_sample(storage, real_data)
    rf.publish_svd_model(storage, pid, "v-cold")
    state = build_state(storage, "v-cold", RankingParams(ease_top_n=800), {})
    return state, load_processed(storage.fetch_dir(f"processed/{pid}"))


def test_cold_start_blend_is_tuned_on_val_and_beats_the_known_user_blend(real_state):
    """On the real sample, test users known only by 5 liked anime: the cold-start blend wins."""
    state, data = real_state
    report = state.ranking.report["cold_start"]
    assert report["liked"] == 5 and report["queries"] > 300 and report["val_ndcg_hybrid"] > 0
    assert not set(report["val_ndcg"]) & set(NOT_FOR_COLD_START)
    weights = state.ranking.cold_start_weights
    assert any(weights.values()) and not any(weights.get(n) for n in NOT_FOR_COLD_START)
    got = cold_start_metrics(state.ranking, data)
    assert got["cold_start"]["users"] > 300
    assert got["cold_start"]["ndcg@10"] > got["cold_hybrid"]["ndcg@10"] + 0.01, got
    assert got["cold_start"]["ndcg@10"] > got["cold_popular"]["ndcg@10"], got


def test_post_recommendations_serves_the_cold_start_blend(real_state):
    state, _ = real_state
    liked = [16498, 1535, 5114]  # Shingeki no Kyojin, Death Note, Fullmetal Alchemist: Brotherhood
    items = recommend_cold_start(state, liked, [], "hybrid", 10, Filters())["items"]
    assert len(items) == 10 and not {i["anime_id"] for i in items} & set(liked)
    used = {n for n, w in state.ranking.cold_start_weights.items() if w}
    assert set().union(*(i["sources"] for i in items)) <= used
