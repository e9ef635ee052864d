"""`animerec ingest --json` and `animerec process --json` as real subprocesses: a failure ends with the
HTTP error envelope on stdout and a non-zero exit code, and leaves storage as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ingestion_helpers import animelist_rows, storage_snapshot, write_animelist

from animerec_shared.contracts.common import ErrorBody
from animerec_shared.storage import FileStorage


def _animerec(args: list[str], storage_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STORAGE_URL": storage_dir.as_uri(), "LOG_JSON": "false"}
    return subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _error(proc: subprocess.CompletedProcess[str]) -> dict:
    """The error object of the last stdout line, checked against the services' error schema."""
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, (proc.returncode, proc.stderr[-2000:])
    body = json.loads(lines[-1])
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    ErrorBody.model_validate(body)
    return body["error"]


def test_ingest_json_prints_error_object_and_exits_non_zero_when_source_is_not_a_folder(tmp_path):
    proc = _animerec(["ingest", "--source", str(tmp_path / "nowhere"), "--json"], tmp_path / "storage")
    assert proc.returncode == 1
    err = _error(proc)
    assert err["code"] == "source_not_found" and "nowhere" in err["message"]
    assert f"animerec ingest: error [source_not_found]: {err['message']}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ingest_json_error_names_file_line_and_column_when_a_rating_is_invalid(source, tmp_path):
    storage_dir = tmp_path / "storage"
    first = _animerec(["ingest", "--source", str(source), "--json"], storage_dir)
    assert first.returncode == 0, first.stderr[-2000:]
    manifest = json.loads(first.stdout.splitlines()[-1])
    assert "error" not in manifest and manifest["rows_kept"] > 0
    storage = FileStorage(storage_dir)
    before = storage_snapshot(storage)

    rows = animelist_rows()
    rows[6, 2] = 42  # data line 7 = file line 8
    write_animelist(source, rows)
    proc = _animerec(["ingest", "--source", str(source), "--json"], storage_dir)

    assert proc.returncode == 1
    err = _error(proc)
    assert err["code"] == "invalid_data"
    assert err["message"].startswith("animelist.csv, line 8, column rating")
    assert {k: err["details"][k] for k in ("file", "line", "column", "found")} == {
        "file": "animelist.csv",
        "line": 8,
        "column": "rating",
        "found": "42",
    }
    assert storage_snapshot(storage) == before and storage.get_current("raw") == manifest["id"]


def test_ingest_json_prints_usage_error_object_and_exits_2_when_source_is_missing(tmp_path):
    proc = _animerec(["ingest", "--json"], tmp_path / "storage")
    assert proc.returncode == 2
    err = _error(proc)
    assert err["code"] == "usage_error" and "--source" in err["message"]
    assert err["details"]["usage"].startswith("usage: animerec ingest")
    assert "--source" in proc.stderr


def test_ingest_without_json_keeps_stdout_empty_on_failure(tmp_path):
    proc = _animerec(["ingest", "--source", str(tmp_path / "nowhere")], tmp_path / "storage")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "animerec ingest: error [source_not_found]" in proc.stderr


def test_process_json_prints_error_object_when_no_raw_dataset_is_published(tmp_path):
    proc = _animerec(["process", "--json"], tmp_path / "storage")
    assert proc.returncode == 1
    err = _error(proc)
    assert err["code"] == "raw_dataset_not_found" and "ingest" in err["message"]
    assert "Traceback" not in proc.stderr


def test_process_json_prints_error_object_when_raw_dataset_is_unknown(source, tmp_path):
    storage_dir = tmp_path / "storage"
    assert _animerec(["ingest", "--source", str(source), "--json"], storage_dir).returncode == 0
    proc = _animerec(["process", "--raw-dataset", "no-such-id", "--min-ratings", "5", "--json"], storage_dir)
    assert proc.returncode == 1
    err = _error(proc)
    assert "no-such-id" in err["message"], err
    assert err["code"] != "usage_error"
