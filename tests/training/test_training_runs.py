"""Training runs in-process on generated data: complete versions, planted tastes, Comet archives."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import processed_fixture
import pytest

from animerec_ranking.model_versions import load_model_version
from animerec_shared.storage import FileStorage


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Trains the default model, then the seed recipe, on a planted-taste dataset in real file storage."""
    from animerec_training.config import Settings
    from animerec_training.runner import run_training

    root = tmp_path_factory.mktemp("training")
    storage = FileStorage(root / "storage")
    folder, favourites = processed_fixture.planted_processed(root / "planted")
    pid = processed_fixture.publish_processed(storage, folder)
    settings = Settings(storage_url=storage.url, runs_dir=str(root / "runs"), comet_api_key=None, threads=2)
    events: list[tuple[str, float, float, float | None]] = []
    default = run_training(settings, epochs=8, promote="if_better", on_progress=lambda *e: events.append(e))
    seed = run_training(settings, model="seed", epochs=2, promote="if_better")
    return {
        "storage": storage,
        "settings": settings,
        "processed_id": pid,
        "favourites": favourites,
        "default": default,
        "seed": seed,
        "events": events,
    }


def test_run_progress_moves_through_the_phases_in_order_with_an_eta(trained):
    events = trained["events"]
    phases = list(dict.fromkeys(e[0] for e in events))
    assert phases == ["val-blind copy", "tuning hybrid on val", "training", "evaluating"]
    overall = [e[2] for e in events]
    assert overall == sorted(overall) and overall[0] == 0.0 and overall[-1] == 1.0
    assert all(0.0 <= e[1] <= 1.0 for e in events) and all(e[3] is not None for e in events[1:])
    summary = trained["default"]
    assert list(summary["phase_seconds"]) == ["loading data", *phases, "publishing"]
    assert all(v >= 0 for v in summary["phase_seconds"].values())
    blind = summary["blind_copy"]
    assert 1 <= blind["blind_best_epoch"] <= blind["blind_epochs"] <= 8
    assert summary["epochs_run"] == 2  # the final fit continues the copy for final_epochs


