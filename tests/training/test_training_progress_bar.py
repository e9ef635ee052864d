"""The CLI's progress bar: shown on a terminal with the phase, the run's fraction and an ETA; off otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from animerec_training.progress_bar import RunBar


def test_bar_on_a_terminal_shows_phase_fraction_and_eta():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with RunBar(console=console) as bar:
        assert bar.enabled
        bar.update("val-blind copy", 0.5, 0.25, 95.0)
        bar.update("evaluating", 1.0, 1.0, 0.0)
    text = out.getvalue()
    assert "val-blind copy 50%" in text and "ETA 1:35" in text
    assert "evaluating 100%" in text and "100%" in text and "ETA 0:00" in text


def test_bar_is_off_when_stderr_is_not_a_terminal_or_json_is_asked():
    out = io.StringIO()
    with RunBar(console=Console(file=out, force_terminal=False)) as bar:
        assert not bar.enabled
        bar.update("training", 0.5, 0.5, 10.0)
        bar.evaluation("known users", 0.5)
    assert out.getvalue() == ""
    terminal = io.StringIO()
    with RunBar(False, Console(file=terminal, force_terminal=True)) as bar:  # --json
        bar.update("training", 0.5, 0.5, 10.0)
    assert terminal.getvalue() == ""


def test_evaluate_bar_maps_its_steps_onto_one_bar():
    out = io.StringIO()
    with RunBar(console=Console(file=out, force_terminal=True, width=100)) as bar:
        bar.evaluation("cold start", 1.0)
    assert "evaluating: cold start 100%" in out.getvalue()
