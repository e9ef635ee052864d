"""The parts every FastAPI service shares: request ids, error schema, metrics and health routes.

Metrics are not served on the API port: with ``METRICS_PORT`` set, the app's lifespan starts
prometheus_client's own HTTP server on that port (``/metrics``, in a daemon thread) and stops it on
shutdown, so the public gateway never routes to them and a NetworkPolicy can open that port alone
to the scraper (charts: ``metrics.port``; ``make run``: the service port + 1000).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from .contracts.common import HEALTH_RESPONSES, READY_RESPONSES, ErrorBody, HealthAnswer, ReadyAnswer
from .errors import install_error_handlers
from .logs import configure_logging, request_id_var
from .settings import BaseServiceSettings

# Statuses any route can answer (unparseable body, unknown resource, bad parameters).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request (for example a body that is not UTF-8 JSON)"},
    404: {"model": ErrorBody, "description": "Unknown resource"},
    422: {"model": ErrorBody, "description": "Invalid parameters"},
}

ReadyCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


# Request ids: a random per-process prefix and a counter, 32 hex characters like a uuid4 hex
# but cheaper than building a UUID object per request (it showed in the gateway's profile under load).
_RID_PREFIX = os.urandom(8).hex()
_rid_counter = itertools.count(1)


def _reseed_request_ids() -> None:  # a forked worker must not repeat its parent's ids
    global _RID_PREFIX, _rid_counter
    _RID_PREFIX, _rid_counter = os.urandom(8).hex(), itertools.count(1)


os.register_at_fork(after_in_child=_reseed_request_ids)


def new_request_id() -> str:
    """Returns a fresh request id, unique across processes (random prefix) and within one (counter)."""
    return f"{_RID_PREFIX}{next(_rid_counter) & 0xFFFFFFFFFFFFFFFF:016x}"


def request_id_of(headers: Any) -> str:
    """Returns the caller's X-Request-ID when it is short printable ASCII, else a new id."""
    for name, value in headers:
        if name == b"x-request-id":
            rid = value.decode("latin-1")
            if 0 < len(rid) <= 128 and rid.isascii() and rid.isprintable():
                return rid
            break
    return new_request_id()


class ServiceMetrics:
    """Prometheus metrics of one app instance (own registry so tests can build many apps)."""

    def __init__(self, service: str):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["service", "method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["service", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.service = service
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int | str, seconds: float) -> None:
        """Counts one request and records its latency (label children cached: labels() is costly)."""
        key = (method, route, str(status))
        pair = self._children.get(key)
        if pair is None:
            pair = self._children[key] = (
                self.requests.labels(self.service, method, route, key[2]),
                self.latency.labels(self.service, route),
            )
        pair[0].inc()
        pair[1].observe(seconds)

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        """Returns a new counter registered in this app's registry."""
        return Counter(name, doc, list(labels), registry=self.registry)


_INTERNAL_ERROR = b'{"error":{"code":"internal_error","message":"internal server error"}}'


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in and out, request metrics, JSON 500 for unhandled errors.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware costs a
    task and a stream per request, a large share of a cached answer's CPU time.
    """

    def __init__(self, app: Any, service: str, metrics: ServiceMetrics, log: logging.Logger):
        self.app, self.service, self.metrics, self.log = app, service, metrics, log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Only short printable ASCII ids travel on: others could not be forwarded as HTTP headers.
        rid = request_id_of(scope.get("headers", ()))
        rid_header = (b"x-request-id", rid.encode("ascii"))
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [
                    *[h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"],
                    rid_header,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            self.log.exception("unhandled error")
            status = 500
            if not started:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
                            rid_header,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
        finally:
            request_id_var.reset(token)
        elapsed = time.perf_counter() - start
        route_path = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.observe(scope.get("method", ""), route_path, status, elapsed)
        if status >= 500:
            self.log.warning(
                "request failed",
                extra={
                    "service": self.service,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


def settle_heap() -> None:
    """Takes every object alive now out of the cyclic garbage collector's sweeps (gc.freeze).

    A service's long-lived heap (a loaded model's metadata, indexes, FastAPI's routes) holds
    millions of objects; a full collection walks all of them and stalls every request in the
    process for tens of milliseconds, which is what a p99 under load sees. Frozen objects are
    still freed by reference counting; call this again after replacing a large part of the heap
    (it unfreezes, collects once, then freezes what is left).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _settling(lifespan: Any) -> Any:
    """Returns a lifespan that serves the metrics port (METRICS_PORT, when set), runs ``lifespan`` (if any)
    and settles the heap once start-up is done."""

    @contextlib.asynccontextmanager
    async def wrapped(app: FastAPI) -> Any:
        with _metrics_server(app):
            if lifespan is None:
                settle_heap()
                yield
                return
            async with lifespan(app) as state:
                settle_heap()
                yield state

    return wrapped


@contextlib.contextmanager
def _metrics_server(app: FastAPI) -> Any:
    """Serves the app's Prometheus registry on its own port while the app runs (nothing when METRICS_PORT is
    unset); app.state.metrics_url is then its URL (0 = a free port, which this URL names)."""
    settings: BaseServiceSettings = app.state.settings
    app.state.metrics_url = None
    if settings.metrics_port is None:
        yield
        return
    server, thread = start_http_server(settings.metrics_port, addr=settings.host, registry=app.state.metrics.registry)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    app.state.metrics_url = f"http://{host}:{server.server_port}/metrics"
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def create_service_app(
    service: str,
    settings: BaseServiceSettings,
    *,
    title: str,
    description: str = "",
    version: str = "0.1.0",
    ready_check: ReadyCheck | None = None,
    lifespan: Any = None,
) -> FastAPI:
    """Returns a FastAPI app with error handlers, request ids, JSON logs, /healthz, /readyz, and its metrics
    on METRICS_PORT (see the module docstring)."""
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=_settling(lifespan),
        responses=COMMON_RESPONSES,
        # A trailing slash is an unknown path (404), not a 307 whose absolute Location echoes the Host header.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.metrics = ServiceMetrics(service)
    install_error_handlers(app)
    log = logging.getLogger(f"animerec.{service}")

    app.add_middleware(RequestContextMiddleware, service=service, metrics=app.state.metrics, log=log)

    router = APIRouter(tags=["health"])

    @router.get(
        "/healthz", summary="Liveness: the process answers", response_model=HealthAnswer, responses=HEALTH_RESPONSES
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get(
        "/readyz", summary="Readiness: dependencies are usable", response_model=ReadyAnswer, responses=READY_RESPONSES
    )
    async def readyz() -> JSONResponse:
        ok, details = (True, {}) if ready_check is None else await ready_check()
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "service": service, **details}, status_code=200 if ok else 503
        )

    app.include_router(router)
    generate = app.openapi

    def openapi() -> dict[str, Any]:  # the probes answer 200 (/readyz: or 503) only, not the API's 400/404/422
        if app.openapi_schema is None:
            for path in ("/healthz", "/readyz"):
                for op in generate()["paths"].get(path, {}).values():
                    for code in COMMON_RESPONSES:
                        op["responses"].pop(str(code), None)
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]
    return app
