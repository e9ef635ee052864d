"""Settings of the training service (one env var per field; laptop defaults; no secret defaults)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from animerec_shared.settings import BaseServiceSettings

ModelName = Literal["two_tower", "seed"]
PromotePolicy = Literal["never", "if_better", "always"]


class Settings(BaseServiceSettings):
    """Training settings; env vars are the upper-case field names (e.g. TRAINING_THREADS)."""

    training_default_model: ModelName = "two_tower"
    # Status files and logs of API-started runs (a writable local folder; /tmp in read-only containers).
    training_runs_dir: str = str(Path(tempfile.gettempdir()) / "animerec-training-runs")
    training_threads: int = 2
    training_seed: int = 42
    training_deterministic: bool = True
    # tf.distribute strategy of the two-tower fit: default (one device), mirrored (every GPU, or
    # TRAINING_CPU_REPLICAS logical CPU devices), multi_worker (the workers of TF_CONFIG).
    training_strategy: Literal["default", "mirrored", "multi_worker"] = "default"
    training_cpu_replicas: int = 2
    training_default_promote: PromotePolicy = "if_better"
    # Tune the hybrid blend on val with a val-blind copy of the model (fit on train only) when the
    # served model fits on train + val: its own embeddings have seen val and would bias the blend.
    training_tune_hybrid: bool = True
    comet_api_key: str | None = None
    comet_project_name: str = "animerec"
    comet_workspace: str | None = None
