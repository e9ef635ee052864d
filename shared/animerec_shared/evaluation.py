"""The evaluation protocol, the yardstick of every quality claim.

Per-user holdout (made at processing time, seeded); relevant = held-out items rated >= 8;
candidates = every rated anime not in the user's train part (train + val); NDCG@10, Recall@10
and HR@10 averaged over users with at least one relevant item. Recall@k divides the hits by
min(k, number of relevant items), so a perfect list scores 1.0.

A *strategy* is any callable ``score(user_indices) -> ndarray[len(user_indices), n_items]``;
higher is better. Items the user already has are masked here, not by the strategy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .datasets import RELEVANT_RATING

ScoreFn = Callable[[np.ndarray], np.ndarray]


def relevant_items(test: pd.DataFrame, threshold: int = RELEVANT_RATING) -> dict[int, np.ndarray]:
    """Returns {user_index: array of relevant held-out anime indices}."""
    rel = test[test["rating"] >= threshold]
    return {int(u): g["anime_index"].to_numpy() for u, g in rel.groupby("user_index")}


def top_k_masked(scores: np.ndarray, seen: sp.csr_matrix, rows: np.ndarray, k: int) -> np.ndarray:
    """Returns the top-k item indices of each row after masking the items the user has seen."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    sub = seen[rows]
    r, c = sub.nonzero()
    scores[r, c] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def evaluate_strategy(score: ScoreFn, train_part: sp.csr_matrix, test: pd.DataFrame, k: int = 10,
                      batch: int = 256, users: np.ndarray | None = None) -> dict[str, float]:
    """Returns {"ndcg@k", "recall@k", "hr@k", "users"} of a strategy under the protocol."""
    rel = relevant_items(test)
    eval_users = np.array(sorted(rel if users is None else set(users.tolist()) & set(rel)), dtype=np.int64)
    if len(eval_users) == 0:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"hr@{k}": 0.0, "users": 0}
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg = np.zeros(len(eval_users))
    recall = np.zeros(len(eval_users))
    hit = np.zeros(len(eval_users))
    for start in range(0, len(eval_users), batch):
        rows = eval_users[start:start + batch]
        top = top_k_masked(score(rows), train_part, rows, k)
        for j, u in enumerate(rows):
            relevant = rel[int(u)]
            hits = np.isin(top[j], relevant)
            n_rel = min(len(relevant), k)
            i = start + j
            ndcg[i] = float((hits * discounts[: len(hits)]).sum() / discounts[:n_rel].sum())
            recall[i] = hits.sum() / n_rel
            hit[i] = float(hits.any())
    return {f"ndcg@{k}": round(float(ndcg.mean()), 4), f"recall@{k}": round(float(recall.mean()), 4),
            f"hr@{k}": round(float(hit.mean()), 4), "users": int(len(eval_users))}


def popularity_scores(train_part: sp.csr_matrix) -> ScoreFn:
    """Returns the popularity strategy: every user gets the items' train-part rating counts."""
    counts = np.asarray((train_part > 0).sum(axis=0)).ravel().astype(np.float64)

    def score(rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(counts, (len(rows), len(counts)))

    return score


def embedding_scores(user_vectors: np.ndarray, item_vectors: np.ndarray) -> ScoreFn:
    """Returns the collaborative strategy: dot products of user and item embeddings."""

    def score(rows: np.ndarray) -> np.ndarray:
        return user_vectors[rows] @ item_vectors.T

    return score


def mean_prediction_bce(train_norm: np.ndarray, val_norm: np.ndarray) -> float:
    """Returns the BCE on val of always predicting the training mean (the floor a model must beat)."""
    p = float(np.clip(train_norm.mean(), 1e-7, 1 - 1e-7))
    y = val_norm.astype(np.float64)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
