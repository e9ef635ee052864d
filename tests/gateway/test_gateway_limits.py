"""Rate limit, body limit and CORS of the gateway, over real HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_fakes import FAKES, Stack

from animerec_gateway.limits import TokenBuckets
from animerec_shared.launcher import Launcher, free_port


@pytest.fixture(scope="module")
def limited():
    with Stack(rate_limit_per_minute=60, rate_limit_burst=3) as s:
        yield s


@pytest.fixture(scope="module")
def small_bodies():
    with Stack(max_body_bytes=2048) as s:
        yield s


def test_rate_limit_is_429_with_retry_after(limited):
    with httpx.Client(base_url=limited.url, timeout=10) as c:
        codes = [c.get("/api/v1/anime/5114").status_code for _ in range(3)]
        r = c.get("/api/v1/anime/5114")
        assert codes == [200, 200, 200]
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 2
        assert r.headers.get("x-request-id")
        # probes are never throttled
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        assert "gateway_rate_limited_total 1.0" in limited.metrics()


def test_token_bucket_refills_per_client():
    b = TokenBuckets(per_minute=60, burst=2)
    assert b.take("a", now=0.0) == 0.0 and b.take("a", now=0.0) == 0.0
    assert b.take("a", now=0.0) == pytest.approx(1.0)
    assert b.take("b", now=0.0) == 0.0  # another client has its own bucket
    assert b.take("a", now=1.01) == 0.0  # one token per second refilled


def test_body_over_limit_is_413(small_bodies):
    big = {"liked": [1] * 2000, "n": 5}  # about 4 KB of JSON
    with httpx.Client(base_url=small_bodies.url, timeout=10) as c:
        r = c.post("/api/v1/recommendations", json=big)
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_streamed_body_over_limit_is_413_without_content_length(small_bodies):
    def chunks():
        yield b'{"liked": ['
        for _ in range(1500):
            yield b"1,"
        yield b"1]}"

    with httpx.Client(base_url=small_bodies.url, timeout=10) as c:
        r = c.post("/api/v1/recommendations", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "content-length" not in r.request.headers
        small = c.post("/api/v1/recommendations", json={"liked": [5114], "n": 2})
        assert small.status_code == 200


def test_cors_closed_by_default(limited):
    with httpx.Client(base_url=limited.url, timeout=10) as c:
        r = c.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        pre = c.options(
            "/api/v1/recommendations",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in pre.headers and pre.status_code >= 400


def test_cors_open_only_to_listed_origins():
    with Stack(cors_origins="https://app.example") as s:
        with httpx.Client(base_url=s.url, timeout=10) as c:
            ok = c.get("/api/v1/anime/5114", headers={"Origin": "https://app.example"})
            assert ok.headers["access-control-allow-origin"] == "https://app.example"
            other = c.get("/api/v1/anime/5114", headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in other.headers


@contextlib.contextmanager
def launched_gateway(upstreams: Stack, logs: Path, **env: str) -> Iterator[Launcher]:
    """A gateway as `animerec serve` / `make run` start it (the launcher's uvicorn command) before the fakes."""
    env = {
        **os.environ,
        "GATEWAY_ENVIRONMENT": "test",
        "GATEWAY_LOG_LEVEL": "WARNING",
        **{f"GATEWAY_{name.upper()}_URL": upstreams.settings.url_of(name) for name in FAKES},
        **env,
    }
    with Launcher({"gateway": free_port()}, env=env, logs=logs) as launcher:
        launcher.start("gateway")
        launcher.wait_ready(60, path="/healthz")
        yield launcher


def test_rate_limit_not_bypassed_by_x_forwarded_for_under_the_launcher(limited, tmp_path):
    """GATEWAY_TRUST_FORWARDED_FOR=false is the only switch: uvicorn must not take the client from the header."""
    limits = {"GATEWAY_RATE_LIMIT_PER_MINUTE": "60", "GATEWAY_RATE_LIMIT_BURST": "3"}
    with launched_gateway(limited, tmp_path, GATEWAY_TRUST_FORWARDED_FOR="false", **limits) as launcher:
        with httpx.Client(base_url=launcher.url("gateway"), timeout=10) as c:
            assert [c.get("/api/v1/anime/5114").status_code for _ in range(3)] == [200, 200, 200]
            for i in range(3):
                r = c.get("/api/v1/anime/5114", headers={"X-Forwarded-For": f"203.0.113.{i + 1}"})
                assert r.status_code == 429, (r.status_code, r.text[:200])


def test_launched_gateway_serves_metrics_on_its_own_port_only(limited, tmp_path):
    """The launcher gives the gateway a metrics port (GATEWAY_METRICS_PORT); the public port has no /metrics."""
    with launched_gateway(limited, tmp_path) as launcher:
        url = launcher.metrics_url("gateway")
        assert url and str(launcher.metrics_ports["gateway"]) in url and str(launcher.ports["gateway"]) not in url
        with httpx.Client(base_url=launcher.url("gateway"), timeout=10) as c:
            assert c.get("/api/v1/anime/5114").status_code == 200
            assert c.get("/metrics").status_code == 404
        text = httpx.get(url, timeout=10).text
        assert (
            'http_requests_total{method="GET",route="/api/v1/anime/{anime_id}",service="gateway",status="200"}' in text
        )


def _raw_exchange(port: int, request: bytes) -> bytes:
    """Sends request on a fresh connection and returns what comes back ('' when the server closed it first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return out


def test_oversized_request_head_refused_under_the_launcher(limited, tmp_path):
    """A 1 MB header is refused (431, or the connection closed) before any app code; normal heads still work."""
    with launched_gateway(limited, tmp_path) as launcher:
        port = launcher.ports["gateway"]
        big = (
            b"GET /api/v1/anime/5114 HTTP/1.1\r\nHost: x\r\nX-Big: "
            + b"a" * 1_000_000
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = _raw_exchange(port, big)
        assert answer == b"" or answer.startswith((b"HTTP/1.1 431 ", b"HTTP/1.1 400 ")), answer[:200]
        if answer:
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "request_header_too_large"
        # 60 KB of headers in many lines, under the 64 KiB cap, and an ordinary request still pass
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 500) for i in range(110))
        ok = _raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"Connection: close\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200 "), ok[:200]
        with httpx.Client(base_url=launcher.url("gateway"), timeout=10) as c:
            assert c.get("/api/v1/anime/5114").status_code == 200
