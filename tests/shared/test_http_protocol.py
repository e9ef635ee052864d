"""The request-head cap of animerec_shared.http_protocol: heads over 64 KiB refused 431, bodies never counted.

A POST whose ~92 KB body arrived in the same read as its end was refused 431 (the read was counted as the
next request's head): schemathesis found it on the recommender's POST /profiles/recommendations.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request

from animerec_shared.http_protocol import MAX_HEAD_BYTES, HttpToolsProtocol
from animerec_shared.launcher import free_port

pytest.importorskip("httptools")


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    @app.get("/ok")
    async def ok() -> dict:
        return {"ok": True}

    p = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=p, http=HttpToolsProtocol, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield p
    server.should_exit = True
    thread.join(10)


def _exchange(port: int, data: bytes, answers: int = 1) -> bytes:
    """Sends data in one write and reads until `answers` answers arrived or the connection closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        try:
            while out.count(b"HTTP/1.1 ") < answers or not out.endswith(b"}"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                out += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return out


def _post(body: bytes, close: bool = False) -> bytes:
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return head + (b"Connection: close\r\n" if close else b"") + b"\r\n" + body


@pytest.mark.parametrize("size", [70_000, 92_776, 300_000, 2_000_000])
def test_a_large_body_is_not_counted_as_a_head(port, size):
    body = json.dumps({"liked": [2147483647] * (size // 11)}).encode()[:size]
    answer = _exchange(port, _post(body, close=True))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"bytes": len(body)}


def test_keep_alive_after_a_large_body_and_pipelined_requests_pass(port):
    body = b"x" * 92_000
    pipelined = _post(body) + _post(body) + b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = _exchange(port, pipelined, answers=3)
    assert answer.count(b"HTTP/1.1 200 ") == 3, answer[:300]
    assert b"431" not in answer.split(b"\r\n", 1)[0]


def test_an_oversized_head_is_still_refused_and_one_under_the_cap_passes(port):
    big = b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\nConnection: close\r\n\r\n"
    answer = _exchange(port, big)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    if answer:
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_header_too_large"
    # after a small request on the same connection, an oversized head is refused all the same
    pipelined = _post(b"{}") + big
    answer = _exchange(port, pipelined, answers=2)
    assert b"HTTP/1.1 431 " in answer, answer[:300]  # (the small request's 200 may or may not come first)
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 500) for i in range(110))  # ~60 KB, under the cap
    assert len(many) < MAX_HEAD_BYTES
    ok = _exchange(port, b"GET /ok HTTP/1.1\r\nHost: x\r\n" + many + b"Connection: close\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200 "), ok[:200]
