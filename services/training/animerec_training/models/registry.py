"""Models selectable by name, behind one ``train()`` that returns embeddings and history.

TensorFlow is imported by this module; import it only inside a training process.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from animerec_ranking import evaluation
from animerec_ranking.datasets import ProcessedData

from . import seed, two_tower

MODELS = ("two_tower", "seed")
# Our tf.data pipelines shuffle themselves (seeded); Keras warns that its own shuffle flag is unused.
_SHUFFLE_WARNING = r".*`shuffle=True` was passed.*"


def _fit(model: keras.Model, *args: Any, **kwargs: Any) -> keras.callbacks.History:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SHUFFLE_WARNING)
        return model.fit(*args, **kwargs)


EmbedFn = Callable[[keras.Model], tuple[np.ndarray, np.ndarray]]


def default_params(name: str) -> dict[str, Any]:
    """Returns the default hyper-parameters of a model."""
    return dict(_module(name).DEFAULTS)


def _module(name: str) -> Any:
    if name == "two_tower":
        return two_tower
    if name == "seed":
        return seed
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


@dataclass
class Trained:
    """What a training run produced."""

    model: keras.Model
    user_embeddings: np.ndarray
    anime_embeddings: np.ndarray
    history: dict[str, list[float]]
    params: dict[str, Any]
    train_seconds: float
    samples_per_s: float
    checkpoints: list[Path] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class RelativeEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping whose ``min_delta`` is a fraction of the best value so far (val NDCG differs
    by an order of magnitude between datasets, so an absolute delta fits none)."""

    def _is_improvement(self, monitor_value: Any, reference_value: Any) -> bool:
        if reference_value is None or not np.isfinite(reference_value):
            return True
        margin = abs(float(reference_value)) * self.min_delta  # negative in "min" mode (Keras flips the sign)
        return bool(self.monitor_op(monitor_value - margin, reference_value))


class RankingCallback(keras.callbacks.Callback):
    """Adds val NDCG@10/Recall@10/HR@10 (val split, train items masked) to each epoch's logs."""

    def __init__(self, data: ProcessedData, embed: EmbedFn, on_epoch: Callable[[int, dict], None] | None = None):
        super().__init__()
        self.seen = data.matrix(data.train)
        self.val = data.val
        self.embed = embed
        self.on_epoch = on_epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        u, a = self.embed(self.model)
        m = evaluation.evaluate_strategy(evaluation.embedding_scores(u, a), self.seen, self.val)
        for key in ("ndcg@10", "recall@10", "hr@10"):
            logs[f"val_{key}"] = m[key]
        if self.on_epoch:
            self.on_epoch(epoch, dict(logs))


def best_epoch(history: dict[str, list[float]]) -> int | None:
    """Returns the 1-based epoch with the best val NDCG@10 (the first of ties), None without one."""
    curve = history.get("val_ndcg@10") or []
    return int(np.argmax(curve)) + 1 if curve else None


def train(
    name: str,
    data: ProcessedData,
    params: dict[str, Any],
    workdir: Path,
    seed_value: int,
    on_epoch: Callable[[int, dict], None] | None = None,
    start_from: Trained | None = None,
    strategy: Any = None,
) -> Trained:
    """Returns the trained model of the given name (params: defaults overridden by the caller).

    ``start_from`` (a two-tower Trained) continues that model's weights and optimizer state
    instead of a fresh model: the final fit on train + val after the val-blind copy.
    ``strategy`` (a ``tf.distribute`` strategy, see runtime.distribution_strategy) places the
    two-tower model's variables; the seed recipe always trains on one device.
    """
    full = {**default_params(name), **{k: v for k, v in params.items() if v is not None}}
    ckpt_dir = workdir / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    if name == "seed":
        return _train_seed(data, full, ckpt_dir, seed_value, on_epoch)
    return _train_two_tower(data, full, ckpt_dir, seed_value, on_epoch, start_from, strategy)


def _history(h: keras.callbacks.History) -> dict[str, list[float]]:
    return {k: [float(x) for x in v] for k, v in h.history.items()}