def test_training_run_publishes_complete_version_when_default_model_trains(trained):
    storage, summary = trained["storage"], trained["default"]
    version = summary["version"]
    assert storage.list_published("models") == sorted([version, trained["seed"]["version"]])
    files = set(storage.list_children(f"models/{version}"))
    assert {
        "model.keras",
        "user_embeddings.npy",
        "anime_embeddings.npy",
        "user_ids.npy",
        "anime_ids.npy",
        "training_curves.png",
        "metrics.json",
        "config.json",
        "_PUBLISHED.json",
    } <= files
    mv = load_model_version(storage, version)
    assert mv.user_embeddings.shape == (300, 128) and mv.anime_embeddings.shape == (240, 128)
    assert mv.user_embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(mv.anime_embeddings, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(mv.user_embeddings, axis=1), 1.0, atol=1e-5)
    assert mv.user_ids[0] == 1000 and mv.anime_ids[0] == 10
    assert mv.config["model"] == "two_tower" and mv.config["processed_id"] == trained["processed_id"]
    assert mv.config["params"]["embedding_dim"] == 128 and mv.config["seed"] == 42
    assert len(mv.config["history"]["val_ndcg@10"]) == 2  # the final fit continues the val-blind copy
    assert len(mv.config["blind_history"]["val_ndcg@10"]) == summary["blind_copy"]["blind_epochs"]
    assert mv.metrics["ndcg@10"] == summary["metrics"]["collaborative"]["ndcg@10"]
    assert set(mv.metrics["strategies"]) >= {"popularity", "collaborative"}
    png = storage.read_bytes(f"models/{version}/training_curves.png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_default_model_ranks_planted_favourites_above_popularity_on_planted_tastes(trained):
    metrics = trained["default"]["metrics"]
    assert metrics["collaborative"]["ndcg@10"] > metrics["popularity"]["ndcg@10"] + 0.15, metrics
    # The planted favourite genre dominates each user's top 10 among unseen anime.
    storage = trained["storage"]
    mv = load_model_version(storage, trained["default"]["version"])
    anime = pd.read_parquet(storage.fetch_dir(f"processed/{trained['processed_id']}") / "anime.parquet")
    genre_of = dict(zip(anime["anime_index"], anime["genres"].map(lambda g: g[0]), strict=False))
    scores = mv.user_embeddings @ mv.anime_embeddings.T
    share = []
    for u, user_id in enumerate(mv.user_ids[:100]):
        top = np.argsort(-scores[u])[:10]
        share.append(np.mean([genre_of[i] == trained["favourites"][int(user_id)] for i in top]))
    assert np.mean(share) > 0.7


def test_first_version_is_promoted_and_seed_is_judged_on_served_figures_when_policy_is_if_better(trained):
    storage = trained["storage"]
    default, seed = trained["default"], trained["seed"]
    assert default["promoted"] is True and default["promotion"]["current_version"] is None
    assert default["promotion"]["decision"] == "promoted: no current version with stored figures"
    # The seed run is judged on what is served (hybrid, cold start), not on its own embeddings.
    compared = seed["promotion"]["compared"]
    assert compared == {
        "hybrid ndcg@10": [seed["metrics"]["hybrid"]["ndcg@10"], default["metrics"]["hybrid"]["ndcg@10"]],
        "cold_start ndcg@10": [seed["metrics"]["cold_start"]["ndcg@10"], default["metrics"]["cold_start"]["ndcg@10"]],
    }
    assert seed["promotion"]["current_version"] == default["version"]
    assert seed["promoted"] is all(new >= cur for new, cur in compared.values())
    assert storage.get_current("models") == (seed if seed["promoted"] else default)["version"]


def test_seed_run_reports_val_bce_next_to_mean_prediction_bce(trained):
    seed = trained["seed"]
    assert seed["model"] == "seed"
    assert 0 < seed["val_bce"] < 5 and 0 < seed["mean_bce"] < 1
    assert seed["metrics"]["seed"] == seed["metrics"]["collaborative"]
    metrics = trained["storage"].read_json(f"models/{seed['version']}/metrics.json")
    assert metrics["val_bce"] == pytest.approx(seed["val_bce"]) and metrics["mean_bce"] == seed["mean_bce"]


def test_evaluate_version_scores_seed_strategy_when_a_seed_version_exists(trained):
    from animerec_training.evaluate import evaluate_version

    out = evaluate_version(trained["storage"], trained["default"]["version"])
    assert out["version"] == trained["default"]["version"] and out["current"] is not trained["seed"]["promoted"]
    assert out["metrics"]["collaborative"] == {k: v for k, v in trained["default"]["metrics"]["collaborative"].items()}
    assert out["metrics"]["seed"]["ndcg@10"] == trained["seed"]["metrics"]["collaborative"]["ndcg@10"]
    assert out["metrics"]["popularity"]["users"] > 0


def test_comet_offline_archive_holds_logged_metrics_when_api_key_is_unset(trained):
    storage, summary = trained["storage"], trained["default"]
    version = summary["version"]
    assert summary["experiment"]["online"] is False
    assert storage.is_published(f"experiments/{version}")
    names = [n for n in storage.list_children(f"experiments/{version}") if n.endswith(".zip")]
    assert len(names) == 1 and summary["experiment"]["archive"] == f"experiments/{version}/{names[0]}"
    path = storage.fetch_dir(f"experiments/{version}") / names[0]
    with zipfile.ZipFile(path) as zf:
        messages = [json.loads(line) for line in zf.read("messages.json").decode().splitlines() if line.strip()]
        members = zf.namelist()
    metrics = [m["payload"]["metric"] for m in messages if m["type"] == "metric_msg"]
    per_epoch = {(m["metricName"], m["epoch"]) for m in metrics}
    for epoch in range(1, 3):
        assert ("loss", epoch) in per_epoch and ("val_loss", epoch) in per_epoch
        assert ("val_ndcg@10", epoch) in per_epoch
    for epoch in range(1, summary["blind_copy"]["blind_epochs"] + 1):  # the val-blind copy's epochs too
        assert ("blind_loss", epoch) in per_epoch and ("blind_val_ndcg@10", epoch) in per_epoch
    names_logged = {m["metricName"] for m in metrics}
    assert "test_collaborative_ndcg@10" in names_logged
    params = {m["payload"]["param"]["paramName"] for m in messages if m["type"] == "parameter_msg"}
    assert {"temperature", "learning_rate", "batch_size", "processed_id"} <= params
    assets = json.dumps([m for m in messages if "asset" in m["type"] or "file" in m["type"]])
    assert "anime_embeddings.npy" in assets and "model.keras" in assets and "checkpoints/" in assets
    assert len(members) >= 4  # messages, experiment.json and the uploaded files themselves
    from comet_ml import error_tracking

    # offline means no network: comet_ml's own error reports to Sentry are off
    assert error_tracking.enabled_in_config() is False and not error_tracking.initialized()


def test_two_tower_training_is_reproducible_when_seeded(trained, tmp_path):
    from animerec_ranking.datasets import load_processed
    from animerec_training.models import registry
    from animerec_training.runtime import configure_tensorflow

    data = load_processed(trained["storage"].fetch_dir(f"processed/{trained['processed_id']}"), with_anime=False)
    runs = []
    for i in range(2):
        configure_tensorflow(2, seed=7)
        runs.append(registry.train("two_tower", data, {"epochs": 2}, tmp_path / str(i), 7))
    np.testing.assert_array_equal(runs[0].anime_embeddings, runs[1].anime_embeddings)
    np.testing.assert_array_equal(runs[0].user_embeddings, runs[1].user_embeddings)
    assert runs[0].history["loss"] == runs[1].history["loss"]


def test_evaluate_version_reproduces_training_figures_when_version_stores_its_blend(trained):
    from animerec_training.evaluate import evaluate_version

    storage = trained["storage"]
    for run in ("default", "seed"):
        version = trained[run]["version"]
        stored = storage.read_json(f"models/{version}/metrics.json")
        assert stored["hybrid_params"]["weights"], stored["hybrid_params"]
        out = evaluate_version(storage, version)
        assert out["version"] == version and out["blend"] == "stored"
        assert out["hybrid_params"]["weights"] == stored["hybrid_params"]["weights"]
        assert {"popularity", "collaborative", "hybrid", "cold_popular", "cold_hybrid", "cold_start"} <= set(
            stored["strategies"]
        )
        # The default version was trained before any seed version existed: evaluate adds the seed row.
        extra = {"seed"} if run == "default" else set()
        assert set(out["metrics"]) == set(stored["strategies"]) | extra
        for name, row in stored["strategies"].items():
            assert out["metrics"][name] == row, (run, name)
        assert trained[run]["metrics"]["hybrid"] == out["metrics"]["hybrid"]


def test_evaluate_version_tunes_on_val_when_version_has_no_stored_blend(trained):
    from animerec_training.evaluate import evaluate_version
    from animerec_training.versions import write_version

    storage = trained["storage"]
    mv = load_model_version(storage, trained["default"]["version"])
    metrics = {k: v for k, v in mv.metrics.items() if k != "hybrid_params"}  # as an old version stored it
    write_version(
        storage,
        "v-old-no-blend",
        user_embeddings=mv.user_embeddings,
        anime_embeddings=mv.anime_embeddings,
        user_ids=mv.user_ids,
        anime_ids=mv.anime_ids,
        metrics=metrics,
        config=mv.config,
        history={},
        save_model=lambda p: p.write_bytes(b"k"),
    )
    out = evaluate_version(storage, "v-old-no-blend")
    assert out["blend"] == "tuned on val" and out["hybrid_params"]["tuned"] is True
    assert {"hybrid", "cold_start"} <= set(out["metrics"])
    assert out["metrics"]["collaborative"] == mv.metrics["strategies"]["collaborative"]


def _storage_with_current(trained, tmp_path, figures: dict[str, float], processed_id: str | None = None):
    """Returns (a copy of the trained storage, its settings) whose current version has the given NDCG@10 figures.

    The current version is the default version's embeddings with made-up stored figures (rows
    collaborative / hybrid / cold_start), published and promoted as a training run would.
    """
    import shutil

    from animerec_training.config import Settings
    from animerec_training.versions import promote, write_version

    storage = FileStorage(shutil.copytree(trained["storage"].root, tmp_path / "storage"))
    mv = load_model_version(storage, trained["default"]["version"])
    strategies = {row: {"ndcg@10": v, "recall@10": v, "hr@10": v, "users": 60} for row, v in figures.items()}
    write_version(
        storage,
        "v-current",
        user_embeddings=mv.user_embeddings,
        anime_embeddings=mv.anime_embeddings,
        user_ids=mv.user_ids,
        anime_ids=mv.anime_ids,
        metrics={**mv.metrics, "ndcg@10": figures["collaborative"], "strategies": strategies},
        config={**mv.config, "processed_id": processed_id or mv.processed_id},
        history={},
        save_model=lambda p: p.write_bytes(b"k"),
    )
    promote(storage, "v-current")
    settings = Settings(storage_url=storage.url, runs_dir=str(tmp_path / "runs"), comet_api_key=None, threads=2)
    return storage, settings


def test_retrain_is_not_promoted_when_served_hybrid_is_worse_even_with_better_collaborative(trained, tmp_path):
    from animerec_training.runner import run_training

    storage, settings = _storage_with_current(
        trained, tmp_path, {"collaborative": 0.0, "hybrid": 0.99, "cold_start": 0.0}
    )
    run = run_training(settings, model="seed", epochs=1, promote="if_better")
    new = run["metrics"]
    assert new["collaborative"]["ndcg@10"] > 0.0 and new["cold_start"]["ndcg@10"] > 0.0
    assert new["hybrid"]["ndcg@10"] < 0.99
    assert run["promoted"] is False and storage.get_current("models") == "v-current"
    assert run["promotion"]["current_version"] == "v-current"
    assert run["promotion"]["compared"] == {
        "hybrid ndcg@10": [new["hybrid"]["ndcg@10"], 0.99],
        "cold_start ndcg@10": [new["cold_start"]["ndcg@10"], 0.0],
    }
    assert run["promotion"]["decision"].startswith("not promoted: worse than the current version: hybrid ndcg@10")
    assert "cold_start" not in run["promotion"]["decision"]


def test_retrain_is_promoted_when_served_hybrid_and_cold_start_are_not_worse(trained, tmp_path):
    from animerec_training.runner import run_training

    storage, settings = _storage_with_current(
        trained, tmp_path, {"collaborative": 0.99, "hybrid": 0.0, "cold_start": 0.0}
    )
    run = run_training(settings, model="seed", epochs=1, promote="if_better")
    new = run["metrics"]
    assert new["collaborative"]["ndcg@10"] < 0.99  # its own figure is worse: it decides nothing
    assert run["promoted"] is True and storage.get_current("models") == run["version"] == run["current"]
    compared = {
        "hybrid ndcg@10": [new["hybrid"]["ndcg@10"], 0.0],
        "cold_start ndcg@10": [new["cold_start"]["ndcg@10"], 0.0],
    }
    assert run["promotion"]["compared"] == compared
    assert run["promotion"]["decision"] == (
        "promoted: hybrid ndcg@10 and cold_start ndcg@10 not worse than the current version's"
    )
    pointer = storage.read_json("models/CURRENT")
    assert pointer["previous"] == "v-current"
    assert pointer["reason"]["by"] == "training run (if_better)" and pointer["reason"]["compared"] == compared
    assert pointer["reason"]["decision"] == run["promotion"]["decision"]


def test_promotion_records_not_comparable_when_current_version_used_another_processed_dataset(trained, tmp_path):
    from animerec_training.runner import _maybe_promote

    storage, _ = _storage_with_current(
        trained, tmp_path, {"collaborative": 0.99, "hybrid": 0.99, "cold_start": 0.99}, processed_id="p-older"
    )
    version = trained["default"]["version"]
    metrics = storage.read_json(f"models/{version}/metrics.json")
    record = _maybe_promote(storage, version, "if_better", metrics, trained["processed_id"])
    assert record["promoted"] is True and storage.get_current("models") == version
    assert record["compared"] == {}
    assert record["decision"] == (
        f"promoted, not comparable: different processed dataset (new {trained['processed_id']}, current p-older)"
    )
    assert storage.read_json("models/CURRENT")["reason"]["decision"] == record["decision"]
