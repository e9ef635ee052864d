"""Filters shared by every list endpoint, applied as one boolean mask over the anime metadata."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from pydantic import BaseModel, Field, model_validator

from .state import ServingState


class Filters(BaseModel):
    """Include/exclude genres, types, minimum members, year range, already rated, adult titles."""

    genre: list[str] = Field(default_factory=list, max_length=20, description="anime must have all these genres")
    exclude_genre: list[str] = Field(default_factory=list, max_length=20, description="anime must have none of these")
    type: list[str] = Field(default_factory=list, max_length=10, description="TV, Movie, OVA, ONA, Special, Music")
    min_members: int = Field(0, ge=0, le=10_000_000)
    year_min: int | None = Field(None, ge=1900, le=2100)
    year_max: int | None = Field(None, ge=1900, le=2100)
    exclude_rated: bool = Field(True, description="drop anime the user already rated (user endpoints)")
    include_adult: bool = Field(False, description="include 'Rx - Hentai' titles")
    max_per_franchise: int = Field(1, ge=0, le=100, description=(
        "lists show at most this many entries of one franchise, the earliest standing for it "
        "(0 = no cap)"))
    mix_franchises: bool = Field(False, description=(
        "keep the franchises the user rated or liked in the list (true, with max_per_franchise=0, "
        "gives the plain ranked list); false moves them to the separate continue list"))

    @model_validator(mode="after")
    def _years_ordered(self) -> Filters:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError("year_min must not exceed year_max")
        return self

    def key(self) -> str:
        """Returns a short stable digest of the filters (for cache keys)."""
        raw = json.dumps(self.model_dump(), sort_keys=True, default=str)
        return hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()

    def is_default(self) -> bool:
        return self == Filters()


def _genre_columns(state: ServingState, names: list[str]) -> list[int]:
    lower = {g.lower(): i for i, g in enumerate(state.genres)}
    return [lower[n.lower()] for n in names if n.lower() in lower]


def meta_mask(state: ServingState, f: Filters) -> np.ndarray:
    """Returns a fresh bool mask over meta rows of the anime that pass the filters (rated exclusion aside)."""
    key = f.model_copy(update={"exclude_rated": True, "max_per_franchise": 1, "mix_franchises": False}).key()
    cached = state.mask_cache.get(key)
    if cached is None:
        cached = _compute_mask(state, f)
        if len(state.mask_cache) > 256:
            state.mask_cache.clear()
        state.mask_cache[key] = cached
    return cached.copy()  # callers switch more anime off in place


def _compute_mask(state: ServingState, f: Filters) -> np.ndarray:
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


def rated_mask(state: ServingState, f: Filters) -> np.ndarray:
    """Returns the filter mask over rated anime (anime_index order); unknown metadata fails."""
    m = meta_mask(state, f)
    rows = state.rated_meta_rows
    return np.where(rows >= 0, m[np.maximum(rows, 0)], False)
