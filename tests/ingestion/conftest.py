"""Fixtures of the ingestion tests: small Kaggle-shaped source folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ingestion_helpers import animelist_rows, write_anime, write_animelist


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
