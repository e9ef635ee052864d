"""Runs scoring off the event loop on a few worker threads.

Scoring holds the GIL for much of its time: with anyio's default 40 threads, 32 concurrent
requests thrash the GIL; a handful of threads keeps both cores busy with less switching.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from anyio import CapacityLimiter

T = TypeVar("T")
_limiter: CapacityLimiter | None = None
_size = 4


def configure(threads: int) -> None:
    """Sets how many worker threads scoring may use (applies to the next limiter created)."""
    global _size, _limiter
    _size, _limiter = max(1, threads), None


async def offload(fn: Callable[..., T], *args: Any) -> T:
    """Returns fn(*args), run on one of the scoring threads."""
    global _limiter
    if _limiter is None:
        _limiter = CapacityLimiter(_size)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=_limiter)
