"""Loading a processed dataset (see docs/architecture.md) into numpy/scipy structures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

RATING_COLUMNS = ["user_index", "anime_index", "rating", "rating_norm"]
RELEVANT_RATING = 8  # held-out items rated >= 8 (1-10 scale) count as relevant


@dataclass
class ProcessedData:
    """A processed dataset: rating splits, id maps, anime metadata and its manifest."""

    path: Path
    manifest: dict[str, Any]
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    users: pd.DataFrame
    rated_anime: pd.DataFrame
    anime: pd.DataFrame = field(repr=False)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.rated_anime)

    def matrix(self, frame: pd.DataFrame, values: str | None = None, dtype: Any = np.float32) -> sp.csr_matrix:
        """Returns a users x rated-anime CSR matrix of a ratings frame (1.0 or the given column)."""
        data = np.ones(len(frame), dtype=dtype) if values is None else frame[values].to_numpy(dtype)
        return sp.csr_matrix(
            (data, (frame["user_index"].to_numpy(), frame["anime_index"].to_numpy())),
            shape=(self.n_users, self.n_items),
            dtype=dtype,
        )

    @cached_property
    def train_part(self) -> pd.DataFrame:
        """Returns train + val: everything the evaluation excludes from a user's candidates."""
        return pd.concat([self.train, self.val], ignore_index=True)

    @cached_property
    def anime_ids(self) -> np.ndarray:
        """Returns int64 anime ids, position = anime_index."""
        return self.rated_anime.sort_values("anime_index")["anime_id"].to_numpy(np.int64)

    @cached_property
    def user_ids(self) -> np.ndarray:
        """Returns int64 user ids, position = user_index."""
        return self.users.sort_values("user_index")["user_id"].to_numpy(np.int64)


def load_processed(path: Path | str, with_anime: bool = True) -> ProcessedData:
    """Returns the processed dataset stored in a local folder."""
    path = Path(path)
    read = lambda name: pd.read_parquet(path / name)  # noqa: E731
    anime = read("anime.parquet") if with_anime else pd.DataFrame()
    return ProcessedData(
        path=path,
        manifest=json.loads((path / "manifest.json").read_text()),
        train=read("ratings_train.parquet"),
        val=read("ratings_val.parquet"),
        test=read("ratings_test.parquet"),
        users=read("users.parquet"),
        rated_anime=read("rated_anime.parquet"),
        anime=anime,
    )
