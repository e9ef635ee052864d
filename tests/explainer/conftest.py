"""Explainer fixtures: real HTTP servers on loopback (fake OpenAI, fake recommender, the app itself)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from explainer_fakes import CATALOGUE, FakeOpenAI, FakeRecommender, more_facts, serve


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    with serve(fake.app) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def fake_recommender() -> Iterator[FakeRecommender]:
    fake = FakeRecommender(more_facts(), users={7, 42})
    with serve(fake.app) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def title_storage(file_storage):
    """A storage with a processed dataset whose anime.parquet holds CATALOGUE; yields its URL."""
    import pandas as pd

    with file_storage.publish("processed/p-test") as folder:
        frame = pd.DataFrame(CATALOGUE)
        frame["title"] = frame["english_name"]
        frame.to_parquet(folder / "anime.parquet")
    file_storage.set_current("processed", "p-test")
    return file_storage.root.as_uri()


@pytest.fixture
def explainer(tmp_path) -> Iterator[Callable[..., str]]:
    """Starts explainer apps with the given settings on loopback; yields a starter returning the URL."""
    from animerec_explainer.app import create_app
    from animerec_explainer.config import Settings

    stack = contextlib.ExitStack()

    apps: dict[str, Any] = {}

    def start(**overrides: Any) -> str:
        base = {
            "storage_url": (tmp_path / "empty-storage").as_uri(),
            "log_json": False,
            "log_level": "WARNING",
            "metrics_port": 0,  # a free port: app.state.metrics_url
        }
        app = create_app(Settings(**{**base, **overrides}))
        url = stack.enter_context(serve(app))
        apps[url] = app
        return url

    start.metrics_url = lambda url: apps[url].state.metrics_url  # type: ignore[attr-defined]

    with stack:
        yield start
