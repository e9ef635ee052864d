"""The gateway's upstream client (aiohttp) on loopback sockets: reuse, stale connections, retries, error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from animerec_gateway import upstreams
from animerec_gateway.config import Settings
from animerec_gateway.upstreams import BadGateway, Upstream, UpstreamTimeout
from animerec_shared.errors import AnimeRecError, UpstreamUnavailable


def _upstream(url: str, **settings: float) -> Upstream:
    registry = CollectorRegistry()
    requests = Counter("up_requests_total", "requests", ["upstream", "outcome"], registry=registry)
    latency = Histogram("up_seconds", "latency", ["upstream"], registry=registry)
    base = {"upstream_connect_timeout_seconds": 0.5, "upstream_read_timeout_seconds": 0.5, "environment": "test"}
    return Upstream("recommender", url, Settings(**{**base, **settings}), requests=requests, latency=latency)


@contextlib.asynccontextmanager
async def _served(handler):
    """Yields an Upstream to a loopback server running handler; closes both after."""

    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        finally:  # also when the test ends first (a handler still sleeping is cancelled)
            writer.close()

    server = await asyncio.start_server(closing, "127.0.0.1", 0)
    upstream = _upstream(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    try:
        yield upstream
    finally:
        await upstream.aclose()
        server.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return head + (await reader.readexactly(length) if length else b"")


def _answer(status: int, body: bytes, ctype: bytes = b"application/json") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\ncontent-type: ".encode()
        + ctype
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def _dead_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connections_are_reused_and_query_json_and_headers_sent():
    connections, seen = 0, []

    async def handler(reader, writer):
        nonlocal connections
        connections += 1
        while True:
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(_answer(200, b'{"ok":true}'))
            await writer.drain()
        writer.close()

    async def run():
        async with _served(handler) as up:
            got = [await up.json("GET", "/anime/1/similar", params={"n": 3, "genre": ["A", "B"]}) for _ in range(3)]
            got.append(await up.json("POST", "/recommendations", json_body={"liked": [1]}))
        return got

    assert asyncio.run(run()) == [{"ok": True}] * 4
    assert connections == 1
    assert seen[0].startswith(b"GET /anime/1/similar?n=3&genre=A&genre=B HTTP/1.1")
    assert b"accept: application/json" in seen[0].lower()
    head, body = seen[-1].split(b"\r\n\r\n", 1)
    assert head.startswith(b"POST /recommendations") and b"content-type: application/json" in head.lower()
    assert json.loads(body) == {"liked": [1]}


def test_a_connection_the_upstream_closed_while_idle_is_replaced():
    connections = 0

    async def handler(reader, writer):  # one answer per connection, then closes without saying so
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(_answer(200, b'{"n":%d}' % connections))
        await writer.drain()
        writer.close()

    async def run():
        async with _served(handler) as up:
            first = await up.json("GET", "/a")
            await asyncio.sleep(0.05)
            return first, await up.json("GET", "/b")

    assert asyncio.run(run()) == ({"n": 1}, {"n": 2})


def test_refused_get_is_retried_with_backoff_and_post_is_not(monkeypatch):
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def spy(delay: float) -> None:
        delays.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(upstreams, "asyncio", SimpleNamespace(sleep=spy, gather=asyncio.gather))

    async def run():
        up = _upstream(f"http://127.0.0.1:{_dead_port()}", upstream_get_retries=2)
        try:
            with pytest.raises(UpstreamUnavailable) as get_error:
                await up.request("GET", "/anime")
            get_delays = list(delays)
            with pytest.raises(UpstreamUnavailable):
                await up.request("POST", "/recommendations", json_body={"liked": [1]})
        finally:
            await up.aclose()
        return get_error.value, get_delays

    error, get_delays = asyncio.run(run())
    assert get_delays == [0.05, 0.1] and delays == get_delays  # two GET retries, none for the POST
    assert error.status_code == 503 and error.code == "upstream_unavailable"
    assert error.details == {"upstream": "recommender", "reason": "ClientConnectorError"}


def test_slow_broken_and_unparsable_answers_map_to_504_503_502():
    async def silent(reader, writer):  # reads the request, never answers; closes once the client gave up
        await reader.read()
        writer.close()

    async def late(reader, writer):  # past the 0.5 s read budget, within a call's own longer one
        await _read_request(reader)
        await asyncio.sleep(0.8)
        writer.write(_answer(200, b'{"late":true}'))
        await writer.drain()
        writer.close()

    async def garbage(reader, writer):
        await _read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        writer.close()

    async def not_json(reader, writer):
        await _read_request(reader)
        writer.write(_answer(200, b"<html>", b"text/html"))
        await writer.drain()
        writer.close()

    async def run():
        async with _served(late) as up:
            on_time = await up.json("POST", "/admin/reload", json_body={}, timeout=3.0)
        errors = [on_time]
        for handler, call in (
            (silent, lambda up: up.request("GET", "/")),
            (late, lambda up: up.request("POST", "/admin/reload", json_body={})),
            (garbage, lambda up: up.request("GET", "/")),
            (not_json, lambda up: up.json("GET", "/")),
        ):
            async with _served(handler) as up:
                with pytest.raises(AnimeRecError) as caught:
                    await call(up)
                errors.append(caught.value)
        return errors

    on_time, slow, slow_default, broken, unparsable = asyncio.run(run())
    assert on_time == {"late": True}
    assert isinstance(slow, UpstreamTimeout) and slow.status_code == 504 and slow.details == {"upstream": "recommender"}
    assert isinstance(slow_default, UpstreamTimeout)
    assert isinstance(broken, UpstreamUnavailable) and broken.details["upstream"] == "recommender"
    assert isinstance(unparsable, BadGateway) and unparsable.status_code == 502
    assert unparsable.details == {"upstream": "recommender"}
