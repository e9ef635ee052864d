"""Ranking core shared by the recommender (serving) and the evaluation (numpy/scipy only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..datasets import ProcessedData
from ..evaluation import ScoreFn


def evaluation_strategies(data: ProcessedData, user_embeddings: np.ndarray | None = None,
                          anime_embeddings: np.ndarray | None = None,
                          config: dict[str, Any] | None = None) -> dict[str, ScoreFn]:
    """Returns {strategy name: score function} for every strategy the recommender serves.

    Filled in by the recommender work (content, item-item, hybrid); the evaluation scores
    whatever this returns next to popularity and the embeddings.
    """
    return {}
