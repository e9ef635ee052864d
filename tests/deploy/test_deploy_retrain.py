"""The training chart's scheduled retraining: the CronJob manifest and its script against a real HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from deploy_helpers import CHARTS, one

SCRIPT = CHARTS / "training" / "files" / "retrain.py"
TOKEN = "s3cret-admin-token-for-tests"


def test_cronjob_is_off_by_default_and_on_in_production(render):
    assert [o for o in render("training") if o["kind"] == "CronJob"] == []
    objs = render("training", "production")
    cron = one(objs, "CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (c,) = pod["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    env = {e["name"]: e for e in c["env"]}
    secret = {"secretKeyRef": {"name": "animerec-gateway", "key": "admin-token"}}
    assert env["GATEWAY_ADMIN_TOKEN"]["valueFrom"] == secret
    assert json.loads(env["RETRAIN_BODY"]["value"]) == {"promote": "if_better"}
    assert env["GATEWAY_URL"]["value"] == "http://gateway:8000"
    assert job["activeDeadlineSeconds"] == int(env["RETRAIN_TIMEOUT_SECONDS"]["value"])
    script = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "training-retrain")
    assert script["data"]["retrain.py"].strip() == SCRIPT.read_text().strip()


def test_cronjob_pipeline_mode_trains_in_the_job_with_the_training_identity(render):
    objs = render("training", "production", overrides={"retrain": {"mode": "pipeline"}})
    pod = one(objs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["command"] == ["animerec", "train", "--promote", "if_better", "--json"]
    assert pod["serviceAccountName"] == "training"
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "comet-api-key"


def test_cronjob_refuses_an_unknown_mode(render, helm):
    with pytest.raises(helm.HelmError, match="retrain.mode"):
        render("training", overrides={"retrain": {"enabled": True, "mode": "ssh"}})


class FakeGateway:
    """A loopback HTTP server playing the gateway's admin API with scripted answers."""

    def __init__(self, post: tuple[int, dict], states: list[tuple[int, dict]]):
        self.requests: list[tuple[str, str, str | None, bytes]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append(("POST", self.path, self.headers.get("Authorization"), body))
                self._answer(*post)

            def do_GET(self):
                fake.requests.append(("GET", self.path, self.headers.get("Authorization"), b""))
                self._answer(*(states.pop(0) if len(states) > 1 else states[0]))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def run_script(url: str, token: str = TOKEN, timeout: float = 20) -> subprocess.CompletedProcess:
    env = {
        "GATEWAY_URL": url,
        "GATEWAY_ADMIN_TOKEN": token,
        "RETRAIN_BODY": '{"promote": "if_better"}',
        "RETRAIN_POLL_SECONDS": "0.05",
        "RETRAIN_TIMEOUT_SECONDS": "10",
        "RETRAIN_NOT_FOUND_RETRIES": "2",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=timeout)


def test_retrain_script_succeeds_when_the_run_succeeds():
    states = [
        (200, {"id": "r1", "state": "running", "progress": 0.5}),
        (200, {"id": "r1", "state": "succeeded", "version": "v2", "promoted": True}),
    ]
    with FakeGateway((202, {"id": "r1", "state": "queued"}), states) as gw:
        done = run_script(gw.url)
    assert done.returncode == 0, done.stdout + done.stderr
    method, path, auth, body = gw.requests[0]
    assert (method, path, auth) == ("POST", "/api/v1/admin/training-runs", f"Bearer {TOKEN}")
    assert json.loads(body) == {"promote": "if_better"}
    assert all(r[:3] == ("GET", "/api/v1/admin/training-runs/r1", f"Bearer {TOKEN}") for r in gw.requests[1:])
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last == {
        "event": "finished",
        "id": "r1",
        "state": "succeeded",
        "version": "v2",
        "promoted": True,
        "error": None,
    }
    assert TOKEN not in done.stdout + done.stderr


def test_retrain_script_fails_when_the_run_fails():
    states = [(200, {"id": "r1", "state": "failed", "error": {"code": "training_failed"}})]
    with FakeGateway((202, {"id": "r1", "state": "queued"}), states) as gw:
        done = run_script(gw.url)
    assert done.returncode == 1
    assert json.loads(done.stdout.strip().splitlines()[-1])["state"] == "failed"


def test_retrain_script_fails_fast_on_a_refused_token():
    with FakeGateway(
        (403, {"error": {"code": "forbidden", "message": "the admin token is not valid"}}), [(500, {})]
    ) as gw:
        done = run_script(gw.url, token="wrong-token")
    assert done.returncode == 1
    assert [r[0] for r in gw.requests] == ["POST"]
    assert '"status": 403' in done.stdout and "wrong-token" not in done.stdout


def test_retrain_script_gives_up_when_the_run_stays_unknown():
    with FakeGateway((202, {"id": "r9", "state": "queued"}), [(404, {"error": {"code": "not_found"}})]) as gw:
        done = run_script(gw.url)
    assert done.returncode == 1
    assert len([r for r in gw.requests if r[0] == "GET"]) == 3  # 2 tolerated 404s, then give up


def test_retrain_script_retries_through_gateway_errors():
    states = [(503, {"error": {"code": "upstream_unavailable"}}), (200, {"id": "r1", "state": "succeeded"})]
    with FakeGateway((202, {"id": "r1", "state": "queued"}), states) as gw:
        done = run_script(gw.url)
    assert done.returncode == 0, done.stdout
    assert '"event": "retry"' in done.stdout


def test_retrain_script_refuses_to_run_without_a_token():
    done = run_script("http://127.0.0.1:9", token="")
    assert done.returncode == 2
