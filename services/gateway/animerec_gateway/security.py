"""Bearer-token guard of the admin API (401 without a token, 403 with a wrong one)."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from animerec_shared.errors import AnimeRecError

from .config import Settings

log = logging.getLogger("animerec.gateway")

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="The gateway's GATEWAY_ADMIN_TOKEN, sent as `Authorization: Bearer <token>`.",
)


def resolve_admin_token(settings: Settings) -> str:
    """Returns the admin token: GATEWAY_ADMIN_TOKEN, or outside production a random one that is logged once."""
    if settings.admin_token is not None and settings.admin_token.get_secret_value():
        return settings.admin_token.get_secret_value()
    # Settings already refuse production without a token; this is development/test only.
    token = secrets.token_urlsafe(24)
    log.warning("GATEWAY_ADMIN_TOKEN is not set; generated a development admin token: %s", token)
    return token


async def require_admin(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]
) -> None:
    """Returns nothing when the bearer token matches; raises 401 `unauthorized` or 403 `forbidden`."""
    if creds is None or not creds.credentials:
        raise AnimeRecError(
            "this admin route needs `Authorization: Bearer <GATEWAY_ADMIN_TOKEN>`",
            code="unauthorized",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected: str = request.app.state.admin_token
    if not hmac.compare_digest(creds.credentials.encode("utf-8"), expected.encode("utf-8")):
        raise AnimeRecError("the admin token is not valid", code="forbidden", status_code=403)
