"""Model versions in storage: writing one (atomically), listing them, and promotion.

Reading the numpy side goes through ``animerec_shared.model_versions``; nothing here imports
TensorFlow (the Keras model file is saved by the caller into the staging folder).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from animerec_shared.errors import NotFoundError
from animerec_shared.storage import Storage

PRIMARY_METRIC = "ndcg@10"


class ModelNotFound(NotFoundError):
    code = "model_not_found"


def plot_curves(history: dict[str, list[float]], path: Path, title: str) -> None:
    """Writes a PNG of the loss curves (left) and val ranking metrics per epoch (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        if history.get(key):
            left.plot(range(1, len(history[key]) + 1), history[key], marker="o", label=key)
    left.set_xlabel("epoch")
    left.set_title("loss")
    for key in ("val_ndcg@10", "val_recall@10", "val_hr@10"):
        if history.get(key):
            right.plot(range(1, len(history[key]) + 1), history[key], marker="o", label=key)
    right.set_xlabel("epoch")
    right.set_title("val ranking metrics")
    for ax in (left, right):
        if ax.get_lines():
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_version(storage: Storage, version: str, *, user_embeddings: np.ndarray, anime_embeddings: np.ndarray,
                  user_ids: np.ndarray, anime_ids: np.ndarray, metrics: dict[str, Any], config: dict[str, Any],
                  history: dict[str, list[float]], save_model: Callable[[Path], None]) -> None:
    """Publishes models/<version>/ with every file of the contract; visible only once complete."""
    with storage.publish(f"models/{version}", meta={"model": config.get("model")}) as staging:
        save_model(staging / "model.keras")
        np.save(staging / "user_embeddings.npy", np.ascontiguousarray(user_embeddings, dtype=np.float32))
        np.save(staging / "anime_embeddings.npy", np.ascontiguousarray(anime_embeddings, dtype=np.float32))
        np.save(staging / "user_ids.npy", np.asarray(user_ids, dtype=np.int64))
        np.save(staging / "anime_ids.npy", np.asarray(anime_ids, dtype=np.int64))
        in_sample = (config.get("params") or {}).get("fit_on") == "train_part"
        plot_curves(history, staging / "training_curves.png",
                    f"{config.get('model')} {version}" + (" (val inside the fit: in-sample)" if in_sample else ""))
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
        (staging / "config.json").write_text(json.dumps(config, indent=2, default=str))


def read_json_file(storage: Storage, version: str, name: str) -> dict[str, Any]:
    """Returns one JSON file of a published version ({} when it is missing)."""
    try:
        return storage.read_json(f"models/{version}/{name}")
    except NotFoundError:
        return {}


def list_models(storage: Storage) -> dict[str, Any]:
    """Returns {"current", "models": [{"version", "model", "metrics", "created_at", "current"}]}, newest first."""
    current = storage.get_current("models")
    out = []
    for version in reversed(storage.list_published("models")):
        config = read_json_file(storage, version, "config.json")
        out.append({"version": version, "model": config.get("model"), "processed_id": config.get("processed_id"),
                    "metrics": read_json_file(storage, version, "metrics.json"),
                    "created_at": config.get("created_at"), "current": version == current})
    return {"current": current, "models": out}


def promote(storage: Storage, version: str, reason: str = "manual") -> dict[str, Any]:
    """Points models/CURRENT at a published version; returns {"current", "previous"}."""
    if not storage.is_published(f"models/{version}"):
        raise ModelNotFound(f"model version {version!r} does not exist", details={"version": version})
    previous = storage.get_current("models")
    storage.set_current("models", version, previous=previous, reason=reason)
    return {"current": version, "previous": previous}


def should_promote(policy: str, new_metrics: dict[str, Any], current_metrics: dict[str, Any] | None) -> bool:
    """Returns whether a new version replaces the current one under never/if_better/always."""
    if policy == "always":
        return True
    if policy == "never":
        return False
    if not current_metrics or current_metrics.get(PRIMARY_METRIC) is None:
        return True
    return float(new_metrics[PRIMARY_METRIC]) > float(current_metrics[PRIMARY_METRIC])


def latest_version_of(storage: Storage, model: str, processed_id: str | None) -> str | None:
    """Returns the newest published version of a model trained on the given processed dataset."""
    for version in reversed(storage.list_published("models")):
        config = read_json_file(storage, version, "config.json")
        if config.get("model") == model and (processed_id is None or config.get("processed_id") == processed_id):
            return version
    return None


def copy_file(src: Path, dest: Path) -> None:
    """Copies a file, creating the destination folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
