"""The evaluation protocol, the yardstick of every quality claim.

Per-user holdout (made at processing time, seeded); relevant = held-out items rated >= 8;
candidates = every rated anime not in the user's train part (train + val); NDCG@10, Recall@10
and HR@10 averaged over users with at least one relevant item. Recall@k divides the hits by
min(k, number of relevant items), so a perfect list scores 1.0.

A *strategy* is any callable ``score(user_indices) -> ndarray[len(user_indices), n_items]``;
higher is better. Items the user already has are masked here, not by the strategy.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
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
    return (
        float((hits * discounts[: len(hits)]).sum() / discounts[:n_rel].sum()),
        hits.sum() / n_rel,
        float(hits.any()),
    )


def evaluate_strategy(
    score: ScoreFn,
    train_part: sp.csr_matrix,
    test: pd.DataFrame,
    k: int = 10,
    batch: int = 256,
    users: np.ndarray | None = None,
    franchise: Any = None,
    max_per_franchise: int = 1,
) -> dict[str, float]:
    """Returns {"ndcg@k", "recall@k", "hr@k", "users"} of a strategy under the protocol.

    With ``franchise`` (the ranking core's FranchiseModel), also the lists as served (see
    ``ranking.lists``): ``discovery_*@k`` of the discovery list (the franchises of the user's
    train part left out, ``max_per_franchise`` entries each, earliest standing for it) against
    the relevant held-out anime outside those franchises, over users with such an anime; and
    ``continue_hr@k``, the share of users with a relevant held-out anime in a franchise they rated
    whose continue list's first k entries hold one.
    """
    got = evaluate_strategies(
        lambda rows: {"strategy": score(rows)}, train_part, test, k, batch, users, franchise, max_per_franchise
    )
    return got.get("strategy", no_users(k))


def no_users(k: int = 10) -> dict[str, float]:
    """Returns the figures of a strategy evaluated on no user."""
    return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"hr@{k}": 0.0, "users": 0}


def evaluate_strategies(
    scores: Callable[[np.ndarray], Mapping[str, np.ndarray]],
    train_part: sp.csr_matrix,
    test: pd.DataFrame,
    k: int = 10,
    batch: int = 256,
    users: np.ndarray | None = None,
    franchise: Any = None,
    max_per_franchise: int = 1,
    shaped: Collection[str] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Returns {strategy: figures of ``evaluate_strategy``} of several strategies scored together.

    ``scores(user_indices)`` returns {strategy: ndarray[len(user_indices), n_items]} for one block
    of users, so that strategies built from the same components compute them once, and memory
    stays at one block (``batch`` users) whatever the number of users. With ``franchise``, the
    lists as served are evaluated for the strategies named in ``shaped`` (default: all).
    ``on_batch(done, total)`` reports progress in users. With no user to evaluate, the answer is
    empty (see ``no_users``).
    """
    rel = relevant_items(test)
    eval_users = np.array(sorted(rel if users is None else set(users.tolist()) & set(rel)), dtype=np.int64)
    relevant = relevance_matrix([rel[int(u)] for u in eval_users], train_part.shape, rows=eval_users)
    plain: dict[str, np.ndarray] = {}
    lists = _Shaped(franchise, k, max_per_franchise) if franchise is not None else None
    for start in range(0, len(eval_users), batch):
        rows = eval_users[start : start + batch]
        hit_of = relevant[rows].toarray()
        contexts = None
        for name, block in scores(rows).items():
            top = top_k_masked(block, train_part, rows, k)
            if name not in plain:
                plain[name] = np.zeros((len(eval_users), 3))
            plain[name][start : start + len(rows)] = block_metrics(
                np.take_along_axis(hit_of, top, axis=1), hit_of.sum(axis=1), k
            )
            if lists is not None and (shaped is None or name in shaped):
                if contexts is None:  # what depends on the user only, once for every strategy
                    contexts = [
                        lists.context(train_part.indices[train_part.indptr[u] : train_part.indptr[u + 1]], rel[int(u)])
                        for u in rows
                    ]
                for j, ctx in enumerate(contexts):
                    lists.add(name, np.asarray(block[j], dtype=np.float64), ctx)
        if on_batch is not None:
            on_batch(start + len(rows), len(eval_users))
    out: dict[str, dict[str, float]] = {}
    for name, m in plain.items():
        out[name] = {
            f"ndcg@{k}": round(float(m[:, 0].mean()), 4),
            f"recall@{k}": round(float(m[:, 1].mean()), 4),
            f"hr@{k}": round(float(m[:, 2].mean()), 4),
            "users": int(len(eval_users)),
        }
        if lists is not None and name in lists.discovery:
            out[name].update(lists.result(name))
    return out


