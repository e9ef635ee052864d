"""Evaluation of a model version next to the baselines, under the shared protocol.

Strategies: popularity, collaborative (this version's embeddings), seed (the newest seed-recipe
version trained on the same processed dataset, when one exists) and whatever the recommender's
``ranking.evaluation_strategies`` provides (content, hybrid, ...); then the simulated cold starts
(``cold_popular``, ``cold_hybrid``, ``cold_start``: each test user known only by 5 liked anime, see
``animerec_ranking.cold_start``). numpy only: no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import animerec_ranking as ranking
from animerec_ranking import RankingParams, evaluation
from animerec_ranking.datasets import ProcessedData, load_processed
from animerec_ranking.model_versions import load_model_version
from animerec_shared.errors import NotFoundError
from animerec_shared.storage import Storage

from .versions import latest_version_of

METRIC_KEYS = ("ndcg@10", "recall@10", "hr@10")
# The lists as served (franchise-aware): discovery and continue (see animerec_ranking.evaluation).
LIST_KEYS = (
    "discovery_ndcg@10",
    "discovery_recall@10",
    "discovery_hr@10",
    "discovery_users",
    "continue_hr@10",
    "continue_users",
)


Progress = Callable[[str, float], None]
# Strategies whose lists as served (discovery, continue) are evaluated: the served hybrid and its
# baselines. The single components get the plain figures only (the served lists cost about 0.5 ms
# a user and strategy: in the 5M-row evaluation 81 s for all eight, 36 s for these without a seed).
SHAPED_LISTS = ("popularity", "collaborative", "seed", "item_item", "hybrid")


class ProcessedNotFound(NotFoundError):
    code = "processed_not_found"


def load_dataset(storage: Storage, processed_id: str | None = None) -> tuple[str, ProcessedData]:
    """Returns (processed_id, data) of the given (default: current) processed dataset."""
    processed_id = processed_id or storage.get_current("processed")
    if not processed_id:
        raise ProcessedNotFound("no processed dataset yet: run `animerec ingest` and `animerec process` first")
    if not storage.is_published(f"processed/{processed_id}"):
        raise ProcessedNotFound(f"processed dataset {processed_id!r} does not exist")
    return processed_id, load_processed(storage.fetch_dir(f"processed/{processed_id}"))


def _scores(m: dict[str, Any]) -> dict[str, Any]:
    return {k: m[k] for k in (*METRIC_KEYS, "users", *LIST_KEYS) if k in m}


def evaluate_embeddings(
    data: ProcessedData,
    user_emb: np.ndarray,
    anime_emb: np.ndarray,
    *,
    seed_emb: tuple[np.ndarray, np.ndarray] | None = None,
    config: dict[str, Any] | None = None,
    tuned: dict[str, Any] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, dict[str, Any]]:
    """Returns {strategy: {"ndcg@10", "recall@10", "hr@10", "users", discovery/continue}} on the test holdout.

    The plain single list (comparable with peers) and, when the catalogue has franchises, the
    lists as served: the discovery list and the continue list's hit rate (``LIST_KEYS``, for the
    strategies of ``SHAPED_LISTS``). Every
    strategy is scored in one pass over blocks of users (see ``evaluation.evaluate_strategies``).

    When ``tuned`` is a dict, it receives the hybrid's parameters tuned on val (weights, EASE
    lambda, val report), so that the recommender can serve them without tuning again.
    ``on_progress(step, fraction)`` is told "fitting", "known users" and "cold start" as they go.
    """
    report = on_progress or (lambda step, fraction: None)
    seen = data.matrix(data.train_part)
    report("fitting", 0.0)
    fitted = ranking.fit_ranking(data, user_emb, anime_emb, RankingParams().with_overrides(config))
    if tuned is not None:
        tuned.update(ranking.hybrid_params(fitted))
    franchise = fitted.model.franchise
    fixed = {
        "popularity": evaluation.popularity_scores(seen),
        "collaborative": evaluation.embedding_scores(user_emb, anime_emb),
    }
    if seed_emb is not None:
        fixed["seed"] = evaluation.embedding_scores(*seed_emb)
    served = ranking.scores_of(fitted)

    def scores(rows: np.ndarray) -> dict[str, np.ndarray]:
        out = {name: fn(rows) for name, fn in fixed.items()}
        for name, block in served(rows).items():
            out.setdefault(name, block)  # the protocol's popularity and raw embeddings come first
        return out

    got = evaluation.evaluate_strategies(
        scores,
        seen,
        data.test,
        franchise=franchise,
        shaped=SHAPED_LISTS,
        on_batch=lambda done, total: report("known users", done / total),
    )
    out = {name: _scores(m) for name, m in got.items()}
    cold = ranking.cold_start_metrics(fitted, data, on_batch=lambda done, total: report("cold start", done / total))
    out.update({name: _scores(m) for name, m in cold.items()})  # simulated cold starts, last
    return out


def tune_blend(data: ProcessedData, user_emb: np.ndarray, anime_emb: np.ndarray) -> dict[str, Any]:
    """Returns the hybrid's parameters (weights, EASE lambda, val report) tuned on val.

    The embeddings must not have seen val (a model fitted on train only).
    """
    fn = ranking.evaluation_strategies(data, user_emb, anime_emb, {"embeddings_saw_val": False})["hybrid"]
    return dict(getattr(fn, "params", {}))


def seed_embeddings(storage: Storage, processed_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Returns the newest seed-recipe version's embeddings for this processed dataset, if any."""
    version = latest_version_of(storage, "seed", processed_id)
    if version is None:
        return None
    mv = load_model_version(storage, version)
    return mv.user_embeddings, mv.anime_embeddings


