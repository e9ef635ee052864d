"""uvicorn's httptools HTTP/1.1 protocol with a cap on the request head (request line and headers).

uvicorn with httptools (its choice when httptools is installed, as in the images) accepts request heads
of any size: an 8 MB header is read into memory and handed to the app. h11 has a cap
(``--h11-max-incomplete-event-size``) but serves about 40 % fewer requests per second on the gateway
(#16), so every service runs this subclass instead: ``uvicorn --http animerec_shared.http_protocol:HttpToolsProtocol``
(the launcher and the Dockerfile CMDs). A head over :data:`MAX_HEAD_BYTES` is answered 431 in the error
schema and the connection closed, before any app code runs. The count is of the reads received while a
head is incomplete; a read in which a request ends is not counted (it holds that request's head and body,
and at most the start of a pipelined next head), so a body never counts as a head and a head under the cap
is never refused; a pipelined head may pass the cap by at most that one uncounted read.
"""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http import httptools_impl

MAX_HEAD_BYTES = 64 * 1024

_BODY = json.dumps(
    {
        "error": {
            "code": "request_header_too_large",
            "message": f"request line and headers over {MAX_HEAD_BYTES // 1024} KiB",
        }
    }
).encode()


class HttpToolsProtocol(httptools_impl.HttpToolsProtocol):
    """uvicorn's httptools protocol refusing request heads over ``max_head_bytes`` with a 431."""

    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # between two requests the next bytes are the next request's head
        self._head_bytes = 0
        self._ended_in_read = False  # a request ended in the read being parsed

    def data_received(self, data: bytes) -> None:
        self._ended_in_read = False
        super().data_received(data)
        # A read that ends a request is mostly that request (a whole body may come in one read: a 92 KB POST
        # was refused 431 when its read was counted as the next head); count from the next read on.
        if self._in_head and not self._ended_in_read and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._send_431()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._ended_in_read = True, 0, True

    def _send_431(self) -> None:
        self.logger.warning("Request head over %d bytes refused.", self.max_head_bytes)
        content = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(_BODY)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                _BODY,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