def _train_seed(
    data: ProcessedData,
    p: dict[str, Any],
    ckpt_dir: Path,
    seed_value: int,
    on_epoch: Callable[[int, dict], None] | None,
) -> Trained:
    model = seed.build(data.n_users, data.n_items, p)
    train_ds = seed.ratings_dataset(data.train, p["batch_size"], seed_value, shuffle=True)
    val_ds = seed.ratings_dataset(data.val, p["batch_size"], seed_value, shuffle=False)
    ckpt = ckpt_dir / "seed-best.weights.h5"
    cbs = [RankingCallback(data, seed.embeddings, on_epoch), *seed.callbacks(p, str(ckpt))]
    t0 = time.perf_counter()
    hist = _fit(model, train_ds, validation_data=val_ds, epochs=int(p["epochs"]), verbose=0, callbacks=cbs)
    seconds = time.perf_counter() - t0
    history = _history(hist)
    val_bce = float(model.evaluate(val_ds, verbose=0, return_dict=True)["loss"])  # best weights restored
    u, a = seed.embeddings(model)
    rows = len(data.train) * len(history.get("loss", []))
    return Trained(
        model,
        u,
        a,
        history,
        p,
        seconds,
        rows / max(seconds, 1e-9),
        [c for c in ckpt_dir.iterdir() if c.is_file()],
        {"val_bce": val_bce},
    )


def _train_two_tower(
    data: ProcessedData,
    p: dict[str, Any],
    ckpt_dir: Path,
    seed_value: int,
    on_epoch: Callable[[int, dict], None] | None,
    start_from: Trained | None = None,
    strategy: Any = None,
) -> Trained:
    fit_frame = data.train_part if p["fit_on"] == "train_part" else data.train
    users = fit_frame["user_index"].to_numpy()
    items = fit_frame["anime_index"].to_numpy()
    weights = two_tower.rating_weights(fit_frame["rating"].to_numpy(), p["weight_power"], p["weight_floor"])
    steps = -(-len(users) // int(p["batch_size"]))
    counts = np.bincount(items, minlength=data.n_items)
    if start_from is not None:
        model = start_from.model
        model.set_item_frequencies(counts)  # logQ of the rows this fit sees
    else:
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            model = two_tower.build(data.n_users, data.n_items, counts, p, steps)
    train_ds = two_tower.pairs_dataset(users, items, weights, p["batch_size"], seed_value)
    val_w = two_tower.rating_weights(data.val["rating"].to_numpy(), p["weight_power"], p["weight_floor"])
    val_ds = two_tower.pairs_dataset(
        data.val["user_index"].to_numpy(),
        data.val["anime_index"].to_numpy(),
        val_w,
        p["batch_size"],
        seed_value,
        shuffle=False,
    )
    ckpt = ckpt_dir / "two_tower-last.weights.h5"
    cbs: list[keras.callbacks.Callback] = [
        RankingCallback(data, lambda m: m.embeddings(), on_epoch),
        keras.callbacks.ModelCheckpoint(str(ckpt), save_weights_only=True),
    ]
    stopper = None
    if p["fit_on"] == "train":  # val is held out from fitting: stop on its ranking quality
        stopper = RelativeEarlyStopping(
            monitor="val_ndcg@10",
            mode="max",
            restore_best_weights=True,
            patience=p["early_stopping_patience"],
            min_delta=p["early_stopping_min_delta"],
        )
        cbs.append(stopper)
    t0 = time.perf_counter()
    hist = _fit(model, train_ds, validation_data=val_ds, epochs=int(p["epochs"]), verbose=0, callbacks=cbs)
    seconds = time.perf_counter() - t0
    history = _history(hist)
    u, a = model.embeddings()
    rows = len(fit_frame) * len(history.get("loss", []))
    extra = {"best_epoch": stopper.best_epoch + 1} if stopper is not None and history.get("loss") else {}
    return Trained(
        model,
        u,
        a,
        history,
        p,
        seconds,
        rows / max(seconds, 1e-9),
        [c for c in ckpt_dir.iterdir() if c.is_file()],
        extra,
    )
