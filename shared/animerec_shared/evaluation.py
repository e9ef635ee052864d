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
from typing import Any

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


def _ranked_metrics(top: np.ndarray, relevant: np.ndarray, k: int, discounts: np.ndarray) -> tuple[float, float, float]:
    hits = np.isin(top, relevant)
    n_rel = min(len(relevant), k)
    return (float((hits * discounts[: len(hits)]).sum() / discounts[:n_rel].sum()), hits.sum() / n_rel,
            float(hits.any()))


def evaluate_strategy(score: ScoreFn, train_part: sp.csr_matrix, test: pd.DataFrame, k: int = 10,
                      batch: int = 256, users: np.ndarray | None = None, franchise: Any = None,
                      max_per_franchise: int = 1) -> dict[str, float]:
    """Returns {"ndcg@k", "recall@k", "hr@k", "users"} of a strategy under the protocol.

    With ``franchise`` (the ranking core's FranchiseModel), also the lists as served (see
    ``ranking.lists``): ``discovery_*@k`` of the discovery list (the franchises of the user's
    train part left out, ``max_per_franchise`` entries each, earliest standing for it) against
    the relevant held-out anime outside those franchises, over users with such an anime; and
    ``continue_hr@k``, the share of users with a relevant held-out anime in a franchise they rated
    whose continue list's first k entries hold one.
    """
    rel = relevant_items(test)
    eval_users = np.array(sorted(rel if users is None else set(users.tolist()) & set(rel)), dtype=np.int64)
    if len(eval_users) == 0:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"hr@{k}": 0.0, "users": 0}
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    plain = np.zeros((len(eval_users), 3))
    shaped = _Shaped(franchise, k, max_per_franchise) if franchise is not None else None
    for start in range(0, len(eval_users), batch):
        rows = eval_users[start:start + batch]
        scores = score(rows)
        top = top_k_masked(scores, train_part, rows, k)
        for j, u in enumerate(rows):
            plain[start + j] = _ranked_metrics(top[j], rel[int(u)], k, discounts)
            if shaped is not None:
                seen = train_part.indices[train_part.indptr[u]:train_part.indptr[u + 1]]
                shaped.add(np.asarray(scores[j], dtype=np.float64), seen, rel[int(u)], discounts)
    out = {f"ndcg@{k}": round(float(plain[:, 0].mean()), 4), f"recall@{k}": round(float(plain[:, 1].mean()), 4),
           f"hr@{k}": round(float(plain[:, 2].mean()), 4), "users": int(len(eval_users))}
    if shaped is not None:
        out.update(shaped.result())
    return out


class _Shaped:
    """Accumulates the discovery and continue figures of served lists, one user at a time."""

    def __init__(self, franchise: Any, k: int, max_per_franchise: int):
        from .ranking.lists import FranchiseLists

        self.lists = FranchiseLists(franchise.relations)
        self.rows = franchise.rated_rows              # anime_index -> catalogue row (-1: none)
        self.labels = franchise.labels()              # anime_index -> franchise label
        n_cat = len(franchise.relations.anime_ids)
        self.index_of = np.full(n_cat, -1, np.int64)  # catalogue row -> anime_index
        self.has_row = self.rows >= 0
        self.index_of[self.rows[self.has_row]] = np.flatnonzero(self.has_row)
        self.n_cat, self.k, self.cap = n_cat, k, max_per_franchise
        self.discovery: list[tuple[float, float, float]] = []
        self.continued: list[float] = []

    def add(self, scores: np.ndarray, seen: np.ndarray, relevant: np.ndarray, discounts: np.ndarray) -> None:
        cat = np.full(self.n_cat, -np.inf)
        cat[self.rows[self.has_row]] = scores[self.has_row]
        own = self.rows[seen]
        own = own[own >= 0]
        allowed = np.ones(self.n_cat, bool)
        allowed[own] = False
        own_labels = set(self.labels[seen].tolist())
        in_own = np.isin(self.labels[relevant], list(own_labels))
        new, more = relevant[~in_own], relevant[in_own]
        if len(new):
            shown = [self.index_of[e.row] for e in self.lists.discovery(cat, allowed, self.k, self.cap, own)]
            self.discovery.append(_ranked_metrics(np.array(shown, np.int64), new, self.k, discounts))
        if len(more):
            shown = [self.index_of[e.row] for e in self.lists.continue_list(cat, allowed, own, self.k)]
            self.continued.append(float(np.isin(np.array(shown, np.int64), more).any()))

    def result(self) -> dict[str, float]:
        d = np.array(self.discovery) if self.discovery else np.zeros((0, 3))
        k = self.k
        mean = lambda a: round(float(a.mean()), 4) if len(a) else 0.0  # noqa: E731
        return {f"discovery_ndcg@{k}": mean(d[:, 0]), f"discovery_recall@{k}": mean(d[:, 1]),
                f"discovery_hr@{k}": mean(d[:, 2]), "discovery_users": len(d),
                f"continue_hr@{k}": mean(np.array(self.continued)), "continue_users": len(self.continued)}


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
