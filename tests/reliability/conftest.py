"""Fixtures of the reliability tests: one small world, a private Redis and the five services on loopback.

The whole stack is started once per session (about 30-60 s on 2 busy cores) and shared by the
fuzzing, fault and hostile-input tests; tests that break a service bring it back before they end.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_data import POISON_SYNOPSIS, POISONED_ANIME

from benchmarks import stack as st


def _poison(sample: Path, anime_id: int) -> None:
    import pandas as pd

    path = sample / "anime_with_synopsis.csv"
    frame = pd.read_csv(path)
    frame.loc[frame["MAL_ID"] == anime_id, "sypnopsis"] = POISON_SYNOPSIS
    frame.to_csv(path, index=False)


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> st.World:
    """A storage with a raw + processed dataset (300 sample users, real CLI) and a promoted numpy model."""
    root = tmp_path_factory.mktemp("reliability")
    env = st.base_env()
    st.animerec(env, "sample-data", "--out", str(root / "sample"), "--users", "300")
    _poison(root / "sample", POISONED_ANIME)
    return st.build_world(root, users=300, reuse=False)


@pytest.fixture(scope="session")
def private_redis():
    """A redis-server of our own on a free port (the machine's Redis on 6379 is never stopped)."""
    with st.RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def stack(world, private_redis, tmp_path_factory):
    """The five services on loopback against the world, caching in the private Redis, no rate limit.

    The recommender's in-process copy in front of Redis is off, so the cache hit rate is Redis' own.
    """
    logs = tmp_path_factory.mktemp("reliability-logs")
    with st.Stack(
        world,
        logs,
        redis_url=private_redis.url,
        GATEWAY_RATE_LIMIT_PER_MINUTE="0",
        RECOMMENDER_LOCAL_CACHE_TTL_SECONDS="0",
    ) as s:
        s.start_all(timeout=240)
        yield s


@pytest.fixture
def healthy_stack(stack):
    """The shared stack, checked ready before and brought back (every service up and ready) after the test."""
    stack.wait_ready(60)
    yield stack
    for name in st.SERVICES:
        proc = stack.procs.get(name)
        if proc is None or proc.poll() is not None:
            stack.start(name)
    stack.wait_ready(120, "recommender")
    stack.wait_ready(60)
