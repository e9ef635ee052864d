"""Fitting the ranking core on a processed dataset: lambda and blend weights tuned on val, then a refit.

Tuning never sees the test holdout: components are fitted on ``train`` only and judged on
``val`` (relevant = val ratings >= liked_rating), then refitted on the train part (train + val).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from .cold_start import tune_cold_start
from .content import ContentModel, fit_content
from .datasets import ProcessedData
from .franchise import FranchiseModel, fit_franchise
from .hybrid import ndcg_at_k, tune_weights, val_users, zscore
from .item_item import fit_ease, gram, top_items
from .model import RankingModel, fit_model, interaction_weights, rows_matrix
from .params import RankingParams


@dataclass
class FittedRanking:
    """The served model (fitted on the train part), its tuned parameters and the tuning report."""

    model: RankingModel
    params: RankingParams
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.params.weights)

    @property
    def cold_start_weights(self) -> dict[str, float]:
        return dict(self.params.cold_start_weights)


def _content(data: ProcessedData, params: RankingParams) -> ContentModel | None:
    if data.anime is None or not len(data.anime):
        return None
    return fit_content(data.anime, data.anime_ids, params.content_genre_weight, params.content_max_features)


def _franchise(data: ProcessedData, params: RankingParams) -> FranchiseModel | None:
    if data.anime is None or not len(data.anime):
        return None
    return fit_franchise(data.anime, data.anime_ids)


def fold_in_users(weights: sp.csr_matrix, item_vectors: np.ndarray) -> np.ndarray:
    """Returns unit user vectors: the rating-weighted sum of the embeddings of the anime they liked."""
    v = np.asarray(weights @ item_vectors, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def tune(
    data: ProcessedData,
    params: RankingParams,
    user_vectors: np.ndarray | None,
    item_vectors: np.ndarray | None,
    content: ContentModel | None,
    reuse: dict[tuple[Any, ...], Any] | None = None,
    franchise: FranchiseModel | None = None,
) -> tuple[RankingParams, dict[str, Any]]:
    """Returns (params with the best EASE lambda and blend weights on val, a report of val NDCG@10).

    ``reuse`` keeps the embedding-independent part (the lambda search) for the next model
    version trained on the same processed dataset.
    """
    reuse = {} if reuse is None else reuse
    users, relevant = val_users(data.val, params.liked_rating, params.tune_users, params.seed)
    if len(users) == 0:
        return params, {"tuned": False, "reason": "no relevant val ratings"}
    shape = (data.n_users, data.n_items)
    train = data.train
    inputs = rows_matrix(train, interaction_weights(train["rating"].to_numpy(), params), shape)
    seen = rows_matrix(train, np.ones(len(train), np.float32), shape)[users]
    key = ("tune_ease", params.ease_top_n, params.ease_lambda_grid, params.liked_rating, params.unliked_weight)
    if key not in reuse:
        items = top_items(inputs, params.ease_top_n)
        g = gram(inputs, items)
        lambdas: dict[str, float] = {}
        best_ease, best_ndcg = None, -1.0
        for lam in params.ease_lambda_grid:
            ease = fit_ease(inputs, float(lam), params.ease_top_n, g=g, items=items)
            ndcg = round(ndcg_at_k(ease.score(inputs[users]), seen, relevant, params.tune_k), 4)
            lambdas[str(float(lam))] = ndcg
            if ndcg > best_ndcg:
                best_ease, best_ndcg = ease, ndcg
        del g
        reuse[key] = (best_ease, lambdas)
    best_ease, lambdas = reuse[key]
    params = replace(params, ease_lambda=best_ease.lam)
    model = fit_model(
        train,
        data.n_users,
        data.n_items,
        None,
        data.anime_ids,
        params,
        user_vectors,
        item_vectors,
        content=content,
        ease=best_ease,
        franchise=franchise,
    )
    if params.embeddings_saw_val and item_vectors is not None:
        model.user_vectors = fold_in_users(model.content_inputs, item_vectors)
    comps = {n: zscore(model.component(n, users)) for n in model.available()}  # one copy per component
    per_component = {n: round(ndcg_at_k(s, seen, relevant, params.tune_k), 4) for n, s in comps.items()}
    weights, val_ndcg = tune_weights(comps, seen, relevant, k=params.tune_k, min_gain=params.tune_min_gain)
    del comps
    cold, cold_components, cold_ndcg, n_queries = tune_cold_start(
        model,
        train,
        {int(u): r for u, r in zip(users, relevant, strict=False)},
        params.cold_start_liked,
        params.liked_rating,
        params.tune_users,
        params.seed,
        params.tune_k,
        params.tune_min_gain,
    )
    report = {
        "tuned": True,
        "val_users": int(len(users)),
        "ease_lambda": best_ease.lam,
        "tune_k": params.tune_k,
        "val_ndcg_by_lambda": lambdas,
        "val_ndcg": per_component,
        "val_ndcg_hybrid": round(val_ndcg, 4),
        "weights": weights,
        "cold_start": {
            "liked": params.cold_start_liked,
            "queries": n_queries,
            "val_ndcg": cold_components,
            "val_ndcg_hybrid": round(cold_ndcg, 4),
        },
        "cold_start_weights": cold or dict(params.cold_start_weights),
    }  # no queries: keep the default
    return replace(params, weights=weights, cold_start_weights=report["cold_start_weights"]), report


def fit_ranking(
    data: ProcessedData,
    user_vectors: np.ndarray | None = None,
    item_vectors: np.ndarray | None = None,
    params: RankingParams | None = None,
    reuse: dict[tuple[Any, ...], Any] | None = None,
) -> FittedRanking:
    """Returns the ranking core fitted on the train part, tuned on val first when params.tune.

    ``reuse`` (one dict per processed dataset, kept by the caller) carries the parts that do not
    depend on the embeddings (content and franchise models, lambda search, final EASE) to the
    next fit.
    """
    params = params or RankingParams()
    reuse = {} if reuse is None else reuse
    start = time.perf_counter()
    ckey = ("content", params.content_genre_weight, params.content_max_features)
    if ckey not in reuse:
        reuse[ckey] = _content(data, params)
    content = reuse[ckey]
    fkey = ("franchise",)
    if fkey not in reuse:
        reuse[fkey] = _franchise(data, params)
    franchise = reuse[fkey]
    report: dict[str, Any] = {"tuned": False}
    if params.tune and len(data.val):
        params, report = tune(data, params, user_vectors, item_vectors, content, reuse, franchise)
    ekey = ("final_ease", params.ease_top_n, params.ease_lambda, params.liked_rating, params.unliked_weight)
    model = fit_model(
        data.train_part,
        data.n_users,
        data.n_items,
        None,
        data.anime_ids,
        params,
        user_vectors,
        item_vectors,
        content=content,
        ease=reuse.get(ekey),
        franchise=franchise,
    )
    reuse[ekey] = model.ease
    report["fit_seconds"] = round(time.perf_counter() - start, 2)
    return FittedRanking(model=model, params=params, report=report)
