"""The list filters as one boolean mask over the anime metadata, and the cache key of a validated query.

The filters themselves are the contract's (``animerec_shared.contracts.recommender``): each list
query carries the subset its route takes, the engine ranks with ``Filters``.
"""

from __future__ import annotations

import hashlib

import numpy as np
from pydantic import BaseModel

from animerec_shared.contracts.recommender import ListFilters

from .state import ServingState

LIST_FILTER_FIELDS = set(ListFilters.model_fields)


def cache_key(model: BaseModel, fields: set[str] | None = None) -> str:
    """Returns a short stable digest of a validated query, body or filter set (every field, or those named)."""
    return hashlib.blake2b(model.model_dump_json(include=fields).encode(), digest_size=8).hexdigest()


def _genre_columns(state: ServingState, names: list[str]) -> list[int]:
    lower = {g.lower(): i for i, g in enumerate(state.genres)}
    return [lower[n.lower()] for n in names if n.lower() in lower]


def meta_mask(state: ServingState, f: ListFilters) -> np.ndarray:
    """Returns a fresh bool mask over meta rows of the anime that pass the list filters (rated exclusion aside)."""
    key = cache_key(f, LIST_FILTER_FIELDS)
    cached = state.mask_cache.get(key)
    if cached is None:
        cached = _compute_mask(state, f)
        if len(state.mask_cache) > 256:
            state.mask_cache.clear()
        state.mask_cache[key] = cached
    return cached.copy()  # callers switch more anime off in place


def _compute_mask(state: ServingState, f: ListFilters) -> np.ndarray:
    mask = np.ones(len(state.meta), dtype=bool)
    if not f.include_adult:
        mask &= ~state.adult
    if f.genre:
        cols = _genre_columns(state, f.genre)
        if len(cols) < len(set(g.lower() for g in f.genre)):
            return np.zeros(len(state.meta), dtype=bool)  # an unknown genre matches nothing
        mask &= np.asarray(state.genre_matrix[:, cols].sum(axis=1)).ravel() == len(cols)
    if f.exclude_genre:
        cols = _genre_columns(state, f.exclude_genre)
        if cols:
            mask &= np.asarray(state.genre_matrix[:, cols].sum(axis=1)).ravel() == 0
    if f.type:
        mask &= np.isin(state.types, [t.lower() for t in f.type])
    if f.min_members:
        mask &= state.members >= f.min_members
    if f.year_min is not None:
        mask &= state.years >= f.year_min
    if f.year_max is not None:
        mask &= state.years <= f.year_max
    return mask


def rated_mask(state: ServingState, f: ListFilters) -> np.ndarray:
    """Returns the filter mask over rated anime (anime_index order); unknown metadata fails."""
    m = meta_mask(state, f)
    rows = state.rated_meta_rows
    return np.where(rows >= 0, m[np.maximum(rows, 0)], False)
