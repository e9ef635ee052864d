"""One pooled httpx client per upstream service, and the relay of its answers in the error schema."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
from fastapi import Response
from prometheus_client import Counter, Histogram

from animerec_shared.errors import AnimeRecError, UpstreamUnavailable
from animerec_shared.logs import request_id_var

from .config import UPSTREAMS, Settings

log = logging.getLogger("animerec.gateway")

# Headers of an upstream answer worth passing on to the client.
_RELAYED_HEADERS = ("retry-after", "cache-control", "location")
# The connection could not be made: the request surely never reached the service (safe to retry a GET).
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
# Idle connections are dropped before the upstream's own keep-alive timeout (uvicorn: 5 s) closes them.
_KEEPALIVE_EXPIRY_S = 4.0


class UpstreamTimeout(AnimeRecError):
    status_code = 504
    code = "upstream_timeout"


class BadGateway(AnimeRecError):
    status_code = 502
    code = "bad_gateway"


class Upstream:
    """A named upstream service with its own keep-alive httpx client (data path and health probes)."""

    def __init__(self, name: str, base_url: str, settings: Settings, *, requests: Counter, latency: Histogram):
        self.name = name
        self.base_url = base_url
        self.retries = settings.upstream_get_retries
        self.connect_timeout = settings.upstream_connect_timeout_s
        timeout = httpx.Timeout(settings.upstream_read_timeout_s, connect=settings.upstream_connect_timeout_s,
                                pool=settings.upstream_connect_timeout_s)
        limits = httpx.Limits(max_connections=settings.upstream_max_connections,
                              max_keepalive_connections=settings.upstream_max_connections,
                              keepalive_expiry=_KEEPALIVE_EXPIRY_S)
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, trust_env=False)
        self._requests = requests
        self._latency = latency

    async def request(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
                      timeout: float | None = None) -> httpx.Response:
        """Returns the upstream's response; raises 503/504/502 domain errors when it cannot answer.

        `timeout` replaces the read (and write) budget of this call. Only GETs are retried, and only
        when the connection could not be made (the request surely never reached the service), with a
        short exponential backoff.
        """
        headers = {"Accept": "application/json"}
        rid = request_id_var.get()
        if rid:
            headers["X-Request-ID"] = rid
        budget = httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(
            timeout, connect=self.connect_timeout, pool=self.connect_timeout)
        attempts = 1 + (self.retries if method == "GET" else 0)
        start = time.perf_counter()
        for attempt in range(attempts):
            try:
                resp = await self.client.request(method, path, params=params, json=json_body, headers=headers,
                                                 timeout=budget)
            except _NOT_SENT as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.05 * (2 ** attempt))
                    continue
                raise self._unavailable(exc, start) from exc
            except httpx.PoolTimeout as exc:  # every connection busy for the connect budget: overloaded, not slow
                raise self._unavailable(exc, start) from exc
            except httpx.TimeoutException as exc:
                self._count("timeout", start)
                raise UpstreamTimeout(f"the {self.name} service did not answer in time",
                                      details={"upstream": self.name}) from exc
            except httpx.HTTPError as exc:  # reset, closed mid-answer, not HTTP
                raise self._unavailable(exc, start) from exc
            self._count(str(resp.status_code), start)
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Returns the decoded JSON of a 2xx answer; raises the upstream's error otherwise."""
        resp = await self.request(method, path, **kwargs)
        if resp.status_code >= 400:
            raise upstream_error(self.name, resp)
        try:
            return resp.json()
        except ValueError as exc:
            raise BadGateway(f"the {self.name} service sent a body that is not JSON",
                             details={"upstream": self.name}) from exc

    def _unavailable(self, exc: httpx.HTTPError, start: float) -> UpstreamUnavailable:
        self._count("unavailable", start)
        return UpstreamUnavailable(f"the {self.name} service is unavailable",
                                   details={"upstream": self.name, "reason": type(exc).__name__})

    def _count(self, outcome: str, start: float) -> None:
        self._requests.labels(self.name, outcome).inc()
        self._latency.labels(self.name).observe(time.perf_counter() - start)

    async def aclose(self) -> None:
        """Closes the connection pool."""
        await self.client.aclose()


def upstream_error(name: str, resp: httpx.Response) -> AnimeRecError:
    """Returns the domain error for an upstream error answer, keeping its code and message."""
    try:
        err = resp.json()["error"]
        return AnimeRecError(str(err["message"]), code=str(err["code"]), status_code=resp.status_code,
                             details=err.get("details"), headers=_relayed(resp))
    except (ValueError, KeyError, TypeError):
        return BadGateway(f"the {name} service answered {resp.status_code} outside the error schema",
                          details={"upstream": name, "status": resp.status_code})


def _relayed(resp: httpx.Response) -> dict[str, str]:
    return {k: resp.headers[k] for k in _RELAYED_HEADERS if k in resp.headers}


def relay(name: str, resp: httpx.Response) -> Response:
    """Returns the upstream answer as the gateway's answer (body bytes passed through untouched)."""
    ctype = resp.headers.get("content-type", "")
    if resp.status_code >= 400 and "json" not in ctype:
        raise upstream_error(name, resp)
    if resp.status_code >= 400:
        try:
            body = json.loads(resp.content)
            if not isinstance(body, dict) or "error" not in body:
                raise ValueError
        except ValueError:
            raise upstream_error(name, resp) from None
    return Response(content=resp.content, status_code=resp.status_code, media_type=ctype or "application/json",
                    headers=_relayed(resp))


class Upstreams:
    """The four upstream clients of one gateway app, created in its lifespan."""

    def __init__(self, settings: Settings, requests: Counter, latency: Histogram):
        self.by_name = {name: Upstream(name, settings.url_of(name), settings, requests=requests, latency=latency)
                        for name in UPSTREAMS}

    def __getitem__(self, name: str) -> Upstream:
        return self.by_name[name]

    async def probe(self, name: str, path: str) -> tuple[str, dict[str, Any]]:
        """Returns ("ok" | "not_ready" | "down", the JSON body) for one upstream health route (1 s budget)."""
        try:
            resp = await self.by_name[name].client.get(path, timeout=1.0)
        except httpx.HTTPError:
            return "down", {}
        try:
            body = resp.json()
        except ValueError:
            body = {}
        return ("ok" if resp.status_code == 200 else "not_ready"), body if isinstance(body, dict) else {}

    async def aclose(self) -> None:
        """Closes every pool."""
        await asyncio.gather(*(u.aclose() for u in self.by_name.values()))
