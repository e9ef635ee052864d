"""Comet ML tracking: every training run is one experiment, online or offline.

COMET_API_KEY set -> ``comet_ml.Experiment`` (online). Unset -> ``comet_ml.OfflineExperiment``
writing a zip archive into a temporary folder; the runner stores that archive under
``experiments/<version>/`` so that it can be uploaded later with ``comet upload``. comet_ml's own
"comet upload <temporary path>" hint is dropped (that folder is deleted with the run); the runner
prints ``upload_hint`` instead, which names the stored archive.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animerec_shared.storage import Storage

_QUIET: dict[str, Any] = dict(
    auto_metric_logging=False,
    auto_param_logging=False,
    auto_output_logging=False,
    auto_histogram_weight_logging=False,
    auto_histogram_gradient_logging=False,
    auto_histogram_activation_logging=False,
    log_code=False,
    log_graph=False,
    log_env_details=False,
    log_git_metadata=False,
    log_git_patch=False,
    log_env_gpu=False,
    log_env_host=False,
    log_env_cpu=False,
    log_env_network=False,
    log_env_disk=False,
    display_summary_level=0,
)


def _not_comets_upload_hint(record: logging.LogRecord) -> bool:
    # comet_ml logs "To upload this offline experiment, run:\n    comet upload %s" with the temporary path
    return "comet upload %s" not in str(record.msg)


def upload_hint(storage: Storage, key: str) -> str:
    """Returns the line that says where the offline archive ``key`` is stored and how to upload it."""
    local_path = getattr(storage, "local_path", None)  # the folder backend: the archive is a local file
    if local_path is not None:
        command = f"comet upload {local_path(key)}"
    else:
        name = key.rsplit("/", 1)[-1]
        command = f"gcloud storage cp {storage.url}/{key} . && comet upload {name}"
    return f"Comet offline experiment stored as {key} in {storage.url}; to upload it, run: {command}"


class Tracker:
    """One Comet experiment; methods never raise for tracking problems after creation."""

    def __init__(self, *, api_key: str | None, project: str, workspace: str | None, name: str, offline_dir: Path):
        if not api_key:
            # Offline means no network: comet_ml would otherwise send its own error reports to
            # Sentry (decided when it is first imported). An explicit setting is kept.
            os.environ.setdefault("COMET_ERROR_TRACKING_ENABLE", "false")
        import comet_ml  # imported lazily: it is slow to import and only training needs it

        self.offline_dir = offline_dir
        self.online = bool(api_key)
        self.experiment: comet_ml.Experiment | comet_ml.OfflineExperiment
        if self.online:
            self.experiment = comet_ml.Experiment(api_key=api_key, project_name=project, workspace=workspace, **_QUIET)
        else:
            offline_dir.mkdir(parents=True, exist_ok=True)
            self.experiment = comet_ml.OfflineExperiment(
                offline_directory=str(offline_dir), project_name=project, workspace=workspace, **_QUIET
            )
        self.experiment.set_name(name)

    @property
    def key(self) -> str | None:
        """Returns the experiment key (the offline id for offline experiments)."""
        return getattr(self.experiment, "id", None) or self.experiment.get_key()

    def log_parameters(self, params: dict[str, Any]) -> None:
        """Logs hyper-parameters and run settings."""
        self.experiment.log_parameters(params)

    def log_epoch(self, epoch: int, logs: dict[str, Any], prefix: str = "") -> None:
        """Logs one epoch's finite numeric metrics (1-based epoch numbers), names prefixed."""
        clean = {
            prefix + k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) and math.isfinite(float(v))
        }
        self.experiment.log_metrics(clean, epoch=epoch + 1, step=epoch + 1)

    def log_metrics(self, metrics: dict[str, Any], prefix: str | None = None) -> None:
        """Logs final (flat) metrics."""
        self.experiment.log_metrics(metrics, prefix=prefix)

    def log_asset(self, path: Path, name: str | None = None) -> None:
        """Logs one file as an experiment asset."""
        self.experiment.log_asset(str(path), file_name=name or path.name)

    def log_model(self, name: str, path: Path) -> None:
        """Logs the saved model file as the experiment's model."""
        self.experiment.log_model(name, str(path))

    def end(self) -> Path | None:
        """Ends the experiment; returns the offline zip archive (None when online)."""
        if self.online:
            self.experiment.end()
            return None
        comet_offline = logging.getLogger("comet_ml.offline")
        comet_offline.addFilter(_not_comets_upload_hint)
        try:
            self.experiment.end()
        finally:
            comet_offline.removeFilter(_not_comets_upload_hint)
        archives = sorted(self.offline_dir.glob("*.zip"), key=lambda p: p.stat().st_mtime)
        return archives[-1] if archives else None
