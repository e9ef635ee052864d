"""Fixtures of the recommender tests: published planted/real worlds and the app served on loopback."""

from __future__ import annotations

import pytest
import recommender_fixtures as rf
from recommender_live import LiveServer, make_settings


@pytest.fixture(scope="session")
def planted_storage(tmp_path_factory):
    """A folder storage holding the planted world and a promoted SVD model (v-planted-1)."""
    from animerec_shared.storage import FileStorage

    storage = FileStorage(tmp_path_factory.mktemp("planted") / "storage")
    rf.publish_planted(storage)
    return storage


@pytest.fixture(scope="session")
def planted_server(planted_storage, redis_url):
    """The recommender on the planted world, with the real Redis as its cache."""
    import redis

    from animerec_recommender.app import create_app

    client = redis.Redis.from_url(redis_url)  # drop only this world's keys: other suites share the db
    for key in client.scan_iter("animerec:rec:*:v-planted-1:*"):
        client.delete(key)
    app = create_app(make_settings(planted_storage.root, redis_url))
    with LiveServer(app) as server:
        server.wait_ready()
        yield server
