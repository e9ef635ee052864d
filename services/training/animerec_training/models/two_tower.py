"""The default model: a two-tower retrieval model trained with an in-batch softmax.

Each (user, anime) rating in the train split is a positive pair; the other anime of the batch are
its negatives. Logits are cosine similarities of L2-normalised 128-d embeddings divided by a
temperature, minus log q(anime) (the anime's share of training rows), which removes the
popularity bias that in-batch negatives would otherwise bake in (logQ correction). Rows are
weighted by their rating, so a 10 pulls harder than a 3. Repeats of the positive anime elsewhere
in the batch are masked, so an anime is never its own negative.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

DEFAULTS: dict[str, Any] = {
    "embedding_dim": 128,
    "temperature": 0.15,
    "learning_rate": 5e-3,
    "lr_decay": "none",  # "none" or "cosine" (to 10% of the initial rate at the last epoch)
    "batch_size": 1024,
    "epochs": 30,
    "weight_power": 2.0,  # chosen on val (see services/training/README.md): 1 -> 0.160, 2 -> 0.166
    "weight_floor": 0.1,
    "init_stddev": 0.1,
    "early_stopping_patience": 5,
    # The contract's final models fit on the whole train part (train + val); "train" keeps val
    # out of fitting so that its per-epoch metrics are honest and early stopping can use them.
    "fit_on": "train_part",
}


@keras.saving.register_keras_serializable(package="animerec")
class TwoTower(keras.Model):
    """Returns cosine scores of (user, anime) pairs; trains with a weighted in-batch softmax."""

    def __init__(self, n_users: int, n_items: int, embedding_dim: int = 128, temperature: float = 0.15,
                 init_stddev: float = 0.1, **kwargs: Any):
        super().__init__(**kwargs)
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.embedding_dim, self.temperature, self.init_stddev = int(embedding_dim), float(temperature), init_stddev
        init = keras.initializers.RandomNormal(stddev=init_stddev)
        self.user_embedding = keras.layers.Embedding(self.n_users, self.embedding_dim, embeddings_initializer=init,
                                                     name="user_embedding")
        self.anime_embedding = keras.layers.Embedding(self.n_items, self.embedding_dim,
                                                      embeddings_initializer=init, name="anime_embedding")
        self.log_q = self.add_weight(shape=(self.n_items,), initializer="zeros", trainable=False, name="log_q")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def set_item_frequencies(self, counts: np.ndarray) -> None:
        """Stores log q(anime) from per-anime training row counts (unseen anime get one pseudo-count)."""
        counts = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
        self.log_q.assign(np.log(counts / counts.sum()).astype(np.float32))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_users": self.n_users, "n_items": self.n_items,
                "embedding_dim": self.embedding_dim, "temperature": self.temperature,
                "init_stddev": self.init_stddev}

    @property
    def metrics(self) -> list[Any]:
        return [self.loss_tracker]

    def call(self, inputs: dict[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        u = tf.math.l2_normalize(self.user_embedding(inputs["user"]), axis=-1)
        a = tf.math.l2_normalize(self.anime_embedding(inputs["anime"]), axis=-1)
        return tf.reduce_sum(u * a, axis=-1)

    def batch_loss(self, batch: dict[str, tf.Tensor]) -> tf.Tensor:
        """Returns the rating-weighted in-batch softmax loss with logQ correction."""
        users, items = batch["user"], batch["anime"]
        weights = tf.cast(batch["weight"], tf.float32)
        u = tf.math.l2_normalize(self.user_embedding(users), axis=-1)
        a = tf.math.l2_normalize(self.anime_embedding(items), axis=-1)
        logits = tf.matmul(u, a, transpose_b=True) / self.temperature
        logits -= tf.gather(self.log_q, items)[tf.newaxis, :]
        n = tf.shape(items)[0]
        repeats = tf.logical_and(tf.equal(items[:, tf.newaxis], items[tf.newaxis, :]),
                                 tf.logical_not(tf.eye(n, dtype=tf.bool)))
        logits = tf.where(repeats, tf.constant(-1e9, logits.dtype), logits)
        per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.range(n), logits=logits)
        return tf.reduce_sum(per_row * weights) / tf.maximum(tf.reduce_sum(weights), 1e-6)

    def train_step(self, data: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            loss = self.batch_loss(data)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        self.loss_tracker.update_state(self.batch_loss(data))
        return {"loss": self.loss_tracker.result()}

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """Returns (user, anime) float32 embeddings with L2-normalised rows."""
        return (_l2(self.user_embedding.embeddings.numpy()), _l2(self.anime_embedding.embeddings.numpy()))


def _l2(m: np.ndarray) -> np.ndarray:
    m = m.astype(np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def rating_weights(ratings: np.ndarray, power: float, floor: float) -> np.ndarray:
    """Returns per-row sample weights: floor + (1 - floor) * ((rating - 1) / 9) ** power."""
    norm = (np.asarray(ratings, dtype=np.float32) - 1.0) / 9.0
    return (floor + (1.0 - floor) * norm ** power).astype(np.float32)


def pairs_dataset(users: np.ndarray, items: np.ndarray, weights: np.ndarray, batch_size: int, seed: int,
                  shuffle: bool = True) -> tf.data.Dataset:
    """Returns a tf.data pipeline of {"user", "anime", "weight"} batches (seeded reshuffle per epoch)."""
    ds = tf.data.Dataset.from_tensor_slices({"user": users.astype(np.int32), "anime": items.astype(np.int32),
                                             "weight": weights.astype(np.float32)})
    if shuffle:
        ds = ds.shuffle(len(users), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=False).prefetch(2)


def build(n_users: int, n_items: int, item_counts: np.ndarray, params: dict[str, Any],
          steps_per_epoch: int = 1) -> TwoTower:
    """Returns a compiled two-tower model with logQ set from the training item counts."""
    model = TwoTower(n_users, n_items, params["embedding_dim"], params["temperature"], params["init_stddev"])
    model({"user": tf.zeros((1,), tf.int32), "anime": tf.zeros((1,), tf.int32)})  # create the variables
    model.set_item_frequencies(item_counts)
    lr: Any = params["learning_rate"]
    if params.get("lr_decay") == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, steps_per_epoch * int(params["epochs"])),
                                                    alpha=0.1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr))
    return model
