"""The ranking core used by the evaluation: every strategy scores, the hybrid is tuned on val only."""

from __future__ import annotations

import numpy as np

from animerec_ranking import evaluation_strategies
from animerec_ranking.datasets import load_processed
from animerec_ranking.evaluation import evaluate_strategy, popularity_scores
from animerec_ranking.model_versions import load_model_version


def test_evaluation_strategies_rank_planted_tastes(planted_storage):
    model = load_model_version(planted_storage, "v-planted-1")
    data = load_processed(planted_storage.fetch_dir(f"processed/{model.processed_id}"))
    strategies = evaluation_strategies(data, model.user_embeddings, model.anime_embeddings, {"ease_top_n": 50})
    assert {"hybrid", "item_item", "content", "collaborative", "user_based", "popularity"} <= set(strategies)
    rows = np.arange(5)
    seen = data.matrix(data.train_part)
    pop = evaluate_strategy(popularity_scores(seen), seen, data.test)["ndcg@10"]
    for name, fn in strategies.items():
        scores = fn(rows)
        assert scores.shape == (5, data.n_items) and np.isfinite(scores).all(), name
    for name in ("hybrid", "item_item", "collaborative", "content"):
        assert evaluate_strategy(strategies[name], seen, data.test)["ndcg@10"] > pop + 0.1, name
    report = strategies["hybrid"].params
    assert report["tuned"] and report["ease_lambda"] in (50.0, 100.0, 200.0, 400.0)
    assert report["weights"] and all(w > 0 for w in report["weights"].values())


def test_tuning_never_reads_the_test_holdout(planted_storage):
    """Scrambling the test split leaves the tuned lambda and weights unchanged."""
    model = load_model_version(planted_storage, "v-planted-1")
    data = load_processed(planted_storage.fetch_dir(f"processed/{model.processed_id}"))
    first = evaluation_strategies(data, model.user_embeddings, model.anime_embeddings)["hybrid"].params
    data.test = data.test.assign(
        rating=np.random.default_rng(0).integers(1, 11, len(data.test)).astype(np.int8),
        anime_index=np.random.default_rng(1).permutation(data.test["anime_index"].to_numpy()),
    )
    second = evaluation_strategies(data, model.user_embeddings, model.anime_embeddings)["hybrid"].params
    assert first["weights"] == second["weights"] and first["ease_lambda"] == second["ease_lambda"]
