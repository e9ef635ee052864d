"""The upload cap, enforced while the body streams in: a body past the cap is refused before it is all read."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from animerec_shared.body_cap import MULTIPART_OVERHEAD_BYTES, capped_receive
from animerec_shared.errors import AnimeRecError

__all__ = ["MULTIPART_OVERHEAD_BYTES", "PayloadTooLarge", "UploadLimitMiddleware"]


class PayloadTooLarge(AnimeRecError):
    status_code = 413
    code = "payload_too_large"


class UploadLimitMiddleware:
    """Raises 413 `payload_too_large` from the body stream once a declared or received size passes the cap.

    The error is raised inside the app's own receive calls (where the route reads the form), so the
    app's error handler answers it in the error schema and the rest of the body is never read or
    spooled to disk; the route still checks the files' own total against the cap.
    """

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes + MULTIPART_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        await self.app(scope, capped_receive(scope, receive, self.max_bytes, self._error), send)

    def _error(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body is larger than {self.max_bytes:,} bytes (the upload cap plus framing)")
