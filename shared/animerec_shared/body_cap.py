"""A request body capped while it streams in: refused once its declared or received size passes the cap.

Used where a route reads a large body (file uploads: ingestion's CSVs, the gateway's MyAnimeList import)
and must not read, buffer or spool more than its cap. The error is raised inside the app's own ``receive``
calls (where the route reads the form), so the app's error handler answers it in the error schema and the
rest of the body is never read; small JSON bodies use the gateway's whole-body limit instead.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Receive, Scope

# Room for the multipart framing (boundaries, part headers) around the files themselves.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024


def capped_receive(scope: Scope, receive: Receive, max_bytes: int, error: Callable[[], Exception]) -> Receive:
    """Returns a receive that raises error() at once when Content-Length declares more than max_bytes, else as
    soon as the bytes received pass max_bytes."""
    declared = dict(scope.get("headers", ())).get(b"content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > max_bytes
    received = 0

    async def limited() -> Message:
        nonlocal received
        if too_large:
            raise error()
        message = await receive()
        received += len(message.get("body", b""))
        if received > max_bytes:
            raise error()
        return message

    return limited
