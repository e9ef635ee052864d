"""The status file through which a training process reports progress to the API process."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TERMINAL = ("succeeded", "failed")


def read_status(path: Path) -> dict[str, Any] | None:
    """Returns the decoded status file, or None when it does not exist (yet)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:  # cannot happen with atomic writes; treat as not yet written
        return None


class StatusFile:
    """A JSON status object replaced atomically on every update (readers never see half a write)."""

    def __init__(self, path: Path | None, **initial: Any):
        self.path = path
        self.state: dict[str, Any] = {"state": "queued", "epoch": 0, "epochs": None, "progress": 0.0,
                                      "metrics": {}, "version": None, "promoted": False, "error": None,
                                      "pid": os.getpid(), "started_at": time.time(), **initial}
        self._write()

    def update(self, **fields: Any) -> None:
        """Merges fields into the status and rewrites the file."""
        self.state.update(fields)
        self.state["updated_at"] = time.time()
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(self.state, f, default=str)
        os.replace(tmp, self.path)


class RunProgress:
    """The run's progress over all its phases: the fraction of planned work done and an ETA.

    Work units: one per epoch of every model trained (the val-blind copy for the blend, then the
    final fit) and ``evaluation_units`` for evaluation and publishing. The ETA is the time per
    unit so far times the units left; the status shows the phase, the phase's own fraction,
    ``progress`` (0..1 over the whole run) and ``eta_s``.
    """

    def __init__(self, status: StatusFile, phases: dict[str, int], evaluation_units: int = 1):
        self.status = status
        self.phases = {**phases, "evaluating": evaluation_units}
        self.total = max(sum(self.phases.values()), 1)
        self.started = time.time()
        self.done_before: dict[str, int] = {}
        acc = 0
        for name, units in self.phases.items():
            self.done_before[name] = acc
            acc += units

    def start(self, phase: str) -> None:
        """Marks the start of a phase (its fraction 0)."""
        self.step(phase, 0)

    def step(self, phase: str, done: int, **fields: Any) -> None:
        """Reports ``done`` units of ``phase`` finished; extra fields go to the status as they are."""
        units = self.phases.get(phase, 1)
        overall = (self.done_before.get(phase, 0) + min(done, units)) / self.total
        elapsed = time.time() - self.started
        eta = round(elapsed / overall * (1 - overall), 1) if overall > 0 else None
        self.status.update(phase=phase, phase_progress=round(min(done, units) / max(units, 1), 4),
                           progress=round(overall, 4), eta_s=eta, **fields)

    def finish(self) -> None:
        self.status.update(progress=1.0, phase_progress=1.0, eta_s=0.0)
