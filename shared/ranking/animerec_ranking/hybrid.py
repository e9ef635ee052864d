"""Hybrid blend: per-user z-scored component scores mixed with weights tuned on the val split."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .evaluation import block_metrics, relevance_matrix

WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5)


def zscore(scores: np.ndarray) -> np.ndarray:
    """Returns scores standardised per row (mean 0, std 1; a constant row becomes 0)."""
    s = np.asarray(scores, dtype=np.float32)
    mean = s.mean(axis=-1, keepdims=True)
    std = s.std(axis=-1, keepdims=True)
    return (s - mean) / np.where(std > 1e-9, std, 1.0)


def blend(components: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Returns the weighted sum of the z-scored components that have a non-zero weight."""
    out: np.ndarray | None = None
    for name, w in weights.items():
        if w and name in components:
            part = zscore(components[name]) * np.float32(w)
            out = part if out is None else out + part
    if out is None:
        any_part = next(iter(components.values()))
        return np.zeros_like(np.asarray(any_part, dtype=np.float32))
    return out


def ndcg_at_k(scores: np.ndarray, seen: sp.csr_matrix, relevant: list[np.ndarray], k: int = 10) -> float:
    """Returns the mean NDCG@k of score rows (seen items masked) against relevant item arrays."""
    s = np.array(scores, dtype=np.float32, copy=True)
    r, c = seen.nonzero()
    s[r, c] = -np.inf
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    if not len(relevant):
        return 0.0
    hits = np.take_along_axis(relevance_matrix(list(relevant), s.shape).toarray(), top, axis=1)
    lengths = np.array([len(rel) for rel in relevant], dtype=np.int64)
    return float(block_metrics(hits, lengths, k)[:, 0].mean())


def val_users(val: pd.DataFrame, liked_rating: int, limit: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Returns (user indices, their relevant val anime) for up to limit users with a liked val item."""
    rel = val[val["rating"] >= liked_rating]
    groups = {int(u): g["anime_index"].to_numpy() for u, g in rel.groupby("user_index")}
    users = np.array(sorted(groups), dtype=np.int64)
    if len(users) > limit:
        users = np.sort(np.random.default_rng(seed).choice(users, limit, replace=False))
    return users, [groups[int(u)] for u in users]


def _is_z(s: np.ndarray) -> bool:
    row = s[0] if len(s) else s
    return s.dtype == np.float32 and abs(float(row.mean())) < 1e-3 and abs(float(row.std()) - 1) < 1e-2


def tune_weights(
    components: Mapping[str, np.ndarray],
    seen: sp.csr_matrix,
    relevant: list[np.ndarray],
    start: Mapping[str, float] | None = None,
    rounds: int = 2,
    k: int = 10,
    min_gain: float = 0.0,
) -> tuple[dict[str, float], float]:
    """Returns (weights, val NDCG@k) found by coordinate ascent over WEIGHT_GRID.

    Starts from ``start`` or else from the best single component; a change is kept only when
    it improves val NDCG by more than the relative ``min_gain``.
    """
    z = components  # z-scoring is idempotent: callers may pass z-scores to save memory
    z = {n: s if _is_z(s) else zscore(s) for n, s in z.items()}

    def score(w: Mapping[str, float]) -> float:
        parts = [(z[n], np.float32(v)) for n, v in w.items() if v and n in z]
        if not parts:
            return -1.0
        total = parts[0][0] * parts[0][1]
        for part, v in parts[1:]:  # in place: one [users, anime] buffer per trial
            total += part * v
        return ndcg_at_k(total, seen, relevant, k)

    if start is None:
        singles = {n: score({n: 1.0}) for n in z}
        start = {max(singles, key=lambda n: singles[n]): 1.0}
    best = {n: float(start.get(n, 0.0)) for n in components}
    best_score = score(best)
    for _ in range(rounds):
        improved = False
        for name in components:
            for v in WEIGHT_GRID:
                if v == best[name]:
                    continue
                trial = {**best, name: v}
                s = score(trial)
                if s > best_score * (1.0 + min_gain) + 1e-9:
                    best, best_score, improved = trial, s, True
        if not improved:
            break
    return best, best_score
