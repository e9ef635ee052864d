"""The default model: a two-tower retrieval model trained with an in-batch softmax.

Each (user, anime) rating in the train split is a positive pair; the other anime of the batch are
its negatives. Logits are cosine similarities of L2-normalised 128-d embeddings divided by a
temperature, minus log q(anime) (the anime's share of training rows), which removes the
popularity bias that in-batch negatives would otherwise bake in (logQ correction). Rows are
weighted by their rating, so a 10 pulls harder than a 3. Repeats of the positive anime elsewhere
in the batch are not its negatives; the softmax runs over the batch's distinct anime, each
column counted as often as the anime is in the batch (``batch_loss``).

Training cost on 2 CPU cores (13,238 users x 17,320 anime, batch 1024; the README's profile of
the 5M-row bench): the [batch, distinct anime] logits dominate; Keras' Adam updates every row of
both embedding tables each step, which ``SparseAdam`` (Adam on the rows the batch touched, the
"lazy" Adam of TF Addons, which is no longer maintained) avoids.
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
    # A val-held-out fit (fit_on "train") stops when val NDCG@10 has not risen by this fraction
    # for `patience` epochs, and keeps its best epoch's weights.
    "early_stopping_patience": 2,
    "early_stopping_min_delta": 0.01,
    # The training run's final model continues the val-blind copy (best epoch) for this many
    # epochs on train + val, instead of a second fit from scratch.
    "final_epochs": 2,
    "optimizer": "sparse_adam",  # "adam" (Keras, dense updates) or "sparse_adam" (rows of the batch)
    "steps_per_execution": 16,  # batches per call into the compiled step (less Python per batch)
    # The contract's final models fit on the whole train part (train + val); "train" keeps val
    # out of fitting so that its per-epoch metrics are honest and early stopping can use them.
    "fit_on": "train_part",
}


@keras.saving.register_keras_serializable(package="animerec")
class TwoTower(keras.Model):
    """Returns cosine scores of (user, anime) pairs; trains with a weighted in-batch softmax."""

    def __init__(
        self,
        n_users: int,
        n_items: int,
        embedding_dim: int = 128,
        temperature: float = 0.15,
        init_stddev: float = 0.1,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.embedding_dim, self.temperature, self.init_stddev = int(embedding_dim), float(temperature), init_stddev
        init = keras.initializers.RandomNormal(stddev=init_stddev)
        self.user_embedding = keras.layers.Embedding(
            self.n_users, self.embedding_dim, embeddings_initializer=init, name="user_embedding"
        )
        self.anime_embedding = keras.layers.Embedding(
            self.n_items, self.embedding_dim, embeddings_initializer=init, name="anime_embedding"
        )
        self.log_q = self.add_weight(shape=(self.n_items,), initializer="zeros", trainable=False, name="log_q")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def set_item_frequencies(self, counts: np.ndarray) -> None:
        """Stores log q(anime) from per-anime training row counts (unseen anime get one pseudo-count)."""
        counts = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
        self.log_q.assign(np.log(counts / counts.sum()).astype(np.float32))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_users": self.n_users,
            "n_items": self.n_items,
            "embedding_dim": self.embedding_dim,
            "temperature": self.temperature,
            "init_stddev": self.init_stddev,
        }

    @property
    def metrics(self) -> list[Any]:
        return [self.loss_tracker]

    def call(self, inputs: dict[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        u = tf.math.l2_normalize(self.user_embedding(inputs["user"]), axis=-1)
        a = tf.math.l2_normalize(self.anime_embedding(inputs["anime"]), axis=-1)
        return tf.reduce_sum(u * a, axis=-1)

    def batch_loss(self, batch: dict[str, tf.Tensor]) -> tf.Tensor:
        """Returns the rating-weighted in-batch softmax loss with logQ correction.

        Each row's candidates are the batch's distinct anime, a column per anime with the log of
        its count in the batch added (an anime twice in the batch is two negatives), except in
        the row's own label column, which counts once: exactly the [batch, batch] softmax with
        the repeats of the positive masked, on fewer columns.
        """
        users, items = batch["user"], batch["anime"]
        weights = tf.cast(batch["weight"], tf.float32)
        distinct, label = tf.unique(items)
        n = tf.shape(items)[0]
        log_count = tf.math.log(tf.math.unsorted_segment_sum(tf.ones([n]), label, tf.shape(distinct)[0]))
        u = tf.math.l2_normalize(self.user_embedding(users), axis=-1) / self.temperature
        a = tf.math.l2_normalize(self.anime_embedding(distinct), axis=-1)
        logits = tf.matmul(u, a, transpose_b=True) + (log_count - tf.gather(self.log_q, distinct))[tf.newaxis, :]
        own = tf.stack([tf.range(n), label], axis=1)
        logits = tf.tensor_scatter_nd_sub(logits, own, tf.gather(log_count, label))
        per_row = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label, logits=logits)
        return tf.reduce_sum(per_row * weights) / tf.maximum(tf.reduce_sum(weights), 1e-6)

    def train_step(self, data: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            loss = self.batch_loss(data)
            # Under a tf.distribute strategy each replica has a slice of the batch and the gradients
            # are summed across replicas: scale so that the sum is the gradient of the mean.
            scaled = loss / tf.cast(self.distribute_strategy.num_replicas_in_sync, loss.dtype)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=False))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        self.loss_tracker.update_state(self.batch_loss(data))
        return {"loss": self.loss_tracker.result()}

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """Returns (user, anime) float32 embeddings with L2-normalised rows."""
        return (_l2(self.user_embedding.embeddings.numpy()), _l2(self.anime_embedding.embeddings.numpy()))


@keras.saving.register_keras_serializable(package="animerec")
class SparseAdam(keras.optimizers.Adam):
    """Adam that, for an embedding gradient (IndexedSlices), updates only the rows in the batch.

    The moments of the other rows are left as they are (not decayed), as TF Addons' LazyAdam did.
    Dense gradients take Keras' Adam unchanged.
    """

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if not isinstance(gradient, tf.IndexedSlices):
            super().update_step(gradient, variable, learning_rate)
            return
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        alpha = tf.cast(learning_rate, dtype) * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
        rows, position = tf.unique(gradient.indices)
        grad = tf.math.unsorted_segment_sum(tf.cast(gradient.values, dtype), position, tf.shape(rows)[0])
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m_rows = tf.gather(m, rows) * beta_1 + (1 - beta_1) * grad
        v_rows = tf.gather(v, rows) * beta_2 + (1 - beta_2) * tf.square(grad)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        self.assign_sub(variable, tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon), rows))


def _l2(m: np.ndarray) -> np.ndarray:
    m = m.astype(np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def rating_weights(ratings: np.ndarray, power: float, floor: float) -> np.ndarray:
    """Returns per-row sample weights: floor + (1 - floor) * ((rating - 1) / 9) ** power."""
    norm = (np.asarray(ratings, dtype=np.float32) - 1.0) / 9.0
    return (floor + (1.0 - floor) * norm**power).astype(np.float32)


class PairBatches(keras.utils.PyDataset):
    """{"user", "anime", "weight"} batches of the rows in a seeded order, reshuffled every epoch.

    Batches are slices of a numpy permutation: tf.data's element-wise ``shuffle`` capped the
    input at about 20,000 rows/s on 2 cores, half of what the model step takes.
    """

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        weights: np.ndarray,
        batch_size: int,
        seed: int,
        shuffle: bool = True,
    ):
        super().__init__()
        self.columns = {
            "user": users.astype(np.int32),
            "anime": items.astype(np.int32),
            "weight": weights.astype(np.float32),
        }
        self.batch_size, self.shuffle = int(batch_size), shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self._order()

    def _order(self) -> np.ndarray:
        n = len(self.columns["user"])
        return self.rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self) -> int:
        return -(-len(self.columns["user"]) // self.batch_size)

    def __getitem__(self, k: int) -> dict[str, np.ndarray]:
        rows = self.order[k * self.batch_size : (k + 1) * self.batch_size]
        return {name: col[rows] for name, col in self.columns.items()}

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self._order()


def pairs_dataset(
    users: np.ndarray, items: np.ndarray, weights: np.ndarray, batch_size: int, seed: int, shuffle: bool = True
) -> PairBatches:
    """Returns the {"user", "anime", "weight"} batches (seeded reshuffle per epoch)."""
    return PairBatches(users, items, weights, batch_size, seed, shuffle)


def build(
    n_users: int, n_items: int, item_counts: np.ndarray, params: dict[str, Any], steps_per_epoch: int = 1
) -> TwoTower:
    """Returns a compiled two-tower model with logQ set from the training item counts."""
    model = TwoTower(n_users, n_items, params["embedding_dim"], params["temperature"], params["init_stddev"])
    model({"user": tf.zeros((1,), tf.int32), "anime": tf.zeros((1,), tf.int32)})  # create the variables
    model.set_item_frequencies(item_counts)
    lr: Any = params["learning_rate"]
    if params.get("lr_decay") == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            lr, decay_steps=max(1, steps_per_epoch * int(params["epochs"])), alpha=0.1
        )
    optimizer = SparseAdam if params.get("optimizer", "sparse_adam") == "sparse_adam" else keras.optimizers.Adam
    # Keras cannot run several steps per call on a generator-fed (PyDataset) input split across
    # replicas ("must feed a value for placeholder"): one step per call under a multi-replica strategy.
    spe = int(params.get("steps_per_execution", 1)) if tf.distribute.get_strategy().num_replicas_in_sync == 1 else 1
    model.compile(optimizer=optimizer(learning_rate=lr), steps_per_execution=spe)
    return model
