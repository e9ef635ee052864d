"""The status file through which a training process reports progress to the API process."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TERMINAL = ("succeeded", "failed")
# What the phases other than training cost, in epochs of the final fit (5M-row bench, 2 cores).
PHASE_UNITS = {"tuning hybrid on val": 3.0, "evaluating": 4.0}
# Share of the evaluation taken by each of its steps (same bench): fit, known users, cold start.
EVALUATION_STEPS = {"fitting": (0.0, 0.3), "known users": (0.3, 0.85), "cold start": (0.85, 1.0)}
# on_update(phase, phase_fraction, progress, eta_s): what RunProgress tells the CLI's bar.
ProgressHook = Callable[[str, float, float, "float | None"], None]


def evaluation_fraction(step: str, fraction: float) -> float:
    """Returns how much of the whole evaluation is done when ``step`` is ``fraction`` done."""
    low, high = EVALUATION_STEPS.get(step, (0.0, 1.0))
    return low + (high - low) * fraction


def read_status(path: Path) -> dict[str, Any] | None:
    """Returns the decoded status file, or None when it does not exist (yet)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:  # cannot happen with atomic writes; treat as not yet written
        return None


def queued_status() -> dict[str, Any]:
    """Returns the status of a run that has not reported anything yet (a fresh dict each call)."""
    return {
        "state": "queued",
        "epoch": 0,
        "epochs": None,
        "progress": 0.0,
        "metrics": {},
        "version": None,
        "promoted": False,
        "error": None,
    }


class StatusFile:
    """A JSON status object replaced atomically on every update (readers never see half a write)."""

    def __init__(self, path: Path | None, **initial: Any):
        self.path = path
        self.state: dict[str, Any] = {
            **queued_status(),
            "pid": os.getpid(),
            "started_at": time.time(),
            **initial,
        }
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
    final fit), and for the other phases their cost in epochs as measured on the 5M-row bench
    (``PHASE_UNITS``). The ETA is the time per unit so far times the units left; the status shows
    the phase, the phase's own fraction, ``progress`` (0..1 over the whole run) and ``eta_s``.
    ``on_update(phase, phase_fraction, progress, eta_s)`` is told every change (the CLI's bar).
    """

    def __init__(
        self,
        status: StatusFile,
        phases: dict[str, float],
        evaluation_units: float = PHASE_UNITS["evaluating"],
        on_update: ProgressHook | None = None,
    ):
        self.status = status
        self.phases = {**phases, "evaluating": evaluation_units}
        self.on_update = on_update
        self.started = time.time()
        self.done: dict[str, float] = {}
        self.seconds: dict[str, float] = {}  # wall seconds of each phase so far (the run's profile)
        self._current: tuple[str, float] | None = None
        self._overall = 0.0

    def _enter(self, phase: str | None) -> None:
        now = time.perf_counter()
        if self._current is not None and self._current[0] != phase:
            name, since = self._current
            self.seconds[name] = round(self.seconds.get(name, 0.0) + now - since, 2)
            self._current = None
        if phase is not None and self._current is None:
            self._current = (phase, now)

    def finish(self) -> dict[str, float]:
        """Ends the current phase; returns the wall seconds of each phase."""
        self._enter(None)
        return dict(self.seconds)

    def evaluation_step(self, step: str, fraction: float) -> None:
        """Reports a step of the evaluation (``EVALUATION_STEPS``) ``fraction`` done."""
        self.step("evaluating", self.phases["evaluating"] * evaluation_fraction(step, fraction), evaluation_step=step)

    def replan(self, phase: str, units: float) -> None:
        """Changes the planned units of a phase not started yet (e.g. the final fit's epochs)."""
        self.phases[phase] = units

    def start(self, phase: str) -> None:
        """Marks the start of a phase (its fraction 0); the phases before it count as done."""
        for name in self.phases:
            if name == phase:
                break
            self.done[name] = self.phases[name]
        self.step(phase, 0)

    def step(self, phase: str, done: float, **fields: Any) -> None:
        """Reports ``done`` units of ``phase`` finished; extra fields go to the status as they are."""
        units = self.phases.get(phase, 1)
        self._enter(phase)
        self.done[phase] = min(done, units)
        total = max(sum(self.phases.values()), 1e-9)
        # never backwards, although a replan (early stopping's estimate) may grow the total
        overall = max(self._overall, min(sum(self.done.get(name, 0.0) for name in self.phases) / total, 1.0))
        self._overall = overall
        elapsed = time.time() - self.started
        eta = round(elapsed / overall * (1 - overall), 1) if overall > 0 else None
        fraction = round(min(done, units) / max(units, 1e-9), 4)
        self.status.update(phase=phase, phase_progress=fraction, progress=round(overall, 4), eta_s=eta, **fields)
        if self.on_update is not None:
            self.on_update(phase, fraction, overall, eta)