def relevance_matrix(
    relevant: list[np.ndarray], shape: tuple[int, int], rows: np.ndarray | None = None
) -> sp.csr_matrix:
    """Returns the bool [shape] matrix with relevant[j] set in row rows[j] (default: row j)."""
    lengths = [len(r) for r in relevant]
    rows = np.arange(len(relevant)) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.concatenate(relevant) if relevant else np.zeros(0, np.int64)
    return sp.csr_matrix((np.ones(len(cols), bool), (np.repeat(rows, lengths), cols)), shape=shape, dtype=bool)


def block_metrics(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Returns [users, 3] NDCG@k, Recall@k and HR@k of top-k hit rows (bool [users, <= k])."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.concatenate([[1.0], np.cumsum(discounts)])  # ideal DCG of 0..k relevant anime (0: unused)
    n_rel = np.maximum(np.minimum(n_relevant, k), 1)
    return np.column_stack(
        [(hits * discounts[: hits.shape[1]]).sum(axis=1) / ideal[n_rel], hits.sum(axis=1) / n_rel, hits.any(axis=1)]
    )


class _Shaped:
    """Accumulates the discovery and continue figures of served lists, one user at a time, per strategy."""

    def __init__(self, franchise: Any, k: int, max_per_franchise: int):
        from .lists import FranchiseLists

        self.lists = FranchiseLists(franchise.relations)
        self.rows = franchise.rated_rows  # anime_index -> catalogue row (-1: none)
        self.labels = franchise.labels()  # anime_index -> franchise label
        n_cat = len(franchise.relations.anime_ids)
        self.index_of = np.full(n_cat, -1, np.int64)  # catalogue row -> anime_index
        self.has_row = self.rows >= 0
        self.index_of[self.rows[self.has_row]] = np.flatnonzero(self.has_row)
        self.n_cat, self.k, self.cap = n_cat, k, max_per_franchise
        self.discounts = 1.0 / np.log2(np.arange(2, k + 2))
        self.discovery: dict[str, list[tuple[float, float, float]]] = {}
        self.continued: dict[str, list[float]] = {}

    def context(self, seen: np.ndarray, relevant: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Returns what a user's lists need whatever the strategy: (own rows, allowed, new, more).

        new: relevant anime outside the user's franchises (discovery); more: inside (continue).
        """
        own = self.rows[seen]
        own = own[own >= 0]
        allowed = np.ones(self.n_cat, bool)
        allowed[own] = False
        in_own = np.isin(self.labels[relevant], self.labels[seen])
        return own, allowed, relevant[~in_own], relevant[in_own]

    def add(self, name: str, scores: np.ndarray, context: tuple[np.ndarray, ...]) -> None:
        own, allowed, new, more = context
        discovery, continued = self.discovery.setdefault(name, []), self.continued.setdefault(name, [])
        cat = np.full(self.n_cat, -np.inf)
        cat[self.rows[self.has_row]] = scores[self.has_row]
        if len(new):
            shown = [self.index_of[e.row] for e in self.lists.discovery(cat, allowed, self.k, self.cap, own)]
            discovery.append(_ranked_metrics(np.array(shown, np.int64), new, self.k, self.discounts))
        if len(more):
            shown = [self.index_of[e.row] for e in self.lists.continue_list(cat, allowed, own, self.k)]
            continued.append(float(np.isin(np.array(shown, np.int64), more).any()))

    def result(self, name: str) -> dict[str, float]:
        d = np.array(self.discovery[name]) if self.discovery[name] else np.zeros((0, 3))
        k = self.k
        mean = lambda a: round(float(a.mean()), 4) if len(a) else 0.0  # noqa: E731
        return {
            f"discovery_ndcg@{k}": mean(d[:, 0]),
            f"discovery_recall@{k}": mean(d[:, 1]),
            f"discovery_hr@{k}": mean(d[:, 2]),
            "discovery_users": len(d),
            f"continue_hr@{k}": mean(np.array(self.continued[name])),
            "continue_users": len(self.continued[name]),
        }


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
