"""The internal services' mutating routes need the SERVICE_TOKEN (#16 item 4); their reads stay open."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

TOKEN = "service-token-0123456789abcdef"

# (service, method, path, json body) of every mutating route of the internal services
MUTATING = [
    ("ingestion", "/ingestions", {"source": "does-not-exist"}),
    ("ingestion", "/processing-runs", {}),
    ("training", "/training-runs", {"model": "seed", "processed_id": "missing"}),
    ("training", "/models/v-missing/promote", None),
    ("recommender", "/admin/reload", None),
]
READS = {"ingestion": "/processing-runs/nope", "training": "/models", "recommender": "/readyz"}


def make_app(service: str, tmp_path: Any, token: str | None) -> Any:
    storage = (tmp_path / "storage").as_uri()
    if service == "ingestion":
        from animerec_ingestion.app import create_app as ingestion_app
        from animerec_ingestion.config import Settings as IngestionSettings

        return ingestion_app(IngestionSettings(storage_url=storage, service_token=token, allowed_root=str(tmp_path)))
    if service == "training":
        from animerec_training.app import create_app as training_app
        from animerec_training.config import Settings as TrainingSettings

        return training_app(TrainingSettings(storage_url=storage, service_token=token, runs_dir=str(tmp_path / "r")))
    from animerec_recommender.app import create_app as recommender_app
    from animerec_recommender.config import Settings as RecommenderSettings

    return recommender_app(
        RecommenderSettings(storage_url=storage, service_token=token, load_on_start=False, poll_interval_seconds=0)
    )


@pytest.mark.parametrize(("service", "path", "body"), MUTATING, ids=[f"{s}{p}" for s, p, _ in MUTATING])
def test_mutating_route_needs_the_service_token(service, path, body, tmp_path):
    with TestClient(make_app(service, tmp_path, TOKEN)) as client:
        missing = client.post(path, json=body)
        assert missing.status_code == 401, missing.text
        assert missing.json()["error"]["code"] == "unauthorized"
        wrong = client.post(path, json=body, headers={"Authorization": f"Bearer {TOKEN[:-1]}X"})
        assert wrong.status_code == 403, wrong.text
        assert wrong.json()["error"]["code"] == "forbidden"
        wrong_header = client.post(path, json=body, headers={"X-Service-Token": "nope"})
        assert wrong_header.status_code == 403, wrong_header.text
        for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"X-Service-Token": TOKEN}):
            right = client.post(path, json=body, headers=headers)
            assert right.status_code not in (401, 403), right.text  # the route's own answer, as before
        assert client.get(READS[service]).status_code not in (401, 403)  # reads stay open


@pytest.mark.parametrize(("service", "path", "body"), MUTATING, ids=[f"{s}{p}" for s, p, _ in MUTATING])
def test_unset_token_outside_production_allows_and_warns_once(service, path, body, tmp_path, caplog):
    with TestClient(make_app(service, tmp_path, None)) as client, caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert client.post(path, json=body).status_code not in (401, 403)
    warnings = [r for r in caplog.records if "SERVICE_TOKEN is not set" in r.getMessage()]
    assert len(warnings) == 1


def test_production_requires_a_service_token():
    from pydantic import ValidationError

    from animerec_explainer.config import Settings as ExplainerSettings
    from animerec_ingestion.config import Settings as IngestionSettings
    from animerec_recommender.config import Settings as RecommenderSettings
    from animerec_training.config import Settings as TrainingSettings

    for cls in (IngestionSettings, TrainingSettings, RecommenderSettings):
        with pytest.raises(ValidationError, match="SERVICE_TOKEN"):
            cls(environment="production", service_token=None)
        with pytest.raises(ValidationError, match="SERVICE_TOKEN"):
            cls(environment="production", service_token="short")
        assert cls(environment="production", service_token=TOKEN).service_token.get_secret_value() == TOKEN
    # the explainer checks no token (it has no mutating route) and is not given one
    assert ExplainerSettings(environment="production").service_token is None


def test_launcher_generates_one_token_per_run_for_the_holders_only():
    from animerec_shared.launcher import Launcher

    stack = Launcher({"ingestion": 1, "training": 2, "recommender": 3, "explainer": 4, "gateway": 5}, env={})
    token = stack.env_of("gateway")["SERVICE_TOKEN"]
    assert len(token) >= 32
    assert all(stack.env_of(s)["SERVICE_TOKEN"] == token for s in ("ingestion", "training", "recommender"))
    assert "SERVICE_TOKEN" not in stack.env_of("explainer")
    assert Launcher({"gateway": 5, "ingestion": 1}, env={}).env_of("gateway")["SERVICE_TOKEN"] != token  # per run
    assert (
        Launcher({"gateway": 5, "ingestion": 1}, env={"SERVICE_TOKEN": TOKEN}).env_of("ingestion")["SERVICE_TOKEN"]
        == TOKEN
    )
    # a service started alone keeps its routes open (no caller would know a random token)
    assert "SERVICE_TOKEN" not in Launcher({"ingestion": 1}, env={}).env_of("ingestion")
