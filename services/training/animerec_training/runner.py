"""One training run, start to finish: data, model, Comet, evaluation, model version, promotion.

Runs inside a dedicated process (the CLI, or a child of the API). Progress goes to a
``StatusFile`` so that the API can report it while this process is busy.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from animerec_ranking import evaluation
from animerec_ranking.model_versions import new_version_id
from animerec_shared.cli import progress
from animerec_shared.storage import Storage, open_storage

from . import versions
from .config import Settings
from .evaluate import evaluate_model, load_dataset, tune_blend
from .runtime import configure_tensorflow, distribution_strategy, is_chief
from .status import PHASE_UNITS, ProgressHook, RunProgress, StatusFile
from .tracking import Tracker, upload_hint


def run_training(
    settings: Settings,
    *,
    model: str | None = None,
    epochs: int | None = None,
    processed_id: str | None = None,
    promote: str | None = None,
    params: dict[str, Any] | None = None,
    status: StatusFile | None = None,
    on_progress: ProgressHook | None = None,
) -> dict[str, Any]:
    """Returns the run summary {"version", "model", "metrics", "promoted", ...} after publishing a version.

    Raises whatever failed; the status file then says "failed" with the error.
    ``on_progress(phase, phase_fraction, progress, eta_s)`` is told every progress change.
    """
    status = status or StatusFile(None)
    try:
        return _run(
            settings,
            model or settings.default_model,
            epochs,
            processed_id,
            promote or settings.default_promote,
            params or {},
            status,
            on_progress,
        )
    except BaseException as exc:
        status.update(state="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        raise


def _run(
    settings: Settings,
    model_name: str,
    epochs: int | None,
    processed_id: str | None,
    promote: str,
    overrides: dict[str, Any],
    status: StatusFile,
    on_progress: ProgressHook | None,
) -> dict[str, Any]:
    storage = open_storage(settings.storage_url)
    if promote == "if_better":
        # fail fast: if_better compares with the current version, which a corrupt models/CURRENT hides
        # (CorruptPointer names the key); better now than after the whole fit
        storage.get_current("models")
    status.update(state="running", model=model_name, phase="loading data")
    started = time.perf_counter()
    processed_id, data = load_dataset(storage, processed_id)
    load_seconds = round(time.perf_counter() - started, 2)
    version = new_version_id()
    with tempfile.TemporaryDirectory(prefix="animerec-train-") as tmp:
        work = Path(tmp)
        # Comet first: it wants to be imported before TensorFlow.
        tracker = Tracker(
            api_key=settings.comet_api_key,
            project=settings.comet_project_name,
            workspace=settings.comet_workspace,
            name=version,
            offline_dir=work / "comet",
        )
        tf = configure_tensorflow(
            settings.threads,
            settings.seed,
            settings.deterministic,
            settings.cpu_replicas if settings.strategy == "mirrored" else 1,
        )
        strategy = distribution_strategy(settings.strategy)
        from .models import registry  # imports TensorFlow/Keras: only ever inside the training process

        params = {**registry.default_params(model_name), **overrides}
        if epochs:
            params["epochs"] = int(epochs)
        status.update(version=None, epochs=int(params["epochs"]), phase="training", planned_version=version)
        progress(
            f"training {model_name} on processed/{processed_id} ({data.n_users} users, {data.n_items} anime, "
            f"{len(data.train):,} train ratings) for up to {params['epochs']} epochs -> {version}"
        )
        tracker.log_parameters(
            {
                **params,
                "model": model_name,
                "processed_id": processed_id,
                "seed": settings.seed,
                "n_users": data.n_users,
                "n_items": data.n_items,
                "train_ratings": len(data.train),
                "tensorflow": tf.__version__,
                "strategy": settings.strategy,
                "replicas": strategy.num_replicas_in_sync,
            }
        )

        tune_blend_first = bool(
            settings.tune_hybrid
            and model_name == "two_tower"
            and len(data.val)
            and params.get("fit_on") == "train_part"
        )
        n_epochs = int(params["epochs"])
        tuning = {"val-blind copy": n_epochs, "tuning hybrid on val": PHASE_UNITS["tuning hybrid on val"]}
        final_epochs = int(params.get("final_epochs") or 1) if tune_blend_first else n_epochs
        plan = RunProgress(
            status, {**(tuning if tune_blend_first else {}), "training": final_epochs}, on_update=on_progress
        )

        def shown_logs(logs: dict[str, Any]) -> dict[str, float]:
            return {k: round(float(v), 5) for k, v in logs.items() if isinstance(v, (int, float))}

        def on_epoch(epoch: int, logs: dict[str, Any]) -> None:
            tracker.log_epoch(epoch, logs)
            shown = shown_logs(logs)
            plan.step("training", epoch + 1, epoch=epoch + 1, metrics=shown)
            progress(f"epoch {epoch + 1}/{n_epochs}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))

        blind_curve: list[float] = []
        patience = int(params.get("early_stopping_patience", 0))

        def on_blind_epoch(epoch: int, logs: dict[str, Any]) -> None:
            tracker.log_epoch(epoch, logs, prefix="blind_")
            shown = shown_logs(logs)
            blind_curve.append(float(logs.get("val_ndcg@10", 0.0)))
            best_so_far = registry.best_epoch({"val_ndcg@10": blind_curve}) or epoch + 1
            # Early stopping ends the copy at most `patience` epochs after its best (an ETA estimate).
            plan.replan("val-blind copy", min(n_epochs, max(epoch + 1, best_so_far + patience)))
            plan.step("val-blind copy", epoch + 1, blind_epoch=epoch + 1, metrics=shown)
            progress(f"val-blind copy epoch {epoch + 1}/{n_epochs}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))

        blend, start_from = None, None
        if tune_blend_first:
            plan.start("val-blind copy")
            progress(
                "hybrid blend: training a val-blind copy (fit on train only, early stopping on val NDCG@10) "
                "and tuning the blend on val"
            )
            blind = registry.train(
                model_name,
                data,
                {**params, "fit_on": "train"},
                work / "blend",
                settings.seed,
                on_blind_epoch,
                strategy=strategy,
            )
            best = blind.extra["best_epoch"]
            plan.start("tuning hybrid on val")
            blend = {
                **tune_blend(data, blind.user_embeddings, blind.anime_embeddings),
                "tuned_with": "val-blind copy of the model (fit on train only)",
                "blind_epochs": len(blind.history.get("loss", [])),
                "blind_best_epoch": best,
            }
            plan.step("tuning hybrid on val", PHASE_UNITS["tuning hybrid on val"])
            progress(f"hybrid blend tuned on val: weights {blend.get('weights')}")
            # The final model continues the copy (its best epoch's weights) on train + val.
            start_from = blind
            params["epochs"] = n_epochs = final_epochs
            plan.replan("training", n_epochs)
            status.update(epochs=n_epochs)
            progress(
                f"final fit: the val-blind copy (best val NDCG@10 at epoch {best}) continues on train + val "
                f"for {n_epochs} epochs"
            )
        plan.start("training")
        trained = registry.train(model_name, data, params, work, settings.seed, on_epoch, start_from, strategy)
        if not is_chief(strategy):  # a multi-worker cluster's other workers: the chief evaluates and publishes
            status.update(state="succeeded", phase="done", progress=1.0, eta_s=0.0)
            return {
                "version": None,
                "model": model_name,
                "processed_id": processed_id,
                "chief": False,
                "epochs_run": len(trained.history.get("loss", [])),
            }
        plan.start("evaluating")
        progress("evaluating on the test holdout (plain, discovery and continue lists; cold start)")
        metrics = _final_metrics(storage, data, processed_id, model_name, trained, blend, plan.evaluation_step)
        tracker.log_metrics(
            {f"{s}_{k}": v for s, m in metrics["strategies"].items() for k, v in m.items()}, prefix="test"
        )
        if metrics.get("val_bce") is not None:
            tracker.log_metrics({"val_bce": metrics["val_bce"], "mean_bce": metrics["mean_bce"]})
        model_file = work / "model.keras"
        trained.model.save(model_file)
        for name, arr in (
            ("user_embeddings.npy", trained.user_embeddings),
            ("anime_embeddings.npy", trained.anime_embeddings),
        ):
            np.save(work / name, arr)
            tracker.log_asset(work / name)
        tracker.log_model(model_name, model_file)
        for ckpt in trained.checkpoints:
            tracker.log_asset(ckpt, f"checkpoints/{ckpt.name}")
        experiment_key = tracker.key
        plan.evaluation_step("cold start", 1.0)
        phase_seconds = {"loading data": load_seconds, **plan.finish()}
        publish_started = time.perf_counter()
        status.update(phase="publishing")
        archive = tracker.end()
        if archive is not None:
            with storage.publish(f"experiments/{version}", meta={"comet_offline_id": experiment_key}) as staging:
                versions.copy_file(archive, staging / archive.name)
            progress(upload_hint(storage, f"experiments/{version}/{archive.name}"))
        config = {
            "model": model_name,
            "params": trained.params,
            "processed_id": processed_id,
            "seed": settings.seed,
            "deterministic": settings.deterministic,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "version": version,
            "epochs_run": len(trained.history.get("loss", [])),
            "history": trained.history,
            "blind_history": blind.history if start_from is not None else None,
            "comet": {
                "online": tracker.online,
                "key": experiment_key,
                "archive": f"experiments/{version}/{archive.name}" if archive else None,
            },
        }
        versions.write_version(
            storage,
            version,
            user_embeddings=trained.user_embeddings,
            anime_embeddings=trained.anime_embeddings,
            user_ids=data.user_ids,
            anime_ids=data.anime_ids,
            metrics=metrics,
            config=config,
            history=trained.history,
            save_model=lambda p: versions.copy_file(model_file, p),
        )
    promotion = _maybe_promote(storage, version, promote, metrics, processed_id)
    promoted = promotion["promoted"]
    phase_seconds["publishing"] = round(time.perf_counter() - publish_started, 2)
    status.update(
        state="succeeded",
        phase="done",
        progress=1.0,
        phase_progress=1.0,
        eta_s=0.0,
        version=version,
        promoted=promoted,
        promotion=promotion,
        metrics={**status.state.get("metrics", {}), "test_ndcg@10": metrics["ndcg@10"]},
    )
    progress(
        f"published models/{version}: NDCG@10 {metrics['ndcg@10']} (popularity "
        f"{metrics['strategies']['popularity']['ndcg@10']}); {promotion['decision']}"
    )
    return {
        "version": version,
        "model": model_name,
        "processed_id": processed_id,
        "metrics": metrics["strategies"],
        "val_bce": metrics.get("val_bce"),
        "mean_bce": metrics["mean_bce"],
        "promoted": promoted,
        "promotion": promotion,
        "current": versions.read_current(storage)[0],
        "epochs_run": config["epochs_run"],
        "train_seconds": round(trained.train_seconds, 2),
        "strategy": settings.strategy,
        "replicas": int(strategy.num_replicas_in_sync),
        "phase_seconds": phase_seconds,
        "run_seconds": round(time.perf_counter() - started, 1),
        "blind_copy": {k: blend[k] for k in ("blind_epochs", "blind_best_epoch")} if blend else None,
        "samples_per_s": round(trained.samples_per_s),
        "experiment": config["comet"],
    }


def _final_metrics(
    storage: Storage,
    data: Any,
    processed_id: str,
    model_name: str,
    trained: Any,
    blend: dict[str, Any] | None = None,
    on_progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    saw_val = trained.params.get("fit_on") == "train_part"
    # Tuning must not judge embeddings on the val ratings they were trained on: either the blend
    # was tuned with a val-blind copy (served as is), or the ranking core folds user vectors in
    # from train. The same function evaluates a stored version (`animerec evaluate`).
    strategies, tuned = evaluate_model(
        storage,
        processed_id,
        data,
        trained.user_embeddings,
        trained.anime_embeddings,
        model=model_name,
        embeddings_saw_val=saw_val,
        blend=blend,
        on_progress=on_progress,
    )
    own = strategies["collaborative"]
    hist = trained.history
    last = lambda key: hist[key][-1] if hist.get(key) else None  # noqa: E731
    best_val = max(hist.get("val_ndcg@10") or [0.0])
    return {
        "ndcg@10": own["ndcg@10"],
        "recall@10": own["recall@10"],
        "hr@10": own["hr@10"],
        "users": own["users"],
        "strategies": strategies,
        "val_bce": trained.extra.get("val_bce"),
        "mean_bce": evaluation.mean_prediction_bce(
            data.train["rating_norm"].to_numpy(), data.val["rating_norm"].to_numpy()
        ),
        "val_loss": last("val_loss"),
        "train_loss": last("loss"),
        "val_ndcg@10": last("val_ndcg@10"),
        "best_val_ndcg@10": best_val,
        "val_in_training": saw_val,
        "hybrid_params": tuned,  # numpy scalars become floats in write_version
        "train_seconds": round(trained.train_seconds, 2),
        "samples_per_s": round(trained.samples_per_s),
    }


def _maybe_promote(
    storage: Storage, version: str, policy: str, metrics: dict[str, Any], processed_id: str | None = None
) -> dict[str, Any]:
    """Returns the promotion record {"promoted", "current_version", "compared", "decision", ...}.

    Promotes under the policy (see versions.promotion_decision: if_better compares the served
    hybrid and cold-start NDCG@10 on the same processed dataset); the record is also the reason
    written into models/CURRENT. A corrupt models/CURRENT fails an if_better run (CorruptPointer:
    nothing to compare with); under always/never it counts as no current version (always overwrites it).
    """
    if policy == "if_better":
        current, current_error = storage.get_current("models"), None
    else:
        current, current_error = versions.read_current(storage)
    current_metrics = versions.read_json_file(storage, current, "metrics.json") if current else None
    current_pid = versions.read_json_file(storage, current, "config.json").get("processed_id") if current else None
    decision = versions.promotion_decision(
        policy, metrics, current_metrics, new_processed_id=processed_id, current_processed_id=current_pid
    )
    promoted = bool(decision.pop("promote"))
    record = {"promoted": promoted, "current_version": current, **decision}
    if current_error:
        record["notes"] = [*record["notes"], f"no current version: {current_error}"]
    if promoted:
        versions.promote(
            storage,
            version,
            reason={
                "by": f"training run ({policy})",
                "compared": record["compared"],
                "decision": record["decision"],
                "notes": record["notes"],
            },
        )
    return record
