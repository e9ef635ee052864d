"""User-based strategy (the seed's logic): favourites of the most similar users, weighted by similarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def favourites_matrix(ratings: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """Returns a binary users x anime matrix of each user's top-quartile anime (>= own 75th percentile).

    The percentile interpolates linearly between a user's sorted ratings, as pandas' and numpy's
    default ``quantile`` does (computed for all users at once: a groupby took 6 s at 2.5M ratings).
    """
    users = ratings["user_index"].to_numpy()
    r = ratings["rating"].to_numpy().astype(np.float64)
    order = np.lexsort((r, users))
    sorted_r = r[order]
    counts = np.bincount(users, minlength=n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = 0.75 * np.maximum(counts - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(counts - 1, 0))
    has = counts > 0
    q = np.full(n_users, np.inf)
    a, b = sorted_r[(starts + lo)[has]], sorted_r[(starts + hi)[has]]
    q[has] = a + (pos - lo)[has] * (b - a)
    fav = r >= q[users]
    return sp.csr_matrix(
        (np.ones(int(fav.sum()), np.float32), (users[fav], ratings["anime_index"].to_numpy()[fav])),
        shape=(n_users, n_items),
    )


def neighbour_weights(
    query: np.ndarray, user_vectors: np.ndarray, k: int, exclude: np.ndarray | None = None
) -> sp.csr_matrix:
    """Returns a sparse [n_queries, n_users] matrix holding the k best cosine similarities per query."""
    sims = np.asarray(query @ user_vectors.T, dtype=np.float32)
    if exclude is not None:
        ok = exclude >= 0
        sims[np.arange(len(sims))[ok], exclude[ok]] = -np.inf
    k = max(1, min(k, sims.shape[1] - (1 if exclude is not None else 0)))
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(sims, top, axis=1)
    vals = np.where(np.isfinite(vals), np.maximum(vals, 0.0), 0.0)
    rows = np.repeat(np.arange(len(sims)), k)
    return sp.csr_matrix((vals.ravel(), (rows, top.ravel())), shape=sims.shape)


def user_based_scores(
    query: np.ndarray, user_vectors: np.ndarray, favourites: sp.csr_matrix, k: int, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Returns float32 [n_queries, n_items]: similarity-weighted counts of neighbours' favourites."""
    w = neighbour_weights(query, user_vectors, k, exclude)
    return np.asarray((w @ favourites).toarray(), dtype=np.float32)
