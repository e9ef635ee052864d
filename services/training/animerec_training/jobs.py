"""Training runs launched by the API: one child process at a time, progress from its status file.

The child is ``python -m animerec_shared.cli train --status-file ...`` (the real CLI), so a run
started over HTTP is exactly a run started by hand. The child also holds an exclusive lock on
``<runs dir>/train.lock`` for its whole life, so a second API process sees it too.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from animerec_shared.errors import ConflictError, NotFoundError

from .config import Settings
from .runtime import thread_env
from .status import TERMINAL, queued_status, read_status

LOCK_NAME = "train.lock"
# Run ids name files in runs_dir: "run-<UTC time>-<hex>" (see start), any other id with these characters is unknown.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


class TrainingInProgress(ConflictError):
    code = "training_in_progress"


class RunNotFound(NotFoundError):
    code = "training_run_not_found"


def lock_is_held(runs_dir: Path) -> bool:
    """Returns True when some process holds the training lock."""
    path = runs_dir / LOCK_NAME
    if not path.exists():
        return False
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


class RunManager:
    """Starts training processes and answers for their state."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.runs_dir = Path(settings.runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def active_run(self) -> str | None:
        """Returns the id of the run whose process is alive, if any."""
        for run_id, proc in self._procs.items():
            if proc.poll() is None:
                return run_id
        return None

    def start(self, *, model: str, epochs: int | None, processed_id: str | None, promote: str) -> dict[str, Any]:
        """Returns {"id", "state"} of a newly started run; raises TrainingInProgress if one runs."""
        with self._lock:
            active = self.active_run()
            if active or lock_is_held(self.runs_dir):
                raise TrainingInProgress(
                    "a training run is already in progress", details={"run_id": active} if active else None
                )
            run_id = f"run-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
            status_file = self.runs_dir / f"{run_id}.json"
            request = {"model": model, "epochs": epochs, "processed_id": processed_id, "promote": promote}
            (self.runs_dir / f"{run_id}.request.json").write_text(json.dumps(request))
            cmd = [
                sys.executable,
                "-m",
                "animerec_training.worker",
                "--lock",
                str(self.runs_dir / LOCK_NAME),
                "--",
                "train",
                "--model",
                model,
                "--promote",
                promote,
                "--status-file",
                str(status_file),
                "--run-id",
                run_id,
                "--json",
            ]
            if epochs:
                cmd += ["--epochs", str(epochs)]
            if processed_id:
                cmd += ["--processed-id", processed_id]
            env = {**os.environ, **thread_env(self.settings.threads)}
            log = open(self.runs_dir / f"{run_id}.log", "ab")
            self._procs[run_id] = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, start_new_session=True)
            log.close()
            return {"id": run_id, "state": "queued"}

    def get(self, run_id: str) -> dict[str, Any]:
        """Returns the run's state, epoch, progress, metrics, version, promoted (and why: promotion) and error."""
        if not RUN_ID.fullmatch(run_id):  # a NUL, a separator or a dot file is no run (and no file name)
            raise RunNotFound(f"no training run {run_id[:80]!r}")
        status = read_status(self.runs_dir / f"{run_id}.json")
        proc = self._procs.get(run_id)
        if status is None:
            if proc is None and not (self.runs_dir / f"{run_id}.request.json").exists():
                raise RunNotFound(f"no training run {run_id!r}")
            status = queued_status()
        alive = proc.poll() is None if proc is not None else _pid_alive(status.get("pid"))
        if status.get("state") not in TERMINAL and not alive and (proc is not None or status.get("pid")):
            code = proc.returncode if proc is not None else None
            status = {
                **status,
                "state": "failed",
                "error": status.get("error") or f"training process exited (code {code}) before finishing",
            }
        keys = (
            "state",
            "epoch",
            "epochs",
            "progress",
            "metrics",
            "version",
            "promoted",
            "promotion",
            "error",
            "model",
            "phase",
            "phase_progress",
            "eta_s",
            "blind_epoch",
        )
        return {"id": run_id, **{k: status.get(k) for k in keys}}

    def shutdown(self) -> None:
        """Stops the runs this manager started (used when the app stops)."""
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
