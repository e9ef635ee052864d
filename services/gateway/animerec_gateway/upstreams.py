"""One pooled HTTP client (aiohttp) per upstream service, and the relay of its answers in the error schema.

aiohttp rather than httpx on this path: at 64 concurrent clients httpx's connection pool cost the
gateway ~1.6-2.0 ms of CPU per proxied request against ~0.3 ms for the whole request with aiohttp
(see services/gateway/README.md, "Upstream client").
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from fastapi import Response
from prometheus_client import Counter, Histogram

from animerec_shared.auth import service_token_headers
from animerec_shared.errors import AnimeRecError, UpstreamUnavailable
from animerec_shared.logs import request_id_var
from animerec_shared.settings import SERVICE_TOKEN_CHECKERS

from .config import UPSTREAMS, Settings

log = logging.getLogger("animerec.gateway")

# Headers of an upstream answer worth passing on to the client.
_RELAYED_HEADERS = ("retry-after", "cache-control", "location")
# No connection could be had in the connect budget: the request surely never reached the service (a GET is retried).
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Idle connections are dropped before the upstream's own keep-alive timeout (uvicorn: 5 s) closes them.
_KEEPALIVE_S = 4.0


class UpstreamTimeout(AnimeRecError):
    status_code = 504
    code = "upstream_timeout"


class BadGateway(AnimeRecError):
    status_code = 502
    code = "bad_gateway"


@dataclass(frozen=True, slots=True)
class Answer:
    """An upstream answer read whole: status, headers (case-insensitive names), body bytes."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """Returns the decoded JSON body (raises ValueError when it is not JSON)."""
        return json.loads(self.content)


class Upstream:
    """A named upstream service with its own keep-alive client session (data path and health probes).

    Created inside the running event loop (the app's lifespan)."""

    def __init__(self, name: str, base_url: str, settings: Settings, *, requests: Counter, latency: Histogram):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.retries = settings.upstream_get_retries
        self.connect_timeout = settings.upstream_connect_timeout_seconds
        # connect: waiting for a pooled connection plus opening one; sock_read: between two reads of the answer
        self.timeout = self._budget(settings.upstream_read_timeout_seconds)
        connector = aiohttp.TCPConnector(limit=settings.upstream_max_connections, keepalive_timeout=_KEEPALIVE_S)
        self.session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        self._requests = requests
        self._latency = latency
        # The services whose mutating routes check the SERVICE_TOKEN get it on every call (reads ignore it;
        # the explainer is never sent it).
        token = settings.service_token.get_secret_value() if settings.service_token is not None else None
        self._auth = service_token_headers(token) if name in SERVICE_TOKEN_CHECKERS else {}

    def _budget(self, read: float) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=None, connect=self.connect_timeout, sock_connect=self.connect_timeout, sock_read=read
        )

    async def request(
        self, method: str, path: str, *, params: Any = None, json_body: Any = None, timeout: float | None = None
    ) -> Answer:
        """Returns the upstream's answer; raises 503/504/502 domain errors when it cannot answer.

        `timeout` replaces the read budget of this call. Only GETs are retried, and only when no
        connection could be had (the request surely never reached the service), with a short
        exponential backoff.
        """
        headers = {"Accept": "application/json", **self._auth}
        rid = request_id_var.get()
        if rid:
            headers["X-Request-ID"] = rid
        budget = self.timeout if timeout is None else self._budget(timeout)
        attempts = 1 + (self.retries if method == "GET" else 0)
        start = time.perf_counter()
        for attempt in range(attempts):
            try:
                async with self.session.request(
                    method, self.base_url + path, params=params, json=json_body, headers=headers, timeout=budget
                ) as resp:
                    answer = Answer(resp.status, resp.headers, await resp.read())
            except _NOT_SENT as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.05 * (2**attempt))
                    continue
                raise self._unavailable(exc, start) from exc
            except TimeoutError as exc:
                self._count("timeout", start)
                raise UpstreamTimeout(
                    f"the {self.name} service did not answer in time", details={"upstream": self.name}
                ) from exc
            except aiohttp.ClientError as exc:  # reset, closed mid-answer, not HTTP
                raise self._unavailable(exc, start) from exc
            self._count(str(answer.status_code), start)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Returns the decoded JSON of a 2xx answer; raises the upstream's error otherwise."""
        resp = await self.request(method, path, **kwargs)
        if resp.status_code >= 400:
            raise upstream_error(self.name, resp)
        try:
            return resp.json()
        except ValueError as exc:
            raise BadGateway(
                f"the {self.name} service sent a body that is not JSON", details={"upstream": self.name}
            ) from exc

    async def probe(self, path: str) -> tuple[str, dict[str, Any]]:
        """Returns ("ok" | "not_ready" | "down", the JSON body) for a health route (1 s budget, no retry)."""
        try:
            async with self.session.get(self.base_url + path, timeout=aiohttp.ClientTimeout(total=1.0)) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError):
            return "down", {}
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        return ("ok" if status == 200 else "not_ready"), body if isinstance(body, dict) else {}

    def _unavailable(self, exc: Exception, start: float) -> UpstreamUnavailable:
        self._count("unavailable", start)
        return UpstreamUnavailable(
            f"the {self.name} service is unavailable", details={"upstream": self.name, "reason": type(exc).__name__}
        )

    def _count(self, outcome: str, start: float) -> None:
        self._requests.labels(self.name, outcome).inc()
        self._latency.labels(self.name).observe(time.perf_counter() - start)

    async def aclose(self) -> None:
        """Closes the connection pool."""
        await self.session.close()


