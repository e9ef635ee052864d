"""Imports TensorFlow once, with thread counts, seeds and determinism set before first use."""

from __future__ import annotations

import os
from typing import Any

_CONFIGURED = False


def thread_env(threads: int) -> dict[str, str]:
    """Returns the env vars that cap BLAS/OpenMP/TF threads (for child processes and Docker)."""
    n = str(max(1, threads))
    return {
        "OMP_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


STRATEGIES = ("default", "mirrored", "multi_worker")


def configure_tensorflow(threads: int = 2, seed: int = 42, deterministic: bool = True, cpu_replicas: int = 1) -> Any:
    """Returns the tensorflow module after capping its threads and seeding python, numpy and TF.

    ``cpu_replicas`` > 1 splits the CPU into that many logical devices (``mirrored`` without a
    GPU). Threads and devices can only be set before TF runs its first op, so later calls only
    re-seed.
    """
    global _CONFIGURED
    for key, value in thread_env(threads).items():
        os.environ.setdefault(key, value)
    import tensorflow as tf

    if not _CONFIGURED:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(max(1, threads))
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TF already initialised by the caller: keep its settings
            pass
        if cpu_replicas > 1 and not tf.config.list_physical_devices("GPU"):
            try:
                tf.config.set_logical_device_configuration(
                    tf.config.list_physical_devices("CPU")[0],
                    [tf.config.LogicalDeviceConfiguration() for _ in range(cpu_replicas)],
                )
            except RuntimeError:
                pass
        if deterministic:
            tf.config.experimental.enable_op_determinism()
        _CONFIGURED = True
    tf.keras.utils.set_random_seed(seed)
    return tf


def distribution_strategy(name: str) -> Any:
    """Returns the ``tf.distribute`` strategy named by TRAINING_STRATEGY.

    ``default``: one device. ``mirrored``: every GPU of the machine, or without one the logical
    CPU devices of ``configure_tensorflow(cpu_replicas=...)``; the batch is split between them and
    the gradients are summed. ``multi_worker``: one replica per worker of the cluster in
    ``TF_CONFIG`` (a Kubernetes Job with one pod per worker, see docs/deploy.md).
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown TRAINING_STRATEGY {name!r}; choose one of {', '.join(STRATEGIES)}")


def is_chief(strategy: Any) -> bool:
    """Returns False on the workers of a multi-worker cluster other than its chief.

    Every worker runs the same fit (its collectives need all of them); only the chief (the
    ``chief`` task of ``TF_CONFIG``, else worker 0, as tf.distribute decides) evaluates, publishes
    the model version and promotes it. One-machine strategies are always the chief.
    """
    return bool(strategy.extended.should_checkpoint)
