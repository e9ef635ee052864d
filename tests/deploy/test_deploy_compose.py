"""docker-compose.yml: the whole stack wired with Redis and a GCS emulator (parsed, and its emulator run for real)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
from deploy_helpers import REPO, SERVICES, free_port, load_yaml

STORAGE_USERS = ("ingestion", "training", "recommender")


@pytest.fixture(scope="module")
def compose():
    return load_yaml(REPO / "docker-compose.yml")


def test_compose_has_the_five_services_redis_and_the_emulator(compose):
    services = compose["services"]
    assert set(SERVICES) | {"redis", "gcs"} <= set(services)
    for svc in SERVICES:
        build = services[svc]["build"]
        assert build["context"] == "." and build["dockerfile"] == "Dockerfile"
        assert build["args"] == {"SERVICE": svc}  # the one Dockerfile, parametrised by service
        assert (REPO / build["dockerfile"]).is_file()
    assert services["gcs"]["command"][0] == "gcp-storage-emulator"
    assert "gcp-storage-emulator==" in services["gcs"]["build"]["dockerfile_inline"]


def test_compose_storage_is_the_emulator_bucket(compose):
    services = compose["services"]
    gcs_cmd = services["gcs"]["command"]
    bucket = gcs_cmd[gcs_cmd.index("--default-bucket") + 1]
    port = gcs_cmd[gcs_cmd.index("--port") + 1]
    for svc in STORAGE_USERS:
        env = services[svc]["environment"]
        url = urlparse(env["STORAGE_URL"])
        assert (url.scheme, url.netloc) == ("gs", bucket), svc
        assert env["STORAGE_EMULATOR_HOST"] == f"http://gcs:{port}", svc
        assert services[svc]["depends_on"]["gcs"] == {"condition": "service_healthy"}


def test_compose_wires_redis_and_upstream_urls(compose):
    services = compose["services"]
    for svc in ("recommender", "explainer", "gateway"):
        assert urlparse(services[svc]["environment"]["REDIS_URL"]).hostname == "redis", svc
        assert services[svc]["depends_on"]["redis"] == {"condition": "service_healthy"}
    gateway_env = services["gateway"]["environment"]
    for svc, port in SERVICES.items():
        if svc != "gateway":
            assert gateway_env[f"GATEWAY_{svc.upper()}_URL"] == f"http://{svc}:{port}"
            assert services["gateway"]["depends_on"][svc] == {"condition": "service_healthy"}
    assert services["explainer"]["environment"]["EXPLAINER_RECOMMENDER_URL"] == "http://recommender:8003"
    # each service is given only the upstream URLs it calls: the training service calls none
    assert not [k for k in services["training"]["environment"] if k.endswith("_URL") and k != "STORAGE_URL"]


def test_compose_healthchecks_probe_each_service_port(compose):
    services = compose["services"]
    for svc, port in SERVICES.items():
        test = services[svc]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"] and f"127.0.0.1:{port}/healthz" in test[3], svc
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/storage/v1/b/" in services["gcs"]["healthcheck"]["test"][-1]
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert "healthcheck" in services[dep], (name, dep)
            assert cond == {"condition": "service_healthy"}, (name, dep)


def test_compose_secrets_come_from_the_shell_and_only_the_gateway_is_published(compose):
    services = compose["services"]
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search("KEY|TOKEN|SECRET|PASSWORD", key):
                assert re.fullmatch(rf"\$\{{{key}:-\}}", str(value)), (name, key, value)
        if name != "gateway":
            assert "ports" not in svc, name
    assert services["gateway"]["ports"] == ["127.0.0.1:${GATEWAY_PORT:-8000}:8000"]
    for svc in SERVICES:
        assert services[svc]["read_only"] is True and services[svc]["cap_drop"] == ["ALL"], svc
        assert "no-new-privileges:true" in services[svc]["security_opt"], svc


def test_compose_bootstrap_is_opt_in_and_uses_the_retraining_script(compose):
    boot = compose["services"]["bootstrap"]
    assert boot["profiles"] == ["bootstrap"]
    script = next(v.split(":")[0] for v in boot["volumes"] if v.endswith("/opt/retrain/retrain.py:ro"))
    assert (REPO / script).is_file()
    assert boot["depends_on"]["gateway"] == {"condition": "service_healthy"}


def test_compose_emulator_command_and_healthcheck_give_a_working_bucket(compose, tmp_path, monkeypatch):
    """Runs the emulator exactly as compose does (port remapped), then its healthcheck and real storage I/O."""
    services = compose["services"]
    cmd = list(services["gcs"]["command"])
    port = free_port()
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    env = {**os.environ, "STORAGE_BASE": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", *cmd[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        check = services["gcs"]["healthcheck"]["test"]
        check_code = check[3].replace(":9023/", f":{port}/")
        deadline = time.monotonic() + 30
        while subprocess.run([sys.executable, "-c", check_code], capture_output=True).returncode != 0:
            assert time.monotonic() < deadline, "emulator never became healthy"
            time.sleep(0.3)
        emulator = services["ingestion"]["environment"]["STORAGE_EMULATOR_HOST"].replace(
            "gcs:9023", f"127.0.0.1:{port}"
        )
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator)
        from animerec_shared.storage import open_storage

        writer = open_storage(services["ingestion"]["environment"]["STORAGE_URL"])
        writer.write_json("raw/CURRENT", {"id": "compose-check"})
        reader = open_storage(services["recommender"]["environment"]["STORAGE_URL"])
        assert reader.read_json("raw/CURRENT") == {"id": "compose-check"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_compose_service_token_goes_only_where_it_is_checked_or_sent(compose):
    """SERVICE_TOKEN (#16 item 4): the gateway and the three services that check it; not the explainer."""
    services = compose["services"]
    holders = {name for name, svc in services.items() if "SERVICE_TOKEN" in (svc.get("environment") or {})}
    assert holders == {"gateway", "ingestion", "training", "recommender"}
    assert {name for name, svc in services.items() if "GATEWAY_ADMIN_TOKEN" in (svc.get("environment") or {})} == {
        "gateway",
        "bootstrap",  # the admin API's client
    }
