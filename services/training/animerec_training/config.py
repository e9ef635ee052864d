"""Settings of the training service (one env var per field; laptop defaults; no secret defaults)."""

from __future__ import annotations

from typing import Literal

from animerec_shared.settings import REPO_ROOT, BaseServiceSettings

ModelName = Literal["two_tower", "seed"]
PromotePolicy = Literal["never", "if_better", "always"]


class Settings(BaseServiceSettings):
    """Training settings; env vars are the upper-case field names (e.g. TRAINING_THREADS)."""

    training_default_model: ModelName = "two_tower"
    training_runs_dir: str = str(REPO_ROOT / "var" / "training-runs")
    training_threads: int = 2
    training_seed: int = 42
    training_deterministic: bool = True
    training_default_promote: PromotePolicy = "if_better"
    comet_api_key: str | None = None
    comet_project_name: str = "animerec"
    comet_workspace: str | None = None
