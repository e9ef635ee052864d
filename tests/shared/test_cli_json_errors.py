"""Every `animerec` command with --json ends a failure with the error envelope on stdout
(`{"error": {"code", "message", "details"}}`) and a non-zero exit code: real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from animerec_shared.contracts.common import ErrorBody
from animerec_shared.launcher import free_port


def _animerec(args: list[str], storage_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STORAGE_URL": storage_dir.as_uri(), "LOG_JSON": "false"}
    env.pop("COMET_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _error(proc: subprocess.CompletedProcess[str]) -> dict:
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, (proc.returncode, proc.stderr[-2000:])
    body = json.loads(lines[-1])
    ErrorBody.model_validate(body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["evaluate", "--json"], "no_model"),
        (["recommend-eval", "--json"], "no_model"),
        (["train", "--epochs", "1", "--json"], "processed_not_found"),
        (["process", "--json"], "raw_dataset_not_found"),
    ],
)
def test_command_json_prints_error_object_when_storage_is_empty(args, code, tmp_path):
    proc = _animerec(args, tmp_path / "storage")
    assert proc.returncode == 1, proc.stderr[-2000:]
    err = _error(proc)
    assert err["code"] == code
    assert f"animerec {args[0]}: error [{code}]" in proc.stderr and "Traceback" not in proc.stderr


def test_pipeline_json_error_carries_the_failed_steps_own_error(tmp_path):
    proc = _animerec(["pipeline", "--source", str(tmp_path / "nowhere"), "--json"], tmp_path / "storage")
    assert proc.returncode == 1
    err = _error(proc)
    assert err["code"] == "pipeline_step_failed" and "is not a folder" in err["message"]
    assert err["details"]["step"] == "ingest" and err["details"]["exit_code"] == 1
    assert err["details"]["error"]["code"] == "source_not_found"


def test_usage_error_with_json_is_an_error_object_with_exit_code_2(tmp_path):
    proc = _animerec(["train", "--model", "nope", "--json"], tmp_path / "storage")
    assert proc.returncode == 2
    err = _error(proc)
    assert err["code"] == "usage_error" and "nope" in err["message"]
    assert err["details"]["usage"].startswith("usage: animerec train")


def test_explain_json_prints_error_object_when_explainer_is_unreachable(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    proc = _animerec(["explain", "--user-id", "3", "--anime-id", "1", "--url", url, "--json"], tmp_path / "s")
    assert proc.returncode == 1
    err = _error(proc)
    assert err["code"] == "upstream_unavailable" and url in err["message"]
    assert err["details"] == {"url": url}


class _Answer(BaseHTTPRequestHandler):
    status = 404
    body = b'{"error":{"code":"user_not_found","message":"user 3 is not in the model","details":{"user_id":3}}}'

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json" if self.body.startswith(b"{") else "text/plain")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering(request):
    """A loopback HTTP server answering every POST with the handler class's status and body."""
    handler = type("Handler", (_Answer,), request.param)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("answering", [{}], indirect=True)
def test_explain_json_passes_the_explainers_error_through(answering, tmp_path):
    proc = _animerec(["explain", "--user-id", "3", "--anime-id", "1", "--url", answering, "--json"], tmp_path / "s")
    assert proc.returncode == 1
    err = _error(proc)
    assert err == {
        "code": "user_not_found",
        "message": "user 3 is not in the model",
        "details": {"status": 404, "details": {"user_id": 3}},
    }


@pytest.mark.parametrize("answering", [{"status": 502, "body": b"Bad Gateway"}], indirect=True)
def test_explain_json_reports_an_answer_that_is_not_the_error_envelope(answering, tmp_path):
    proc = _animerec(["explain", "--liked", "1", "2", "--anime-id", "5", "--url", answering, "--json"], tmp_path / "s")
    assert proc.returncode == 1
    err = _error(proc)
    assert err["code"] == "bad_answer" and "HTTP 502" in err["message"] and "Bad Gateway" in err["message"]
    assert err["details"] == {"status": 502}


def test_unexpected_failure_with_json_is_an_internal_error_object_and_keeps_the_traceback(capsys):
    from animerec_shared.cli import main

    assert main(["admin-token", "--bytes", "-1", "--json"]) == 1  # os.urandom(-1) raises ValueError
    out, err = capsys.readouterr()
    body = json.loads(out.strip().splitlines()[-1])
    ErrorBody.model_validate(body)
    assert body["error"]["code"] == "internal_error" and body["error"]["message"].startswith("ValueError: ")
    assert "Traceback" in err and "animerec admin-token: error [internal_error]" in err


def test_unexpected_failure_without_json_still_raises():
    from animerec_shared.cli import main

    with pytest.raises(ValueError):
        main(["admin-token", "--bytes", "-1"])
