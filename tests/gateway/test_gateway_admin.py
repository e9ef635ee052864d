"""Admin API: bearer token guard, orchestrated training runs, promotion and rollback."""

from __future__ import annotations

import time

import httpx
import pytest
from gateway_fakes import ADMIN_TOKEN, SERVICE_TOKEN, Stack
from pydantic import ValidationError

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def stack():
    with Stack() as s:
        yield s


@pytest.fixture
def client(stack):
    with httpx.Client(base_url=stack.url, timeout=10) as c:
        yield c


def wait_run(client: httpx.Client, run_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/admin/training-runs/{run_id}", headers=AUTH).json()
        if run["state"] in ("succeeded", "failed"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


def test_admin_without_token_is_401(client):
    r = client.post("/api/v1/admin/training-runs", json={})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/admin/training-runs", headers={"Authorization": "Basic abc"}).status_code == 401


def test_admin_with_wrong_token_is_403(client):
    r = client.post("/api/v1/admin/models/v1/promote", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    almost = ADMIN_TOKEN[:-1] + "X"
    assert client.get("/api/v1/admin/training-runs", headers={"Authorization": f"Bearer {almost}"}).status_code == 403


def test_training_run_orchestrates_every_step_and_reloads(stack, client):
    r = client.post(
        "/api/v1/admin/training-runs", headers=AUTH, json={"source": "var/sample-data", "min_ratings": 50, "epochs": 2}
    )
    assert r.status_code == 202
    assert [s["name"] for s in r.json()["steps"]] == ["ingestion", "processing", "training", "reload"]
    run = wait_run(client, r.json()["id"])
    assert run["state"] == "succeeded", run
    assert run["dataset_id"] == "raw-2" and run["processed_id"] == "proc-2"
    assert run["version"] == "v2" and run["promoted"] is True and run["model_version"] == "v2"
    assert all(s["state"] == "succeeded" for s in run["steps"])
    assert stack.world.training_bodies[-1] == {
        "model": "two_tower",
        "epochs": 2,
        "processed_id": "proc-2",
        "promote": "if_better",
    }
    assert {"raw_dataset": "raw-2", "min_ratings": 50} in stack.world.bodies
    # the recommender now answers with the new version, through the public API
    recs = client.get("/api/v1/users/7/recommendations").json()
    assert recs["model_version"] == "v2"
    listed = client.get("/api/v1/admin/training-runs", headers=AUTH).json()["items"]
    assert listed[0]["id"] == run["id"]


def test_training_run_not_promoted_skips_reload(stack, client):
    r = client.post("/api/v1/admin/training-runs", headers=AUTH, json={"processed_id": "proc-2", "promote": "never"})
    run = wait_run(client, r.json()["id"])
    assert run["state"] == "succeeded" and run["promoted"] is False
    assert [s["name"] for s in run["steps"]] == ["training", "reload"]
    assert run["steps"][-1]["state"] == "skipped" and run["model_version"] is None


def test_failed_step_fails_the_run_with_its_error(client):
    r = client.post("/api/v1/admin/training-runs", headers=AUTH, json={"epochs": 13})
    run = wait_run(client, r.json()["id"])
    assert run["state"] == "failed"
    assert run["error"] == {"step": "training", "code": "training_failed", "message": "loss is NaN"}
    assert [s["state"] for s in run["steps"]] == ["succeeded", "failed", "pending"]


def test_second_run_while_one_runs_is_409(stack, client):
    stack.world.polls_to_finish = 40
    try:
        first = client.post("/api/v1/admin/training-runs", headers=AUTH, json={})
        second = client.post("/api/v1/admin/training-runs", headers=AUTH, json={})
        assert second.status_code == 409 and second.json()["error"]["code"] == "training_in_progress"
        assert second.json()["error"]["details"]["id"] == first.json()["id"]
    finally:
        stack.world.polls_to_finish = 2
    assert wait_run(client, first.json()["id"])["state"] == "succeeded"


def test_promote_rolls_back_and_reloads(stack, client):
    r = client.post("/api/v1/admin/models/v1/promote", headers=AUTH)
    assert r.status_code == 200
    assert r.json()["model_version"] == "v1" and r.json()["promoted"] is True
    assert client.get("/api/v1/models").json()["current"] == "v1"
    missing = client.post("/api/v1/admin/models/v99/promote", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert client.post("/api/v1/admin/models/..%2F..%2Fetc/promote", headers=AUTH).status_code in (404, 422)


def test_unknown_run_is_404_and_bad_body_is_422(client):
    r = client.get("/api/v1/admin/training-runs/abc123", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"]["code"] == "training_run_not_found"
    bad = client.post("/api/v1/admin/training-runs", headers=AUTH, json={"processed_id": "p", "source": "x"})
    assert bad.status_code == 422
    assert client.post("/api/v1/admin/training-runs", headers=AUTH, json={"epochs": 0}).status_code == 422


def test_production_refuses_to_start_without_token():
    from animerec_gateway.config import Settings

    service = {"service_token": SERVICE_TOKEN}
    with pytest.raises(ValidationError, match="GATEWAY_ADMIN_TOKEN"):
        Settings(environment="production", admin_token=None, **service)
    with pytest.raises(ValidationError, match="GATEWAY_ADMIN_TOKEN"):
        Settings(environment="production", admin_token="short", **service)
    # the gateway sends the SERVICE_TOKEN to the upstreams: production needs it too
    with pytest.raises(ValidationError, match="SERVICE_TOKEN"):
        Settings(environment="production", admin_token="x" * 32)
    with pytest.raises(ValidationError, match="SERVICE_TOKEN"):
        Settings(environment="production", admin_token="x" * 32, service_token="short")
    ok = Settings(environment="production", admin_token="x" * 32, **service)
    assert ok.admin_token.get_secret_value() == "x" * 32


def test_development_generates_a_random_token(monkeypatch):
    from animerec_gateway.app import create_app
    from animerec_gateway.config import Settings

    monkeypatch.delenv("GATEWAY_ADMIN_TOKEN", raising=False)
    a = create_app(Settings(environment="development", admin_token=None)).state.admin_token
    b = create_app(Settings(environment="development", admin_token=None)).state.admin_token
    assert len(a) >= 24 and a != b


def test_upstream_mutations_need_the_service_token(stack):
    """The fakes check the SERVICE_TOKEN like the real services: direct calls without it are refused."""
    urls = {name: served.url for name, served in stack.upstreams.items()}
    for name, path in [
        ("ingestion", "/ingestions"),
        ("ingestion", "/processing-runs"),
        ("training", "/training-runs"),
        ("training", "/models/v1/promote"),
        ("recommender", "/admin/reload"),
    ]:
        missing = httpx.post(urls[name] + path, json={})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized", (name, path)
        wrong = httpx.post(urls[name] + path, json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden", (name, path)
    assert httpx.get(urls["training"] + "/models").status_code == 200  # reads stay open


def test_gateway_without_the_service_token_cannot_run_the_pipeline():
    with Stack(service_token=None) as s, httpx.Client(base_url=s.url, timeout=10) as c:
        r = c.post("/api/v1/admin/training-runs", headers=AUTH, json={"processed_id": "proc-2", "epochs": 2})
        assert r.status_code == 202
        run = wait_run(c, r.json()["id"])
        assert run["state"] == "failed", run
        assert "unauthorized" in str(run), run
        promote = c.post("/api/v1/admin/models/v1/promote", headers=AUTH)
        assert promote.status_code == 401 and promote.json()["error"]["code"] == "unauthorized"
        assert s.world.current == "v1" and s.world.versions == ["v1"]
