"""The pieces that make the two-tower fit fast, each checked against what it replaces or promises.

The loss over distinct anime equals the [batch, batch] softmax with repeats masked; SparseAdam
equals Keras' Adam where every row has a gradient and leaves the other rows alone; the batches
cover every row once per epoch in a seeded order; early stopping stops on a plateau and keeps
the best epoch's weights.
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from animerec_training.models import registry, two_tower  # noqa: E402


def _masked_full_batch_loss(model: two_tower.TwoTower, batch: dict) -> float:
    """The loss as it was written before: [batch, batch] logits, repeats of the positive masked."""
    users, items = batch["user"], batch["anime"]
    weights = tf.cast(batch["weight"], tf.float32)
    u = tf.math.l2_normalize(model.user_embedding(users), axis=-1)
    a = tf.math.l2_normalize(model.anime_embedding(items), axis=-1)
    logits = tf.matmul(u, a, transpose_b=True) / model.temperature
    logits -= tf.gather(model.log_q, items)[tf.newaxis, :]
    n = tf.shape(items)[0]
    repeats = tf.logical_and(
        tf.equal(items[:, tf.newaxis], items[tf.newaxis, :]), tf.logical_not(tf.eye(n, dtype=tf.bool))
    )
    logits = tf.where(repeats, tf.constant(-1e9, logits.dtype), logits)
    per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.range(n), logits=logits)
    return float(tf.reduce_sum(per_row * weights) / tf.reduce_sum(weights))


def test_loss_over_distinct_anime_equals_masked_full_batch_softmax_when_anime_repeat():
    rng = np.random.default_rng(3)
    model = two_tower.build(40, 12, rng.integers(1, 50, 12), dict(two_tower.DEFAULTS))
    batch = {
        "user": tf.constant(rng.integers(0, 40, 64), tf.int32),
        "anime": tf.constant(rng.integers(0, 12, 64), tf.int32),  # 64 rows over 12 anime: many repeats
        "weight": tf.constant(rng.uniform(0.1, 1.0, 64), tf.float32),
    }
    assert len(np.unique(batch["anime"].numpy())) < 64
    assert float(model.batch_loss(batch)) == pytest.approx(_masked_full_batch_loss(model, batch), rel=1e-5)


def _embedding_model(n_rows: int, optimizer: keras.optimizers.Optimizer) -> tuple[keras.layers.Embedding, object]:
    layer = keras.layers.Embedding(n_rows, 4, embeddings_initializer=keras.initializers.Constant(0.5))
    layer.build((None,))
    optimizer.build(layer.trainable_variables)
    return layer, optimizer


def _steps(layer: keras.layers.Embedding, optimizer: object, ids: list[list[int]]) -> np.ndarray:
    for step_ids in ids:
        idx = tf.constant(step_ids, tf.int32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(idx) - tf.cast(idx, tf.float32)[:, None]))
        grads = tape.gradient(loss, layer.trainable_variables)
        assert isinstance(grads[0], tf.IndexedSlices)
        optimizer.apply_gradients(zip(grads, layer.trainable_variables, strict=False))
    return layer.embeddings.numpy()


def test_sparse_adam_equals_adam_when_every_row_has_a_gradient_each_step():
    # Each row once per step: with a repeated row Keras' Adam squares the slices before summing them
    # (v gets the sum of squares), SparseAdam squares the summed gradient, as Adam is written.
    ids = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]]
    dense = _steps(*_embedding_model(4, keras.optimizers.Adam(0.05)), ids)
    sparse = _steps(*_embedding_model(4, two_tower.SparseAdam(0.05)), ids)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6)
    assert not np.allclose(dense, 0.5)  # the steps moved the rows


def test_sparse_adam_leaves_rows_without_gradient_unchanged_where_adam_moves_them():
    ids = [[0, 1], [0, 1], [2, 0]]  # row 3 never appears; row 2 only in the last step
    dense = _steps(*_embedding_model(4, keras.optimizers.Adam(0.05)), ids)
    sparse = _steps(*_embedding_model(4, two_tower.SparseAdam(0.05)), ids)
    np.testing.assert_allclose(sparse[3], 0.5)
    assert not np.allclose(sparse[2], 0.5)
    # Keras' Adam keeps moving rows 0 and 1 by their momentum at step 3, and row 2 only by its own step:
    # the two differ exactly where a row's gradient was missing.
    assert not np.allclose(dense[0], sparse[0]) or not np.allclose(dense[1], sparse[1])


def test_pair_batches_cover_every_row_once_per_epoch_in_a_seeded_order():
    users = np.arange(1000, dtype=np.int64)
    items, weights = users % 7, np.ones(1000, np.float32)
    batches = two_tower.PairBatches(users, items, weights, 128, seed=5)
    assert len(batches) == 8

    def epoch(b: two_tower.PairBatches) -> np.ndarray:
        return np.concatenate([b[k]["user"] for k in range(len(b))])

    first = epoch(batches)
    assert sorted(first.tolist()) == users.tolist()
    batches.on_epoch_end()
    second = epoch(batches)
    assert sorted(second.tolist()) == users.tolist() and not np.array_equal(first, second)
    again = two_tower.PairBatches(users, items, weights, 128, seed=5)
    assert np.array_equal(epoch(again), first)
    batch = again[0]
    assert np.array_equal(batch["anime"], batch["user"] % 7) and batch["user"].dtype == np.int32
    in_order = two_tower.PairBatches(users, items, weights, 300, seed=5, shuffle=False)
    assert np.array_equal(epoch(in_order), users) and len(in_order[3]["user"]) == 100


class _Curve(keras.callbacks.Callback):
    """Writes a scripted val_ndcg@10 into each epoch's logs and keeps the weights of each epoch."""

    def __init__(self, curve: list[float]):
        super().__init__()
        self.curve, self.weights = curve, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["val_ndcg@10"] = self.curve[epoch]
        self.weights.append(self.model.get_weights()[0].copy())


def test_early_stopping_stops_on_a_plateau_and_keeps_the_best_weights():
    x = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    # +100%, then +0.5% (under the 1% relative delta), then a drop: best is epoch 2, stop after epoch 4
    curve = _Curve([0.1, 0.2, 0.201, 0.15, 0.3, 0.3])
    stopper = registry.RelativeEarlyStopping(
        monitor="val_ndcg@10", mode="max", patience=2, min_delta=0.01, restore_best_weights=True
    )
    hist = model.fit(x, x[:, :1] * 2, epochs=6, verbose=0, callbacks=[curve, stopper])
    assert len(hist.history["loss"]) == 4 and stopper.best_epoch + 1 == 2
    np.testing.assert_array_equal(model.get_weights()[0], curve.weights[1])
    assert not np.array_equal(curve.weights[1], curve.weights[3])


def test_two_tower_fit_lowers_the_loss_and_pulls_planted_pairs_together():
    rng = np.random.default_rng(8)
    users = np.repeat(np.arange(50), 6)
    items = (users % 10) * 3 + rng.integers(0, 3, len(users))  # each user likes 3 of 30 anime
    params = {**two_tower.DEFAULTS, "batch_size": 64, "steps_per_execution": 4}
    model = two_tower.build(50, 30, np.bincount(items, minlength=30), params)
    hist = model.fit(two_tower.pairs_dataset(users, items, np.ones(len(users), np.float32), 64, 1), epochs=6, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    u, a = model.embeddings()
    scores = u @ a.T
    liked = scores[np.arange(50)[:, None], (np.arange(50) % 10)[:, None] * 3 + np.arange(3)]
    assert liked.mean() > scores.mean() + 0.1
