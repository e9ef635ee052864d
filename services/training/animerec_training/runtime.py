"""Imports TensorFlow once, with thread counts, seeds and determinism set before first use."""

from __future__ import annotations

import os
from typing import Any

_CONFIGURED = False


def thread_env(threads: int) -> dict[str, str]:
    """Returns the env vars that cap BLAS/OpenMP/TF threads (for child processes and Docker)."""
    n = str(max(1, threads))
    return {"OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": n,
            "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def configure_tensorflow(threads: int = 2, seed: int = 42, deterministic: bool = True) -> Any:
    """Returns the tensorflow module after capping its threads and seeding python, numpy and TF.

    Threads can only be set before TF runs its first op, so later calls only re-seed.
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
        if deterministic:
            tf.config.experimental.enable_op_determinism()
        _CONFIGURED = True
    tf.keras.utils.set_random_seed(seed)
    return tf
