"""The CLI's progress bar over a whole run (rich), on stderr beside the log lines.

Shown only when stderr is a terminal and ``--json`` is off; otherwise the per-epoch and per-phase
log lines (``animerec_shared.cli.progress``) are the whole report, as in CI logs.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from .status import evaluation_fraction


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA -"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"ETA {minutes}:{secs:02d}"


class RunBar:
    """``with RunBar(enabled) as bar: bar.update(phase, phase_fraction, progress, eta_s)``."""

    def __init__(self, enabled: bool | None = None, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunBar:
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description:<32}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[eta]}"),
                console=self.console,
            )
            self._task = self._progress.add_task("starting", total=100.0, eta=_eta(None))
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, phase: str, phase_fraction: float, progress: float, eta_s: float | None) -> None:
        """Shows the phase (with its own fraction) and the whole run's fraction and ETA."""
        if self._progress is None or self._task is None:
            return
        self._progress.update(
            self._task,
            completed=round(100.0 * progress, 2),
            eta=_eta(eta_s),
            description=f"{phase} {phase_fraction:.0%}",
        )
        self._progress.refresh()  # updates are rare (an epoch, a block of users): show each at once

    def evaluation(self, step: str, fraction: float) -> None:
        """Shows a step of ``animerec evaluate`` (status.EVALUATION_STEPS), the whole bar being the evaluation."""
        self.update(f"evaluating: {step}", fraction, evaluation_fraction(step, fraction), None)
