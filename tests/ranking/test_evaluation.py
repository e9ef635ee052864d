"""The evaluation protocol computes the documented metrics exactly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from animerec_ranking.evaluation import evaluate_strategy, mean_prediction_bce, popularity_scores, top_k_masked


def _train(n_users: int, n_items: int, pairs: list[tuple[int, int]]) -> sp.csr_matrix:
    u, i = zip(*pairs, strict=False)
    return sp.csr_matrix((np.ones(len(pairs)), (u, i)), shape=(n_users, n_items))


def test_top_k_masked_never_returns_seen_items():
    train = _train(1, 5, [(0, 0), (0, 1)])
    scores = np.array([[9.0, 8.0, 1.0, 3.0, 2.0]])
    assert top_k_masked(scores, train, np.array([0]), 2).tolist() == [[3, 4]]


def test_evaluate_strategy_scores_perfect_and_partial_lists():
    train = _train(2, 6, [(0, 0), (1, 0)])
    test = pd.DataFrame({"user_index": [0, 0, 1, 1], "anime_index": [1, 2, 3, 4], "rating": [9, 8, 10, 5]})
    # user 0 relevant {1,2}; user 1 relevant {3} (rating 5 is not relevant)
    fixed = np.array([[0, 5, 4, 1, 1, 1], [0, 1, 1, 1, 1, 5]], dtype=float)  # u0: 1,2 first; u1: 5 then ties

    def score(rows):
        return fixed[rows]

    res = evaluate_strategy(score, train, test, k=2)
    disc = [1 / math.log2(2), 1 / math.log2(3)]
    # u0: perfect -> 1.0; u1: top-2 = [5, first of the ties 1..4] = [5, 1] -> no hit
    assert res["users"] == 2
    assert res["ndcg@2"] == round((1.0 + 0.0) / 2, 4)
    assert res["hr@2"] == 0.5
    assert res["recall@2"] == 0.5
    assert disc[0] > disc[1]


def test_popularity_counts_train_ratings():
    train = _train(3, 3, [(0, 2), (1, 2), (2, 1)])
    s = popularity_scores(train)(np.array([0, 1]))
    assert s.shape == (2, 3)
    assert s[0].tolist() == [0.0, 1.0, 2.0]


def test_mean_prediction_bce_matches_closed_form():
    y = np.array([0.0, 1.0, 0.5])
    p = 0.5
    expected = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    assert abs(mean_prediction_bce(np.array([0.5, 0.5]), y) - expected) < 1e-12


def _naive_metrics(scores: np.ndarray, train: sp.csr_matrix, test: pd.DataFrame, k: int) -> dict[str, float]:
    """The protocol written out user by user, for comparison with the vectorised evaluation."""
    rel = {int(u): set(g["anime_index"]) for u, g in test[test["rating"] >= 8].groupby("user_index")}
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    rows = []
    for u, relevant in sorted(rel.items()):
        s = scores[u].astype(float).copy()
        s[train[u].indices] = -np.inf
        top = sorted(range(len(s)), key=lambda i: (-s[i], i))[:k]
        hits = np.array([i in relevant for i in top])
        n = min(len(relevant), k)
        rows.append(((hits * disc).sum() / disc[:n].sum(), hits.sum() / n, float(hits.any())))
    m = np.array(rows)
    return {
        f"ndcg@{k}": round(m[:, 0].mean(), 4),
        f"recall@{k}": round(m[:, 1].mean(), 4),
        f"hr@{k}": round(m[:, 2].mean(), 4),
        "users": len(rows),
    }


def test_strategies_scored_together_in_blocks_equal_each_strategy_alone_and_the_naive_protocol():
    from animerec_ranking.evaluation import evaluate_strategies

    rng = np.random.default_rng(11)
    n_users, n_items = 300, 40
    train = sp.csr_matrix((rng.random((n_users, n_items)) < 0.2).astype(np.float32))
    held = [
        (u, i, int(rng.integers(1, 11)))
        for u in range(n_users)
        for i in rng.choice(n_items, 4, replace=False)
        if not train[u, i]
    ]
    test = pd.DataFrame(held, columns=["user_index", "anime_index", "rating"])
    a = rng.normal(size=(n_users, n_items))
    b = np.round(rng.normal(size=(n_users, n_items)), 1)  # with ties
    seen_blocks: list[int] = []

    def both(rows: np.ndarray) -> dict[str, np.ndarray]:
        seen_blocks.append(len(rows))
        return {"a": a[rows], "b": b[rows]}

    together = evaluate_strategies(both, train, test, k=5, batch=64)
    assert max(seen_blocks) == 64 and sum(seen_blocks) == together["a"]["users"]
    for name, scores in (("a", a), ("b", b)):
        alone = evaluate_strategy(lambda rows, s=scores: s[rows], train, test, k=5)
        assert together[name] == alone
    assert together["a"] == _naive_metrics(a, train, test, 5)
    assert evaluate_strategies(both, train, test.iloc[0:0], k=5) == {}
    assert evaluate_strategy(lambda rows: a[rows], train, test.iloc[0:0], k=5)["users"] == 0


def test_tuning_ndcg_equals_the_per_user_definition():
    from animerec_ranking.hybrid import ndcg_at_k

    rng = np.random.default_rng(2)
    scores = rng.normal(size=(50, 30)).astype(np.float32)
    seen = sp.csr_matrix((rng.random((50, 30)) < 0.3).astype(np.float32))
    relevant = [
        rng.choice(np.flatnonzero(seen[u].toarray().ravel() == 0), rng.integers(1, 4), replace=False) for u in range(50)
    ]
    test = pd.DataFrame(
        [(u, i, 10) for u, r in enumerate(relevant) for i in r], columns=["user_index", "anime_index", "rating"]
    )
    assert round(ndcg_at_k(scores, seen, relevant, k=7), 4) == _naive_metrics(scores, seen, test, 7)["ndcg@7"]


def test_favourites_are_each_users_top_quartile_as_pandas_quantile_computes_it():
    from animerec_ranking.user_based import favourites_matrix

    rng = np.random.default_rng(4)
    ratings = pd.DataFrame(
        {
            "user_index": rng.integers(0, 60, 2000),
            "anime_index": rng.integers(0, 90, 2000),
            "rating": rng.integers(1, 11, 2000),
        }
    ).drop_duplicates(["user_index", "anime_index"])
    q = ratings.groupby("user_index")["rating"].transform(lambda r: r.quantile(0.75))
    fav = ratings[ratings["rating"] >= q]
    expected = sp.csr_matrix((np.ones(len(fav)), (fav["user_index"], fav["anime_index"])), shape=(61, 90))
    got = favourites_matrix(ratings, 61, 90)  # user 60 has no rating: no favourite
    assert got.nnz == len(fav) and (got != expected).nnz == 0 and got[60].nnz == 0
