"""Model versions in storage: writing one (atomically), listing them, and promotion.

Reading the numpy side goes through ``animerec_ranking.model_versions``; nothing here imports
TensorFlow (the Keras model file is saved by the caller into the staging folder).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from animerec_ranking.model_versions import validate_version
from animerec_shared.errors import NotFoundError
from animerec_shared.storage import CorruptPointer, Storage

log = logging.getLogger("animerec.training")

PRIMARY_METRIC = "ndcg@10"
# The served strategies whose figures decide `if_better` promotion (see promotion_decision).
PROMOTION_ROWS = ("hybrid", "cold_start")


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


def write_version(
    storage: Storage,
    version: str,
    *,
    user_embeddings: np.ndarray,
    anime_embeddings: np.ndarray,
    user_ids: np.ndarray,
    anime_ids: np.ndarray,
    metrics: dict[str, Any],
    config: dict[str, Any],
    history: dict[str, list[float]],
    save_model: Callable[[Path], None],
) -> None:
    """Publishes models/<version>/ with every file of the contract; visible only once complete."""
    with storage.publish(f"models/{version}", meta={"model": config.get("model")}) as staging:
        save_model(staging / "model.keras")
        np.save(staging / "user_embeddings.npy", np.ascontiguousarray(user_embeddings, dtype=np.float32))
        np.save(staging / "anime_embeddings.npy", np.ascontiguousarray(anime_embeddings, dtype=np.float32))
        np.save(staging / "user_ids.npy", np.asarray(user_ids, dtype=np.int64))
        np.save(staging / "anime_ids.npy", np.asarray(anime_ids, dtype=np.int64))
        # The val-blind copy's curves, when the run trained one, are honest val figures; the final fit's
        # (val inside the fit) are in-sample.
        blind = config.get("blind_history")
        in_sample = not blind and (config.get("params") or {}).get("fit_on") == "train_part"
        plot_curves(
            blind or history,
            staging / "training_curves.png",
            f"{config.get('model')} {version}"
            + (" (val-blind copy, fit on train)" if blind else "")
            + (" (val inside the fit: in-sample)" if in_sample else ""),
        )
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
        (staging / "config.json").write_text(json.dumps(config, indent=2, default=str))


def read_json_file(storage: Storage, version: str, name: str) -> dict[str, Any]:
    """Returns one JSON file of a published version ({} when it is missing)."""
    try:
        return storage.read_json(f"models/{version}/{name}")
    except NotFoundError:
        return {}


def list_models(storage: Storage) -> dict[str, Any]:
    """Returns {"current", "current_error", "models": [{"version", "model", "metrics", "created_at", "current"}]}.

    Newest first. A corrupt models/CURRENT does not fail the listing (it is what an operator reads
    to choose the version to promote, which repairs the pointer): ``current`` is then None and
    ``current_error`` names the key and what it holds; otherwise ``current_error`` is None.
    """
    current, current_error = read_current(storage)
    out = []
    for version in reversed(storage.list_published("models")):
        config = read_json_file(storage, version, "config.json")
        out.append(
            {
                "version": version,
                "model": config.get("model"),
                "processed_id": config.get("processed_id"),
                "metrics": read_json_file(storage, version, "metrics.json"),
                "created_at": config.get("created_at"),
                "current": version == current,
            }
        )
    return {"current": current, "current_error": current_error, "models": out}


def promote(storage: Storage, version: str, reason: str | dict[str, Any] = "manual") -> dict[str, Any]:
    """Points models/CURRENT at a published version; returns {"current", "previous"}.

    ``reason`` is written into the pointer: "manual", or a training run's promotion record
    ({"by", "compared", "decision"}, see ``promotion_decision``).

    The whole version is validated first (marker, every file, shapes, dtypes, finite values:
    ``validate_version``, what serving checks when it loads); a broken one raises
    InvalidModelVersion (422) and the pointer does not move. A corrupt pointer is overwritten
    (``previous`` is then None): promoting is how it is repaired.
    """
    if not storage.is_published(f"models/{version}"):
        raise ModelNotFound(f"model version {version!r} does not exist", details={"version": version})
    validate_version(storage, version)
    previous, _ = read_current(storage)
    storage.set_current("models", version, previous=previous, reason=reason)
    return {"current": version, "previous": previous}


def read_current(storage: Storage) -> tuple[str | None, str | None]:
    """Returns (the current version, None), or (None, the error) when models/CURRENT is corrupt."""
    try:
        return storage.get_current("models"), None
    except CorruptPointer as exc:
        log.warning("%s", exc.message)
        return None, exc.message


def _figure(metrics: dict[str, Any], row: str) -> tuple[float | None, str | None]:
    """Returns (ndcg@10 of a strategy row, None) or, when the version lacks the row, (its own figure, a note)."""
    got = ((metrics.get("strategies") or {}).get(row) or {}).get(PRIMARY_METRIC)
    if got is not None:
        return float(got), None
    own = ((metrics.get("strategies") or {}).get("collaborative") or {}).get(
        PRIMARY_METRIC, metrics.get(PRIMARY_METRIC)
    )
    if own is None:
        return None, f"no {row} row and no own {PRIMARY_METRIC}"
    return float(own), f"no {row} row: its own (collaborative) {PRIMARY_METRIC} stands in"


def promotion_decision(
    policy: str,
    new_metrics: dict[str, Any],
    current_metrics: dict[str, Any] | None,
    *,
    new_processed_id: str | None = None,
    current_processed_id: str | None = None,
) -> dict[str, Any]:
    """Returns {"promote", "policy", "compared": {"hybrid ndcg@10": [new, current], ...}, "decision", "notes"}.

    ``if_better`` judges what is served: the hybrid (``strategies.hybrid``, GET
    /users/{id}/recommendations) and the cold-start blend (``strategies.cold_start``, POST
    /recommendations), NDCG@10 on the test holdout. The new version replaces the current one only
    when neither is worse (ties promote); the model's own ``collaborative`` figure decides nothing,
    except that it stands in for a row a version lacks (an old version; the note says so).

    Figures are comparable only on the same test split, i.e. the same processed dataset. When
    the current version was evaluated on another processed dataset (both ids known and
    different), its figures say nothing about the new split and it cannot be re-evaluated there
    (users and anime differ), so the new version, trained on the newer data, is promoted and the
    record says "not comparable: different processed dataset". No current version, or one
    without figures, also promotes. ``always`` and ``never`` decide without comparing; the
    figures are still recorded when comparable.
    """
    compared: dict[str, list[float | None]] = {}
    notes: list[str] = []
    comparable = bool(current_metrics) and not (
        new_processed_id and current_processed_id and new_processed_id != current_processed_id
    )
    if comparable:
        for row in PROMOTION_ROWS:
            new, new_note = _figure(new_metrics, row)
            cur, cur_note = _figure(current_metrics or {}, row)
            compared[f"{row} {PRIMARY_METRIC}"] = [new, cur]
            notes += [f"new version: {new_note}"] * bool(new_note) + [f"current version: {cur_note}"] * bool(cur_note)
    out = {"policy": policy, "compared": compared, "notes": notes}
    if policy in ("always", "never"):
        return {**out, "promote": policy == "always", "decision": f"{policy}: decided without comparing"}
    if not current_metrics:
        return {**out, "promote": True, "decision": "promoted: no current version with stored figures"}
    if not comparable:
        return {
            **out,
            "promote": True,
            "decision": f"promoted, not comparable: different processed dataset (new {new_processed_id}, "
            f"current {current_processed_id})",
        }
    pairs = {k: v for k, v in compared.items() if v[1] is not None}
    if not pairs:
        return {**out, "promote": True, "decision": "promoted: the current version has no comparable figure"}
    missing = [k for k, (new, _) in pairs.items() if new is None]
    if missing:
        return {**out, "promote": False, "decision": f"not promoted: the new version has no {', '.join(missing)}"}
    worse = [
        f"{k} {new:.4f} < {cur:.4f}"
        for k, (new, cur) in pairs.items()
        if new is not None and cur is not None and new < cur
    ]
    if worse:
        return {
            **out,
            "promote": False,
            "decision": "not promoted: worse than the current version: " + "; ".join(worse),
        }
    return {
        **out,
        "promote": True,
        "decision": "promoted: " + " and ".join(pairs) + " not worse than the current version's",
    }


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
