"""Cold start (someone known only by a few liked anime): the fold-in and a blend tuned for it.

A handful of liked anime carries far less signal than a rating history, so the blend tuned for
known users is not the best one here. The cold-start blend is tuned the same way, on val only,
with simulated queries: for each val user, ``cold_start_liked`` anime they liked in train are the
query and their liked val anime are the relevant ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .hybrid import ndcg_at_k, tune_weights, zscore
from .model import RankingModel

# user_based scans every user's embedding per request (325,772 at full MAL scale) and added
# nothing on val: cold-start val NDCG@50 on the real sample 0.1149 with it (a one-off script
# run with this tuning), 0.1180 without (the pipeline's hybrid_params.cold_start).
NOT_FOR_COLD_START = ("user_based",)


def fold_in(item_vectors: np.ndarray, liked: np.ndarray, disliked: np.ndarray | None = None) -> np.ndarray | None:
    """Returns a unit user vector: the mean liked embedding minus half the mean disliked one."""
    if len(liked) == 0:
        return None
    v = item_vectors[liked].mean(axis=0)
    if disliked is not None and len(disliked):
        v = v - 0.5 * item_vectors[disliked].mean(axis=0)
    v = np.asarray(v, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-12 else v


def simulated_queries(
    ratings: pd.DataFrame, relevant: Mapping[int, np.ndarray], liked_rating: int, n_liked: int, limit: int, seed: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Returns (queries, relevant anime): n_liked random liked anime of each user in ``relevant``.

    Users with fewer than n_liked liked anime in ``ratings`` are skipped; at most ``limit`` users.
    """
    rng = np.random.default_rng(seed)
    liked = ratings[ratings["rating"] >= liked_rating].sort_values("user_index", kind="stable")
    users = liked["user_index"].to_numpy()
    items = liked["anime_index"].to_numpy()
    wanted = np.array(sorted(relevant), dtype=users.dtype)
    starts, ends = np.searchsorted(users, wanted), np.searchsorted(users, wanted, side="right")
    queries, rel = [], []
    for u, a, b in zip(wanted.tolist(), starts, ends, strict=False):
        if b - a >= n_liked:
            queries.append(np.sort(rng.choice(items[a:b], n_liked, replace=False)).astype(np.int64))
            rel.append(relevant[u])
    if len(queries) > limit:
        keep = np.sort(rng.choice(len(queries), limit, replace=False))
        queries, rel = [queries[i] for i in keep], [rel[i] for i in keep]
    return queries, rel


def query_scores(model: RankingModel, names: list[str], queries: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Returns {component: z-scored float32 [n_queries, n_items]} of (at least one) liked-set queries."""
    names = list(dict.fromkeys(names))
    rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for liked in queries:
        ones = np.ones(len(liked), np.float32)
        uv = fold_in(model.item_vectors, liked) if model.item_vectors is not None else None
        comps = model.query_components(names, liked, ones, ones, uv)
        for n in names:
            rows[n].append(comps[n])
    return {n: zscore(np.vstack(v)) for n, v in rows.items()}


def query_mask(queries: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Returns the [n_queries, n_items] mask of each query's own anime (never recommended back)."""
    lengths = [len(q) for q in queries]
    rows = np.repeat(np.arange(len(queries)), lengths)
    cols = np.concatenate(queries) if queries else np.zeros(0, np.int64)
    return sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(queries), n_items))


def tune_cold_start(
    model: RankingModel,
    ratings: pd.DataFrame,
    relevant: Mapping[int, np.ndarray],
    n_liked: int,
    liked_rating: int,
    limit: int,
    seed: int,
    k: int,
    min_gain: float,
) -> tuple[dict[str, float], dict[str, float], float, int]:
    """Returns (weights, val NDCG@k per component, val NDCG@k of the blend, queries) for cold start."""
    queries, rel = simulated_queries(ratings, relevant, liked_rating, n_liked, limit, seed)
    if not queries:
        return {}, {}, 0.0, 0
    comps = query_scores(model, [n for n in model.available() if n not in NOT_FOR_COLD_START], queries)
    seen = query_mask(queries, model.n_items)
    per_component = {n: round(ndcg_at_k(s, seen, rel, k), 4) for n, s in comps.items()}
    weights, ndcg = tune_weights(comps, seen, rel, k=k, min_gain=min_gain)
    return weights, per_component, ndcg, len(queries)


def evaluate_cold_start(
    model: RankingModel,
    ratings: pd.DataFrame,
    test: pd.DataFrame,
    blends: Mapping[str, Mapping[str, float]],
    n_liked: int,
    liked_rating: int,
    seed: int,
    k: int = 10,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Returns {blend name: {"ndcg@k", "recall@k", "hr@k", "users"}} of simulated cold starts.

    The protocol of evaluation.py with one change: each test user is known only by n_liked random
    anime they liked in ``ratings`` (the train part); only those are masked; relevant = their
    held-out anime rated >= 8. ``popularity`` on the same queries comes first for comparison.
    """
    from .evaluation import evaluate_strategies, relevant_items

    held_out_liked = relevant_items(test)
    queries, rel = simulated_queries(ratings, held_out_liked, liked_rating, n_liked, len(held_out_liked), seed)
    if not queries:
        return {}
    names = sorted(({n for w in blends.values() for n, v in w.items() if v} | {"popularity"}) & set(model.available()))
    used = {label: {n: float(w) for n, w in weights.items() if w and n in names} for label, weights in blends.items()}
    used = {label: w for label, w in used.items() if w}

    def scores(rows: np.ndarray) -> dict[str, np.ndarray]:  # one block of queries at a time: memory stays flat
        comps = query_scores(model, names, [queries[r] for r in rows])
        out = {"popularity": comps["popularity"]}
        for label, w in used.items():
            out[label] = np.asarray(sum(comps[n] * v for n, v in w.items()), dtype=np.float32)
        return out

    seen = query_mask(queries, model.n_items)
    held_out = pd.DataFrame(
        {
            "user_index": np.repeat(np.arange(len(rel)), [len(r) for r in rel]),
            "anime_index": np.concatenate(rel),
            "rating": 10,
        }
    )
    return evaluate_strategies(scores, seen, held_out, k=k, on_batch=on_batch)
