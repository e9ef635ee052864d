"""The parts every FastAPI service shares: request ids, error schema, metrics and health routes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from .errors import install_error_handlers
from .logs import configure_logging, request_id_var
from .settings import BaseServiceSettings

class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The one error schema of every service."""

    error: ErrorDetail


# Statuses any route can answer (unparseable body, unknown resource, bad parameters).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request (for example a body that is not UTF-8 JSON)"},
    404: {"model": ErrorBody, "description": "Unknown resource"},
    422: {"model": ErrorBody, "description": "Invalid parameters"},
}

ReadyCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]


class ServiceMetrics:
    """Prometheus metrics of one app instance (own registry so tests can build many apps)."""

    def __init__(self, service: str):
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "route"],
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                                 registry=self.registry)
        self.service = service

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        """Returns a new counter registered in this app's registry."""
        return Counter(name, doc, list(labels), registry=self.registry)


def create_service_app(service: str, settings: BaseServiceSettings, *, title: str, description: str = "",
                       version: str = "0.1.0", ready_check: ReadyCheck | None = None,
                       lifespan: Any = None) -> FastAPI:
    """Returns a FastAPI app with error handlers, request ids, JSON logs, /metrics, /healthz, /readyz."""
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan,
                  responses=COMMON_RESPONSES)
    app.state.settings = settings
    app.state.metrics = ServiceMetrics(service)
    install_error_handlers(app)
    log = logging.getLogger(f"animerec.{service}")

    @app.middleware("http")
    async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        # Only short printable ASCII ids travel on: others could not be forwarded as HTTP headers.
        if len(rid) > 128 or not rid.isascii() or not rid.isprintable():
            rid = uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
        except Exception:
            log.exception("unhandled error")
            response = JSONResponse({"error": {"code": "internal_error", "message": "internal server error"}},
                                    status_code=500)
        finally:
            request_id_var.reset(token)
        elapsed = time.perf_counter() - start
        route = request.scope.get("route")
        route_path = getattr(route, "path", "unmatched")
        m: ServiceMetrics = app.state.metrics
        m.requests.labels(service, request.method, route_path, str(status)).inc()
        m.latency.labels(service, route_path).observe(elapsed)
        response.headers["X-Request-ID"] = rid
        if status >= 500:
            log.warning("request failed", extra={"service": service, "method": request.method,
                                                 "path": request.url.path, "status": status,
                                                 "duration_ms": round(elapsed * 1000, 2)})
        return response

    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get("/readyz", summary="Readiness: dependencies are usable")
    async def readyz() -> JSONResponse:
        ok, details = (True, {}) if ready_check is None else await ready_check()
        return JSONResponse({"status": "ready" if ok else "not_ready", "service": service, **details},
                            status_code=200 if ok else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    return app
