"""Settings of the training service (TRAINING_* variables, Comet's own names; laptop defaults; no secret defaults)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field

from animerec_shared.contracts.training import ModelName, PromotePolicy
from animerec_shared.settings import SERVICE_PORTS, BaseServiceSettings, service_config


class Settings(BaseServiceSettings):
    """Training settings; every field reads TRAINING_<FIELD> (e.g. TRAINING_THREADS) except Comet's COMET_*."""

    model_config = service_config("training")

    port: int = SERVICE_PORTS["training"]
    default_model: ModelName = "two_tower"
    # Status files and logs of API-started runs (a writable local folder; /tmp in read-only containers).
    runs_dir: str = str(Path(tempfile.gettempdir()) / "animerec-training-runs")
    threads: int = 2
    seed: int = 42
    deterministic: bool = True
    # tf.distribute strategy of the two-tower fit: default (one device), mirrored (every GPU, or
    # TRAINING_CPU_REPLICAS logical CPU devices), multi_worker (the workers of TF_CONFIG).
    strategy: Literal["default", "mirrored", "multi_worker"] = "default"
    cpu_replicas: int = 2
    default_promote: PromotePolicy = "if_better"
    # Tune the hybrid blend on val with a val-blind copy of the model (fit on train only) when the
    # served model fits on train + val: its own embeddings have seen val and would bias the blend.
    tune_hybrid: bool = True
    comet_api_key: str | None = Field(None, validation_alias="COMET_API_KEY")
    comet_project_name: str = Field("animerec", validation_alias="COMET_PROJECT_NAME")
    comet_workspace: str | None = Field(None, validation_alias="COMET_WORKSPACE")
