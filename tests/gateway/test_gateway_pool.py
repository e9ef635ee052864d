"""The gateway's lean upstream pool on real loopback sockets: reuse, stale connections, chunked bodies, failures."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from animerec_gateway.pool import Broken, ConnectFailed, Pool, ReadTimedOut


async def _serve(handler):  # noqa: ANN001, ANN202
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def _pool_on(handler):  # noqa: ANN001, ANN202
    """Yields a Pool (4 connections) to a loopback server running handler; closes both after."""
    server, port = await _serve(handler)
    pool = Pool(f"http://127.0.0.1:{port}", 4, 1.0, 2.0)
    try:
        yield pool
    finally:
        await pool.aclose()
        server.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
    return head + (await reader.readexactly(length) if length else b"")


def test_pool_reuses_connections_and_recovers_from_a_silently_closed_one():
    connections = 0

    async def handler(reader, writer):  # answers one request per connection, then closes without saying so
        nonlocal connections
        connections += 1
        request = await _read_request(reader)
        body = b'{"ok":true,"post":' + (b"true" if request.startswith(b"POST") else b"false") + b"}"
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    async def run():
        async with _pool_on(handler) as pool:
            first = await pool.request("GET", "/a", params={"n": 1, "genre": ["A", "B"]})
            await asyncio.sleep(0.05)
            second = await pool.request("POST", "/b", json_body={"liked": [1]})
        return first, second

    first, second = asyncio.run(run())
    assert first.status_code == second.status_code == 200
    assert first.json() == {"ok": True, "post": False} and second.json() == {"ok": True, "post": True}
    assert connections == 2


def test_pool_reads_chunked_bodies_and_keeps_the_connection():
    connections = 0

    async def handler(reader, writer):
        nonlocal connections
        connections += 1
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                         b"5\r\n{\"err\r\n8\r\nor\":\"x\"}\r\n0\r\n\r\n")
            await writer.drain()
        writer.close()

    async def run():
        async with _pool_on(handler) as pool:
            return [await pool.request("GET", f"/x/{i}") for i in range(3)]

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all(a.json() == {"error": "x"} for a in answers)
    assert connections == 1


def test_pool_failures_are_typed():
    async def silent(reader, writer):
        await asyncio.sleep(5)

    async def garbage(reader, writer):
        await _read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        writer.close()

    async def run():
        from socket import socket

        with socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        with pytest.raises(ConnectFailed):
            await Pool(f"http://127.0.0.1:{dead}", 2, 0.5, 0.5).request("GET", "/")
        server, port = await _serve(silent)
        with pytest.raises(ReadTimedOut):
            await Pool(f"http://127.0.0.1:{port}", 2, 0.5, 0.3).request("GET", "/")
        server.close()
        server, port = await _serve(garbage)
        with pytest.raises(Broken):
            await Pool(f"http://127.0.0.1:{port}", 2, 0.5, 0.5).request("GET", "/")
        server.close()

    asyncio.run(run())
