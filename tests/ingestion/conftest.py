"""Fixtures of the ingestion tests: small Kaggle-shaped source folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ingestion_helpers import animelist_rows, write_anime, write_animelist

from animerec_ingestion.app import create_app
from animerec_ingestion.config import Settings


@pytest.fixture
def source(tmp_path) -> Path:
    """A valid source folder: anime.csv, anime_with_synopsis.csv, animelist.csv."""
    folder = tmp_path / "source"
    folder.mkdir()
    write_anime(folder)
    write_animelist(folder, animelist_rows())
    return folder


@pytest.fixture
def real_source(tmp_path, real_data) -> Path:
    """The real MAL files under their Kaggle names (rating_complete.csv = the 99,999-row sample)."""
    folder = tmp_path / "real"
    folder.mkdir()
    shutil.copy(real_data / "anime.csv", folder / "anime.csv")
    shutil.copy(real_data / "anime_with_synopsis.csv", folder / "anime_with_synopsis.csv")
    shutil.copy(real_data / "rating_complete_sample.csv", folder / "rating_complete.csv")
    return folder


@pytest.fixture
def allowed_root(tmp_path, source) -> Path:
    """The ingestion service's allowed root, holding the valid source folder as drop/."""
    root = tmp_path / "incoming"
    root.mkdir()
    source.rename(root / "drop")
    return root


@pytest.fixture
def client(tmp_path, allowed_root):
    """A TestClient of the ingestion app confined to allowed_root."""
    settings = Settings(
        storage_url=(tmp_path / "storage").as_uri(), allowed_root=allowed_root, min_user_ratings=10, log_json=False
    )
    with TestClient(create_app(settings)) as c:
        yield c
