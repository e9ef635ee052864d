"""Ranking core shared by the recommender (serving) and the evaluation (numpy/scipy/scikit-learn only).

Components (each a score over the rated anime): ``item_item`` (EASE on rating-weighted
interactions), ``collaborative`` (user embedding . anime embeddings), ``content`` (TF-IDF of genres
and synopsis against the user's taste profile), ``franchise`` (the other entries of the
franchises the user rated, by the strict relation of ``franchise_relations``), ``user_based``
(favourites of similar users),
``popularity`` and ``quality`` priors; ``hybrid`` blends their per-user z-scores with weights
tuned on the val split (see fitting.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .cold_start import evaluate_cold_start
from .datasets import ProcessedData
from .evaluation import ScoreFn
from .fitting import FittedRanking, fit_ranking
from .hybrid import blend, zscore
from .model import RankingModel
from .params import COMPONENTS, DEFAULT_WEIGHTS, RankingParams

__all__ = [
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "FittedRanking",
    "RankingModel",
    "RankingParams",
    "blend",
    "cold_start_metrics",
    "evaluation_strategies",
    "fit_ranking",
    "hybrid_params",
    "scores_of",
    "strategies_of",
    "zscore",
]


def hybrid_params(fitted: FittedRanking) -> dict[str, Any]:
    """Returns the hybrid's tuning report with the weights it serves (non-zero, available components)."""
    available = fitted.model.available()
    return {**fitted.report, "weights": {n: w for n, w in fitted.weights.items() if w and n in available}}


def strategies_of(fitted: FittedRanking) -> dict[str, ScoreFn]:
    """Returns {strategy name: score function} of a fitted ranking core (components and hybrid)."""
    model = fitted.model
    out: dict[str, ScoreFn] = {}
    for name in model.available():
        out[name] = (lambda n: lambda rows: model.component(n, rows))(name)
    params = hybrid_params(fitted)
    weights = params["weights"]

    def hybrid(rows: np.ndarray) -> np.ndarray:
        return blend({n: model.component(n, rows) for n in weights}, weights)

    hybrid.params = params  # type: ignore[attr-defined]
    hybrid.fitted = fitted  # type: ignore[attr-defined]
    out["hybrid"] = hybrid
    return out


def scores_of(fitted: FittedRanking) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """Returns a function of a block of users: {strategy: scores} of every component and the hybrid.

    Each component is computed once per block and the hybrid is blended from those arrays, so
    that an evaluation of all strategies (``evaluation.evaluate_strategies``) costs one pass.
    """
    model = fitted.model
    weights = hybrid_params(fitted)["weights"]

    def block(rows: np.ndarray) -> dict[str, np.ndarray]:
        comps = {n: model.component(n, rows) for n in model.available()}
        return {**comps, "hybrid": blend(comps, weights)}

    return block


def cold_start_metrics(
    fitted: FittedRanking, data: ProcessedData, on_batch: Callable[[int, int], None] | None = None
) -> dict[str, dict[str, float]]:
    """Returns the simulated cold-start evaluation on the test holdout (see cold_start.py).

    Rows: ``cold_popular`` (popularity), ``cold_hybrid`` (the blend tuned for known users) and
    ``cold_start`` (the blend tuned for cold start, what POST /recommendations serves).
    """
    p = fitted.params
    got = evaluate_cold_start(
        fitted.model,
        data.train_part,
        data.test,
        {"cold_hybrid": p.weights, "cold_start": p.cold_start_weights},
        p.cold_start_liked,
        p.liked_rating,
        p.seed,
        on_batch=on_batch,
    )
    return {("cold_popular" if k == "popularity" else k): v for k, v in got.items()}


def evaluation_strategies(
    data: ProcessedData,
    user_embeddings: np.ndarray | None = None,
    anime_embeddings: np.ndarray | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, ScoreFn]:
    """Returns {strategy name: score function} for every strategy the recommender serves.

    Fits on the train part after tuning EASE lambda and the hybrid weights on val (never on
    test); ``config`` overrides RankingParams fields (e.g. {"ease_top_n": 2000, "tune": False}).
    The hybrid score function carries its tuned weights and val report as ``.params``.
    """
    params = RankingParams().with_overrides(config)
    return strategies_of(fit_ranking(data, user_embeddings, anime_embeddings, params))
