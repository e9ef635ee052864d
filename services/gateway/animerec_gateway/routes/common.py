"""Error docs shared by the routes, and a validated query as the upstream's query parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from animerec_shared.contracts.common import error_doc

UPSTREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    422: error_doc(
        "invalid parameters (`validation_error`): a value out of bounds, a genre or type outside the allowed ones "
        "(the message names them), an unknown parameter or body field, `n` and `limit` disagreeing, "
        "page * limit over 500, an anime both liked and disliked"
    ),
    429: error_doc("rate limited (`rate_limited`, see Retry-After)"),
    503: error_doc("the service behind this route is down (`upstream_unavailable`)"),
    504: error_doc("the service behind this route was too slow (`upstream_timeout`)"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: error_doc("unknown id (`anime_not_found` / `user_not_found`)")}


def upstream_params(query: BaseModel) -> list[tuple[str, str]]:
    """Returns a validated query's values not at their defaults as query parameters: lists as repeated
    keys, booleans as true/false (aiohttp takes neither as they are)."""
    params: list[tuple[str, str]] = []
    for key, value in query.model_dump(exclude_defaults=True).items():
        for v in value if isinstance(value, list) else (value,):
            params.append((key, ("true" if v else "false") if isinstance(v, bool) else str(v)))
    return params
