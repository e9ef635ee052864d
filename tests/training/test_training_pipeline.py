"""`animerec pipeline`, `animerec evaluate` as real subprocesses; versions on both storage backends."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from animerec_ranking.model_versions import load_model_version


def _animerec(args: list[str], env: dict[str, str], timeout: float = 400, log: list[str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    if log is not None:
        log.append(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pipeline_ingests_processes_trains_and_promotes_then_evaluate_reports_it(tmp_path):
    sample = pytest.importorskip("animerec_ingestion.sample_data")
    source = tmp_path / "kaggle"
    sample.generate_sample_data(source, users=150, seed=1, entries_per_user=120, n_anime=300)
    storage_dir = tmp_path / "storage"
    env = {**os.environ, "STORAGE_URL": storage_dir.as_uri(), "LOG_JSON": "false"}
    env.pop("COMET_API_KEY", None)
    log: list[str] = []
    out = _animerec(
        ["pipeline", "--source", str(source), "--min-ratings", "20", "--epochs", "2", "--json"], env, log=log
    )
    version = out["version"]
    # every model trained reports each epoch: the val-blind copy for the blend, then the final fit
    for line in (
        "val-blind copy epoch 1/2:",
        "val-blind copy epoch 2/2:",
        "epoch 1/2:",
        "epoch 2/2:",
        "evaluating on the test holdout",
    ):
        assert line in log[0], (line, log[0][-2000:])
    assert out["promoted"] is True and out["current"] == version
    for strategy in ("popularity", "collaborative"):
        assert set(out["metrics"][strategy]) >= {"ndcg@10", "recall@10", "hr@10"}
    assert out["raw_dataset"] and out["processed_id"]
    # the `comet upload` hint names the archive where it is stored, not comet_ml's deleted temporary folder
    archive = out["experiment"]["archive"]
    assert archive.startswith(f"experiments/{version}/") and archive.endswith(".zip")
    uploads = re.findall(r"comet upload (\S+)", log[0])
    assert uploads == [str(storage_dir.resolve() / archive)], log[0][-3000:]
    assert Path(uploads[0]).is_file() and zipfile.is_zipfile(uploads[0])
    assert f"Comet offline experiment stored as {archive} in {storage_dir.resolve().as_uri()}" in log[0]

    evaluated = _animerec(["evaluate", "--json"], env)
    assert evaluated["version"] == version and evaluated["processed_id"] == out["processed_id"]
    assert evaluated["metrics"]["collaborative"] == out["metrics"]["collaborative"]
    assert evaluated["metrics"]["popularity"] == out["metrics"]["popularity"]
    # The blend the pipeline stored is evaluated as served: the same hybrid and cold-start figures.
    assert evaluated["blend"] == "stored"
    assert set(evaluated["metrics"]) == set(out["metrics"])
    for strategy in ("hybrid", "cold_hybrid", "cold_start"):
        assert evaluated["metrics"][strategy] == out["metrics"][strategy], strategy
    assert out["promotion"]["decision"] == "promoted: no current version with stored figures"
    text = subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", "evaluate"], env=env, capture_output=True, text=True, timeout=400
    )
    assert "hybrid and cold start: the blend stored in metrics.json, as served" in text.stdout, text.stderr[-2000:]


def test_version_is_invisible_until_complete_and_promotion_is_atomic_on_any_storage(any_storage):
    from animerec_training.versions import ModelNotFound, list_models, promote, promotion_decision, write_version

    rng = np.random.default_rng(1)
    u = rng.normal(size=(5, 128)).astype(np.float32)
    a = rng.normal(size=(7, 128)).astype(np.float32)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    kwargs = dict(
        user_embeddings=u,
        anime_embeddings=a,
        user_ids=np.arange(5),
        anime_ids=np.arange(7) + 100,
        config={"model": "two_tower", "processed_id": "p1", "created_at": "2026-11-27T00:00:00Z"},
        history={"loss": [2.0, 1.0], "val_loss": [2.1, 1.5], "val_ndcg@10": [0.1, 0.2]},
    )

    def failing_save(path: Path) -> None:
        path.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_version(any_storage, "v1", metrics={"ndcg@10": 0.3}, save_model=failing_save, **kwargs)
    assert any_storage.list_published("models") == [] and not any_storage.is_published("models/v1")

    write_version(any_storage, "v1", metrics={"ndcg@10": 0.3}, save_model=lambda p: p.write_bytes(b"k"), **kwargs)
    write_version(any_storage, "v2", metrics={"ndcg@10": 0.2}, save_model=lambda p: p.write_bytes(b"k"), **kwargs)
    mv = load_model_version(any_storage, "v2")
    assert mv.anime_ids.tolist() == list(range(100, 107)) and mv.user_embeddings.dtype == np.float32
    assert any_storage.read_bytes("models/v2/training_curves.png")[:4] == b"\x89PNG"

    assert promote(any_storage, "v1") == {"current": "v1", "previous": None}
    assert not promotion_decision("if_better", {"ndcg@10": 0.2}, {"ndcg@10": 0.3})["promote"]
    assert promotion_decision("if_better", {"ndcg@10": 0.31}, {"ndcg@10": 0.3})["promote"]
    assert promotion_decision("always", {"ndcg@10": 0.0}, {"ndcg@10": 0.3})["promote"]
    assert not promotion_decision("never", {"ndcg@10": 0.9}, None)["promote"]
    assert promote(any_storage, "v2") == {"current": "v2", "previous": "v1"}
    listing = list_models(any_storage)
    assert listing["current"] == "v2"
    assert [(m["version"], m["current"], m["metrics"]["ndcg@10"]) for m in listing["models"]] == [
        ("v2", True, 0.2),
        ("v1", False, 0.3),
    ]
    with pytest.raises(ModelNotFound):
        promote(any_storage, "v3")
    assert any_storage.get_current("models") == "v2"


def test_if_better_promotion_compares_served_hybrid_and_cold_start_not_the_model_figure():
    from animerec_training.versions import promotion_decision

    def metrics(collaborative: float, hybrid: float | None, cold_start: float | None) -> dict:
        rows = {"collaborative": collaborative, "hybrid": hybrid, "cold_start": cold_start}
        return {"ndcg@10": collaborative, "strategies": {k: {"ndcg@10": v} for k, v in rows.items() if v is not None}}

    # The retrain that was promoted before: two-tower +0.0003, served hybrid worse.
    got = promotion_decision("if_better", metrics(0.3003, 0.4935, 0.12), metrics(0.3, 0.4951, 0.12))
    assert got["promote"] is False and got["compared"] == {
        "hybrid ndcg@10": [0.4935, 0.4951],
        "cold_start ndcg@10": [0.12, 0.12],
    }
    assert got["decision"] == "not promoted: worse than the current version: hybrid ndcg@10 0.4935 < 0.4951"
    # cold start worse
    assert not promotion_decision("if_better", metrics(0.4, 0.5, 0.11), metrics(0.3, 0.49, 0.12))["promote"]
    # ties promote
    assert promotion_decision("if_better", metrics(0.2, 0.4951, 0.12), metrics(0.3, 0.4951, 0.12))["promote"]
    # A row a version lacks (an old version): its own figure stands in, and the record says so.
    got = promotion_decision("if_better", metrics(0.3, 0.5, 0.46), metrics(0.45, None, None))
    assert got["promote"] is True and got["compared"] == {
        "hybrid ndcg@10": [0.5, 0.45],
        "cold_start ndcg@10": [0.46, 0.45],
    }
    assert got["notes"] == [
        "current version: no hybrid row: its own (collaborative) ndcg@10 stands in",
        "current version: no cold_start row: its own (collaborative) ndcg@10 stands in",
    ]
    assert not promotion_decision("if_better", metrics(0.3, 0.5, 0.46), metrics(0.47, None, None))["promote"]
    # Another processed dataset: another test split, figures not comparable.
    got = promotion_decision(
        "if_better", metrics(0.1, 0.1, 0.1), metrics(0.9, 0.9, 0.9), new_processed_id="p2", current_processed_id="p1"
    )
    assert got["promote"] is True and got["compared"] == {}
    assert got["decision"] == "promoted, not comparable: different processed dataset (new p2, current p1)"
    assert promotion_decision("if_better", metrics(0.1, 0.1, 0.1), None)["promote"]
    assert promotion_decision("never", metrics(0.9, 0.9, 0.9), metrics(0.1, 0.1, 0.1))["promote"] is False
    assert promotion_decision("always", metrics(0.1, 0.1, 0.1), metrics(0.9, 0.9, 0.9))["promote"] is True


def test_comet_upload_hint_names_the_stored_archive_on_any_storage(any_storage, tmp_path):
    from animerec_training.tracking import upload_hint

    archive = tmp_path / "0a7e.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("messages.json", "")
    with any_storage.publish("experiments/v9") as staging:
        (staging / archive.name).write_bytes(archive.read_bytes())
    hint = upload_hint(any_storage, "experiments/v9/0a7e.zip")
    assert hint.startswith(f"Comet offline experiment stored as experiments/v9/0a7e.zip in {any_storage.url}; ")
    command = hint.split("to upload it, run: ", 1)[1]
    if any_storage.url.startswith("gs://"):  # copy it down first, then upload the local copy
        assert command == f"gcloud storage cp {any_storage.url}/experiments/v9/0a7e.zip . && comet upload 0a7e.zip"
        assert any_storage.read_bytes("experiments/v9/0a7e.zip") == archive.read_bytes()
    else:
        path = Path(command.removeprefix("comet upload "))
        assert path.is_absolute() and path.read_bytes() == archive.read_bytes()
