"""One router module per resource; ``stamped`` adds the per-answer fields every list answer carries."""

from __future__ import annotations

import time
from typing import Any

from animerec_shared.contracts.recommender import Filters, ListFilters


def ranking_filters(query: ListFilters) -> Filters:
    """Returns the engine's filters of a validated list query (those the route does not take at their defaults)."""
    return Filters.model_validate(query, from_attributes=True)


def stamped(payload: dict[str, Any], model_version: str, started: float) -> dict[str, Any]:
    """Returns a copy of payload with the served model version and the milliseconds since started."""
    return {**payload, "model_version": model_version, "took_ms": round((time.perf_counter() - started) * 1000, 3)}
