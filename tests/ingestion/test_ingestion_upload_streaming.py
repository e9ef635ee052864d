"""The upload cap holds while the body streams: a body past the cap is answered 413 before it is all sent."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import uvicorn

from animerec_ingestion.app import create_app
from animerec_ingestion.config import Settings
from animerec_ingestion.upload_limit import MULTIPART_OVERHEAD_BYTES
from animerec_shared.launcher import free_port, wait_port

CAP = 1000


@pytest.fixture
def server(tmp_path):
    settings = Settings(
        storage_url=(tmp_path / "st").as_uri(), allowed_root=tmp_path, upload_max_bytes=CAP, log_json=False
    )
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    wait_port(port)
    yield port
    srv.should_exit = True
    thread.join(timeout=10)


def _answer(sock: socket.socket) -> tuple[int, dict]:
    """Returns the status and JSON body of the answer (reads until the server closes or the body is complete)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(ln.split(b":")[1]) for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), json.loads(body)


def _start(port: int, headers: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /ingestions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        + f"{headers}\r\n".encode()
    )
    return sock


PART_HEAD = b'--b\r\nContent-Disposition: form-data; name="f"; filename="animelist.csv"\r\n\r\n'


def test_declared_oversized_upload_is_413_before_the_body_arrives(server):
    # Declares 100 MB, sends 2 KB and waits: the answer must come without the rest of the body.
    sock = _start(server, f"Content-Length: {100 * 1024 * 1024}\r\n")
    sock.sendall(PART_HEAD + b"x" * 2048)
    status, body = _answer(sock)  # the socket timeout (5 s) fails the test if the server waits for the body
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    sock.close()


def test_streamed_upload_past_the_cap_is_413_while_it_streams(server):
    # Chunked, no length: after cap + framing bytes the server answers although the body never ends.
    sock = _start(server, "Transfer-Encoding: chunked\r\n")
    sock.sendall(b"%x\r\n%s\r\n" % (len(PART_HEAD), PART_HEAD))
    chunk = b"x" * 4096
    for _ in range((CAP + MULTIPART_OVERHEAD_BYTES) // len(chunk) + 2):
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    status, body = _answer(sock)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    sock.close()
