"""TRAINING_STRATEGY=mirrored trains over two logical CPU devices and reaches the same quality."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import processed_fixture

from animerec_shared.storage import FileStorage


def _train(storage: FileStorage, strategy: str, runs: Path) -> dict:
    env = {
        **os.environ,
        "STORAGE_URL": storage.url,
        "TRAINING_STRATEGY": strategy,
        "TRAINING_CPU_REPLICAS": "2",
        "TRAINING_RUNS_DIR": str(runs),
        "LOG_JSON": "false",
    }
    env.pop("COMET_API_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", "train", "--promote", "never", "--epochs", "8", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_mirrored_strategy_over_two_cpu_devices_gets_the_same_ndcg_within_noise(tmp_path):
    storage = FileStorage(tmp_path / "storage")
    folder, _ = processed_fixture.planted_processed(tmp_path / "planted")
    processed_fixture.publish_processed(storage, folder)
    one = _train(storage, "default", tmp_path / "runs")
    two = _train(storage, "mirrored", tmp_path / "runs")
    assert (one["strategy"], one["replicas"]) == ("default", 1)
    assert (two["strategy"], two["replicas"]) == ("mirrored", 2)
    popularity = one["metrics"]["popularity"]["ndcg@10"]
    a, b = one["metrics"]["collaborative"]["ndcg@10"], two["metrics"]["collaborative"]["ndcg@10"]
    assert a > popularity and b > popularity  # both learned the planted tastes
    assert abs(a - b) <= 0.15 * max(a, b), (a, b)  # same quality within the noise of 300 planted users
