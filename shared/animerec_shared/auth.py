"""The service token guarding the internal services' mutating routes (SERVICE_TOKEN, see settings.py).

A caller sends ``Authorization: Bearer <SERVICE_TOKEN>`` (the gateway does) or ``X-Service-Token``.
Without a token: 401 ``unauthorized``; with a wrong one: 403 ``forbidden`` (error schema). A service
started without SERVICE_TOKEN (development and test only: production settings refuse to start without
one) lets every caller through and logs a warning once. Read-only routes take no token.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from .contracts.common import error_doc
from .errors import AnimeRecError

log = logging.getLogger("animerec.auth")

SERVICE_TOKEN_HEADER = "X-Service-Token"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceToken",
    description="The platform's SERVICE_TOKEN, sent as `Authorization: Bearer <token>` (what the gateway sends).",
)
_header = APIKeyHeader(
    name=SERVICE_TOKEN_HEADER,
    auto_error=False,
    scheme_name="ServiceTokenHeader",
    description="The platform's SERVICE_TOKEN, as an `X-Service-Token` header.",
)

# The OpenAPI answers a guarded route adds.
SERVICE_TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_doc("no service token (unauthorized)"),
    403: error_doc("the service token is not valid (forbidden)"),
}


def service_token_headers(token: str | None) -> dict[str, str]:
    """Returns the headers that present a service token (none when it is unset or empty)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


async def require_service_token(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> None:
    """Returns nothing when the caller's token matches SERVICE_TOKEN; raises 401 `unauthorized` or 403 `forbidden`."""
    settings = request.app.state.settings
    expected = settings.service_token.get_secret_value() if settings.service_token is not None else ""
    if not expected:
        if not getattr(request.app.state, "service_token_warned", False):
            request.app.state.service_token_warned = True
            log.warning(
                "SERVICE_TOKEN is not set: %s and the other mutating routes of this service are open to every "
                "caller (allowed outside production only)",
                request.url.path,
            )
        return
    given = header or (bearer.credentials if bearer is not None else "")
    if not given:
        raise AnimeRecError(
            "this internal route needs `Authorization: Bearer <SERVICE_TOKEN>` or `X-Service-Token`",
            code="unauthorized",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise AnimeRecError("the service token is not valid", code="forbidden", status_code=403)


# `dependencies=[ServiceToken]` on a mutating route of an internal service.
ServiceToken = Depends(require_service_token)
