"""Evaluation of a model version next to the baselines, under the shared protocol.

Strategies: popularity, collaborative (this version's embeddings), seed (the newest seed-recipe
version trained on the same processed dataset, when one exists) and whatever the recommender's
``ranking.evaluation_strategies`` provides (content, hybrid, ...); then the simulated cold starts
(``cold_popular``, ``cold_hybrid``, ``cold_start``: each test user known only by 5 liked anime, see
``animerec_shared.ranking.cold_start``). numpy only: no TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from animerec_shared import evaluation, ranking
from animerec_shared.datasets import ProcessedData, load_processed
from animerec_shared.errors import NotFoundError
from animerec_shared.model_versions import load_model_version
from animerec_shared.storage import Storage

from .versions import latest_version_of

METRIC_KEYS = ("ndcg@10", "recall@10", "hr@10")


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
    return {k: m[k] for k in (*METRIC_KEYS, "users") if k in m}


def evaluate_embeddings(data: ProcessedData, user_emb: np.ndarray, anime_emb: np.ndarray, *,
                        seed_emb: tuple[np.ndarray, np.ndarray] | None = None,
                        config: dict[str, Any] | None = None,
                        tuned: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Returns {strategy: {"ndcg@10", "recall@10", "hr@10", "users"}} on the test holdout.

    When ``tuned`` is a dict, it receives the hybrid's parameters tuned on val (weights, EASE
    lambda, val report), so that the recommender can serve them without tuning again.
    """
    seen = data.matrix(data.train_part)
    run = lambda fn: _scores(evaluation.evaluate_strategy(fn, seen, data.test))  # noqa: E731
    out = {"popularity": run(evaluation.popularity_scores(seen)),
           "collaborative": run(evaluation.embedding_scores(user_emb, anime_emb))}
    if seed_emb is not None:
        out["seed"] = run(evaluation.embedding_scores(*seed_emb))
    cold: dict[str, dict[str, Any]] = {}
    for name, fn in ranking.evaluation_strategies(data, user_emb, anime_emb, config).items():
        if name == "hybrid" and tuned is not None:
            tuned.update(getattr(fn, "params", {}))
        if name not in out:
            out[name] = run(fn)
        if name == "hybrid" and getattr(fn, "fitted", None) is not None:
            cold = ranking.cold_start_metrics(fn.fitted, data)
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


def evaluate_version(storage: Storage, version: str | None = None) -> dict[str, Any]:
    """Returns {"version", "model", "processed_id", "metrics": {strategy: {...}}, ...} of a version."""
    mv = load_model_version(storage, version)
    processed_id, data = load_dataset(storage, mv.processed_id)
    if len(mv.user_ids) != data.n_users or len(mv.anime_ids) != data.n_items:
        raise NotFoundError(f"processed dataset {processed_id} does not match version {mv.version}",
                            code="dataset_mismatch")
    is_seed = mv.config.get("model") == "seed"
    seed = None if is_seed else seed_embeddings(storage, processed_id)
    config = {**mv.config, "embeddings_saw_val": bool(mv.metrics.get("val_in_training", False))}
    metrics = evaluate_embeddings(data, mv.user_embeddings, mv.anime_embeddings, seed_emb=seed, config=config)
    if is_seed:
        metrics["seed"] = dict(metrics["collaborative"])
    stored = mv.metrics
    return {"version": mv.version, "model": mv.config.get("model"), "processed_id": processed_id,
            "metrics": metrics, "val_bce": stored.get("val_bce"), "mean_bce": stored.get("mean_bce"),
            "current": storage.get_current("models") == mv.version}
