"""Reading and checking model versions (numpy/JSON only: serving never needs TensorFlow).

A version is a published directory ``models/<version>/`` (see docs/architecture.md). Training
writes it through ``Storage.publish``; promotion moves ``models/CURRENT``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from animerec_shared.errors import AnimeRecError
from animerec_shared.storage import MARKER, Storage

REQUIRED_FILES = (
    "user_embeddings.npy",
    "anime_embeddings.npy",
    "user_ids.npy",
    "anime_ids.npy",
    "metrics.json",
    "config.json",
)


class InvalidModelVersion(AnimeRecError):
    status_code = 422
    code = "invalid_model_version"


def new_version_id(prefix: str = "v") -> str:
    """Returns a sortable, unique version id such as v20261127-040812-3f9a."""
    import uuid

    return f"{prefix}{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:4]}"


@dataclass
class ModelVersion:
    """The numpy side of a model version: embeddings, id maps, metrics and config."""

    version: str
    path: Path
    user_embeddings: np.ndarray
    anime_embeddings: np.ndarray
    user_ids: np.ndarray
    anime_ids: np.ndarray
    metrics: dict[str, Any]
    config: dict[str, Any]

    @property
    def processed_id(self) -> str | None:
        return self.config.get("processed_id")


def load_model_dir(path: Path, version: str, mmap: bool = False) -> ModelVersion:
    """Returns the model version in a local folder after checking it is complete and consistent.

    Raises InvalidModelVersion naming what is wrong (missing file, shape mismatch, NaN, norms).
    """
    missing = [f for f in REQUIRED_FILES if not (path / f).exists()]
    if missing:
        raise InvalidModelVersion(f"model version {version} is incomplete: missing {', '.join(missing)}")
    try:
        mode: Literal["r"] | None = "r" if mmap else None
        ue = np.load(path / "user_embeddings.npy", mmap_mode=mode, allow_pickle=False)
        ae = np.load(path / "anime_embeddings.npy", mmap_mode=mode, allow_pickle=False)
        uid = np.load(path / "user_ids.npy", allow_pickle=False)
        aid = np.load(path / "anime_ids.npy", allow_pickle=False)
        metrics = json.loads((path / "metrics.json").read_text())
        config = json.loads((path / "config.json").read_text())
    except (ValueError, OSError, json.JSONDecodeError) as exc:
        raise InvalidModelVersion(f"model version {version} is corrupt: {exc}") from exc
    if ue.ndim != 2 or ae.ndim != 2 or ue.shape[1] != ae.shape[1]:
        raise InvalidModelVersion(f"model version {version}: embedding shapes {ue.shape} and {ae.shape} disagree")
    if ue.shape[0] != len(uid) or ae.shape[0] != len(aid):
        raise InvalidModelVersion(f"model version {version}: id maps do not match embedding rows")
    if ue.dtype != np.float32 or ae.dtype != np.float32:
        raise InvalidModelVersion(f"model version {version}: embeddings must be float32")
    if not (np.isfinite(ae).all() and np.isfinite(ue[: min(len(ue), 10000)]).all()):
        raise InvalidModelVersion(f"model version {version}: embeddings contain NaN or inf")
    return ModelVersion(version, path, ue, ae, uid, aid, metrics, config)


def validate_version(storage: Storage, version: str) -> None:
    """Checks a published version the way serving loads it, before anything points at it.

    The marker must be a JSON object, and every required file must load with consistent shapes,
    dtypes and finite values (``load_model_dir``; the embeddings memory-mapped, so a large version
    is not read into memory twice). Raises InvalidModelVersion naming the version and the problem.
    """
    try:
        marker = json.loads(storage.read_bytes(f"models/{version}/{MARKER}"))
    except (ValueError, OSError) as exc:
        raise InvalidModelVersion(f"model version {version}: {MARKER} is unreadable: {exc}") from exc
    if not isinstance(marker, dict):
        raise InvalidModelVersion(f"model version {version}: {MARKER} is not a JSON object")
    load_model_dir(storage.fetch_dir(f"models/{version}"), version, mmap=True)


def load_model_version(storage: Storage, version: str | None = None) -> ModelVersion:
    """Returns the given (default: current) published model version from storage."""
    version = version or storage.get_current("models")
    if not version:
        raise InvalidModelVersion("no model version is promoted yet", code="no_model")
    return load_model_dir(storage.fetch_dir(f"models/{version}"), version)
