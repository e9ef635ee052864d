"""The common app factory: request ids, error schema, health and metrics."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from animerec_shared.errors import AnimeNotFound
from animerec_shared.service import create_service_app
from animerec_shared.settings import BaseServiceSettings


def _app(ready: bool = True, metrics_port: int | None = 0):
    async def check():
        return ready, {"model_version": "v1" if ready else None}

    settings = BaseServiceSettings(metrics_port=metrics_port)
    app = create_service_app("demo", settings, title="demo", ready_check=check)

    @app.get("/anime/{anime_id}")
    async def anime(anime_id: int):
        raise AnimeNotFound(f"no anime {anime_id}")

    return app


def test_domain_error_renders_stable_code_and_status():
    r = TestClient(_app()).get("/anime/5")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "anime_not_found", "message": "no anime 5"}}


def test_validation_error_is_422_with_code():
    r = TestClient(_app()).get("/anime/notanumber")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


def test_request_id_is_passed_through_or_created():
    c = TestClient(_app())
    assert c.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert len(c.get("/healthz").headers["x-request-id"]) == 32


def test_readyz_reports_503_when_not_ready():
    assert TestClient(_app(True)).get("/readyz").json()["status"] == "ready"
    r = TestClient(_app(False)).get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "not_ready"


def test_metrics_counts_requests_by_route_and_status_on_their_own_port():
    app = _app()
    with TestClient(app) as c:
        c.get("/anime/1")
        url = app.state.metrics_url
        assert url and not url.startswith(str(c.base_url))
        body = httpx.get(url).text
        assert 'http_requests_total{method="GET",route="/anime/{anime_id}",service="demo",status="404"} 1.0' in body
        # the API port has no /metrics: the public gateway cannot route a scrape to it
        r = c.get("/metrics")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    with pytest.raises(httpx.ConnectError):  # the metrics server stops with the app
        httpx.get(url, timeout=2)


def test_no_metrics_server_without_a_metrics_port():
    app = _app(metrics_port=None)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert app.state.metrics_url is None


def test_a_taken_metrics_port_stops_the_start_up():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            with TestClient(_app(metrics_port=taken.getsockname()[1])):
                pass


def test_unknown_route_uses_error_schema():
    r = TestClient(_app()).get("/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_non_ascii_request_id_is_replaced():
    r = TestClient(_app()).get("/healthz", headers={"X-Request-ID": b"\xff\xfeid"})  # raw bytes on the wire
    assert r.status_code == 200
    rid = r.headers["x-request-id"]
    assert rid.isascii() and len(rid) == 32


def test_openapi_documents_error_schema_for_common_statuses():
    spec = TestClient(_app()).get("/openapi.json").json()
    responses = spec["paths"]["/anime/{anime_id}"]["get"]["responses"]
    assert {"400", "404", "422"} <= set(responses)
    assert "ErrorBody" in spec["components"]["schemas"]


def test_unhandled_error_is_json_500_with_request_id_and_counted():
    app = _app()

    @app.get("/boom")
    async def boom():
        raise RuntimeError("bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"X-Request-ID": "rid-1"})
        assert r.status_code == 500
        assert r.json() == {"error": {"code": "internal_error", "message": "internal server error"}}
        assert r.headers["x-request-id"] == "rid-1"
        assert 'route="/boom",service="demo",status="500"} 1.0' in httpx.get(app.state.metrics_url).text


def test_no_redirect_echoes_the_host_header():
    """A trailing slash is a 404 in the error schema, never a 307 whose Location names the caller's Host."""
    app = _app()

    @app.get("/things")
    async def things() -> list[int]:
        return [1]

    c = TestClient(app, follow_redirects=False)
    for path in ("/things/", "/healthz/", "/anime/5/"):
        r = c.get(path, headers={"Host": "evil.example"})
        assert "evil.example" not in r.headers.get("location", ""), (path, r.status_code, r.headers)
        assert r.status_code == 404 and r.json()["error"]["code"], (path, r.status_code, r.text[:200])
    assert c.get("/things", headers={"Host": "evil.example"}).json() == [1]