def blend_source(blend: dict[str, Any] | None) -> str:
    """Returns "stored" when a version's ``hybrid_params`` are served as is, else "tuned on val".

    The recommender's rule (``RankingParams.with_stored_blend``): a blend with weights is served
    without tuning; none (an old version) means tuning on val when the version loads.
    """
    return "tuned on val" if RankingParams().with_stored_blend(blend).tune else "stored"


def evaluate_model(
    storage: Storage,
    processed_id: str,
    data: ProcessedData,
    user_emb: np.ndarray,
    anime_emb: np.ndarray,
    *,
    model: str | None,
    embeddings_saw_val: bool,
    blend: dict[str, Any] | None = None,
    on_progress: Progress | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Returns (strategies, hybrid_params) of a model's embeddings, evaluated as the recommender serves them.

    The one evaluation of a model version: the training run's final evaluation and
    ``evaluate_version`` both call it, so that they print the same figures. ``blend`` (a version's
    ``hybrid_params``: weights, ease_lambda, cold_start_weights) is served as is, every field
    ``RankingParams.with_stored_blend`` sets; without one, EASE lambda and both blends are tuned on
    val first (``embeddings_saw_val``: fold user vectors in from train, so val stays unseen).
    The returned hybrid_params are the blend that was evaluated (what metrics.json stores).
    The ``seed`` row compares the newest seed-recipe version on this processed dataset (for a
    seed version: its own ``collaborative`` row).
    """
    seed = None if model == "seed" else seed_embeddings(storage, processed_id)
    params = RankingParams().with_stored_blend(blend)
    config = params.as_dict() if not params.tune else {}
    config["embeddings_saw_val"] = bool(embeddings_saw_val)
    tuned: dict[str, Any] = {}
    strategies = evaluate_embeddings(
        data, user_emb, anime_emb, seed_emb=seed, config=config, tuned=tuned, on_progress=on_progress
    )
    if not params.tune and blend:
        tuned = {**blend, "weights": tuned.get("weights", blend.get("weights"))}
    if model == "seed":
        strategies["seed"] = dict(strategies["collaborative"])
    return strategies, tuned


def evaluate_version(
    storage: Storage, version: str | None = None, on_progress: Progress | None = None
) -> dict[str, Any]:
    """Returns {"version", "model", "processed_id", "metrics": {strategy: {...}}, "blend", ...} of a version.

    The hybrid and cold-start rows use the blend stored in the version's metrics.json
    (``hybrid_params``), as the recommender serves it and as the training run that made the
    version evaluated it (``evaluate_model``): the same figures. A version without a stored blend
    is tuned on val, as the recommender would. The ``seed`` row uses the newest seed version on
    the processed dataset, which may be newer than the one the training run compared.
    """
    mv = load_model_version(storage, version)
    processed_id, data = load_dataset(storage, mv.processed_id)
    if len(mv.user_ids) != data.n_users or len(mv.anime_ids) != data.n_items:
        raise NotFoundError(
            f"processed dataset {processed_id} does not match version {mv.version}", code="dataset_mismatch"
        )
    stored = mv.metrics
    blend = stored.get("hybrid_params")
    metrics, hybrid_params = evaluate_model(
        storage,
        processed_id,
        data,
        mv.user_embeddings,
        mv.anime_embeddings,
        model=mv.config.get("model"),
        embeddings_saw_val=bool(stored.get("val_in_training", False)),
        blend=blend,
        on_progress=on_progress,
    )
    return {
        "version": mv.version,
        "model": mv.config.get("model"),
        "processed_id": processed_id,
        "metrics": metrics,
        "blend": blend_source(blend),
        "hybrid_params": hybrid_params,
        "val_bce": stored.get("val_bce"),
        "mean_bce": stored.get("mean_bce"),
        "current": storage.get_current("models") == mv.version,
    }
