"""Runs scoring off the event loop on a few worker threads.

Scoring holds the GIL for much of its time: with anyio's default 40 threads, 32 concurrent
requests thrash the GIL; a handful of threads keeps both cores busy with less switching.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from anyio import CapacityLimiter

T = TypeVar("T")
_size = 4
# One limiter per event loop: a limiter must not be shared by apps running on different loops.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def configure(threads: int) -> None:
    """Sets how many worker threads scoring may use (for limiters created from now on)."""
    global _size
    _size = max(1, threads)


async def offload(fn: Callable[..., T], *args: Any) -> T:
    """Returns fn(*args), run on one of the scoring threads of the running event loop."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(_size)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=limiter)
