"""The evaluation protocol computes the documented metrics exactly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from animerec_shared.evaluation import evaluate_strategy, mean_prediction_bce, popularity_scores, top_k_masked


def _train(n_users: int, n_items: int, pairs: list[tuple[int, int]]) -> sp.csr_matrix:
    u, i = zip(*pairs)
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
