"""Runs scoring inline on the event loop (the default) or on a few worker threads.

Scoring holds the GIL for most of its time, so in one process threads add no throughput. Under
a closed-loop load they do change who waits: cached answers are served on the loop at once while
every cache miss queues for a thread, so misses see the whole backlog (cold start alone through
the gateway at 64 clients, `benchmarks/bench_load.py --per-kind 5`: 388 req/s and p99 609 ms with
4 threads, 692 req/s and p99 185 ms inline). Inline,
requests are served in arrival order. Threads remain an option for slow scoring (hundreds of ms)
that must not block health checks; with anyio's default 40 threads the GIL thrashes, so a handful.
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
_size = 0
# One limiter per event loop: a limiter must not be shared by apps running on different loops.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def configure(threads: int) -> None:
    """Sets how many worker threads scoring may use (0: inline on the event loop)."""
    global _size
    _size = max(0, threads)


async def offload(fn: Callable[..., T], *args: Any) -> T:
    """Returns fn(*args), run inline (no threads configured) or on a scoring thread of the running loop."""
    if _size == 0:
        return fn(*args)
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(_size)
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=limiter)