def upstream_error(name: str, resp: Answer) -> AnimeRecError:
    """Returns the domain error for an upstream error answer, keeping its code and message."""
    try:
        err = resp.json()["error"]
        return AnimeRecError(
            str(err["message"]),
            code=str(err["code"]),
            status_code=resp.status_code,
            details=err.get("details"),
            headers=_relayed(resp),
        )
    except (ValueError, KeyError, TypeError):
        return BadGateway(
            f"the {name} service answered {resp.status_code} outside the error schema",
            details={"upstream": name, "status": resp.status_code},
        )


def _relayed(resp: Answer) -> dict[str, str]:
    return {k: resp.headers[k] for k in _RELAYED_HEADERS if k in resp.headers}


def relay(name: str, resp: Answer) -> Response:
    """Returns the upstream answer as the gateway's answer (body bytes passed through untouched)."""
    ctype = resp.headers.get("content-type", "")
    if resp.status_code >= 400 and "json" not in ctype:
        raise upstream_error(name, resp)
    if resp.status_code >= 400:
        try:
            body = resp.json()
            if not isinstance(body, dict) or "error" not in body:
                raise ValueError
        except ValueError:
            raise upstream_error(name, resp) from None
    return Response(
        content=resp.content,
        status_code=resp.status_code,
        media_type=ctype or "application/json",
        headers=_relayed(resp),
    )


class Upstreams:
    """The four upstream clients of one gateway app, created in its lifespan."""

    def __init__(self, settings: Settings, requests: Counter, latency: Histogram):
        self.by_name = {
            name: Upstream(name, settings.url_of(name), settings, requests=requests, latency=latency)
            for name in UPSTREAMS
        }

    def __getitem__(self, name: str) -> Upstream:
        return self.by_name[name]

    async def probe(self, name: str, path: str) -> tuple[str, dict[str, Any]]:
        """Returns ("ok" | "not_ready" | "down", the JSON body) for one upstream health route (1 s budget)."""
        return await self.by_name[name].probe(path)

    async def aclose(self) -> None:
        """Closes every pool."""
        await asyncio.gather(*(u.aclose() for u in self.by_name.values()))
