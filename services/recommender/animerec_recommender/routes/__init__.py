"""One router module per resource; ``stamped`` adds the per-answer fields every list answer carries.

The list routes page in the route, not in the engine: they ask the engine for the list's first
``page * limit + 1`` items (franchise grouping already applied) and answer the page's slice, so
pages 1..k together are the first k * limit items of one request, and the one extra item says
whether a next page exists. ``relevance`` is made one number with one meaning here (see
``RELEVANCE_DOC`` in the contract): engine items carry a raw ranking score or a similarity.
"""

from __future__ import annotations

import time
from typing import Any

from animerec_shared.contracts.recommender import Filters, ListFilters

RAW_KEYS = ("relevance", "similarity")  # what the engine's items carry: a ranking score or a similarity


def ranking_filters(query: ListFilters) -> Filters:
    """Returns the engine's filters of a validated list query (those the route does not take at their defaults)."""
    return Filters.model_validate(query, from_attributes=True)


def stamped(payload: dict[str, Any], model_version: str, started: float) -> dict[str, Any]:
    """Returns a copy of payload with the served model version and the milliseconds since started."""
    return {**payload, "model_version": model_version, "took_ms": round((time.perf_counter() - started) * 1000, 3)}


def _raw(item: dict[str, Any]) -> float | None:
    value = None
    for key in RAW_KEYS:
        v = item.pop(key, None)
        value = v if v is not None else value
    return None if value is None else float(value)


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 6)


def similarity_relevance(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sets each item's relevance to its similarity (or match quality) in [0, 1], negatives as 0 (in place)."""
    for it in items:
        raw = _raw(it)
        it["relevance"] = None if raw is None else _clip(raw)
    return items


def best_score(ranked: list[dict[str, Any]]) -> float | None:
    """Returns the raw score of a ranked list's first item (its best), None for an empty list."""
    if not ranked:
        return None
    first = ranked[0]
    value = next((first[k] for k in RAW_KEYS if first.get(k) is not None), None)
    return None if value is None else float(value)


def ranked_relevance(items: list[dict[str, Any]], best: float | None) -> list[dict[str, Any]]:
    """Sets each item's relevance to its ranking score relative to the list's best score, in [0, 1] (in place);
    None when the best score is not positive."""
    for it in items:
        raw = _raw(it)
        it["relevance"] = None if raw is None or best is None or best <= 0 else _clip(raw / best)
    return items
