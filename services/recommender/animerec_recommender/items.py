"""Turning score vectors into ranked, filtered item lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from animerec_ranking.lists import Entry
from animerec_shared.contracts.recommender import Filters

from .state import ServingState


def to_meta_space(state: ServingState, rated_scores: np.ndarray) -> np.ndarray:
    """Returns scores over meta rows from scores over rated anime (-inf where unrated)."""
    out = np.full(len(state.meta), -np.inf, dtype=np.float32)
    ok = state.rated_meta_rows >= 0
    out[state.rated_meta_rows[ok]] = rated_scores[ok]
    return out


def item(state: ServingState, row: int, value_key: str, value: float, sources: list[str]) -> dict[str, Any]:
    """Returns one list item: the anime's static fields (episodes and MyAnimeList url included) plus the ranking
    value and its sources."""
    return {**state.items_json[row], value_key: round(float(value), 6), "sources": sources}


def shaped_items(
    state: ServingState,
    scores: np.ndarray,
    sources: Callable[[int], list[str]],
    allowed: np.ndarray,
    n: int,
    f: Filters,
    own_rows: np.ndarray,
    value_key: str = "relevance",
) -> list[dict[str, Any]]:
    """Returns the discovery list: own_rows' franchises out unless mixed, max_per_franchise per franchise.

    A franchise shown by a stand-in (its earliest entry) carries the value and sources of its
    best-scored entry, the one that ranked it.
    """
    mixed = f.mix_franchises or not f.exclude_rated  # rated anime may be shown: so may their franchises
    entries = state.lists.discovery(scores, allowed, n, f.max_per_franchise, exclude_rows=None if mixed else own_rows)
    return [franchise_item(state, e, value_key, float(scores[e.ranked_by]), sources(e.ranked_by)) for e in entries]


def franchise_item(state: ServingState, e: Entry, value_key: str, value: float, sources: list[str]) -> dict[str, Any]:
    """Returns a list item with its franchise: {"id": first entry's anime_id, "size": entries}."""
    out = item(state, e.row, value_key, value if np.isfinite(value) else 0.0, sources)
    out["franchise"] = {"id": e.franchise_id, "size": e.franchise_size}
    return out
