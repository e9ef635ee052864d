"""The `animerec` parser documents itself: every command has a description, every option a help
text, and the README's command list names every command."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from animerec_shared.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
EXPECTED = {  # every service package is installed in the test environment
    "serve",
    "sample-data",
    "ingest",
    "process",
    "train",
    "evaluate",
    "pipeline",
    "recommend-eval",
    "explain",
    "admin-token",
}


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(subs) == 1
    return dict(subs[0].choices)


def _command_help(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    (subs,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {a.dest: a.help for a in subs._choices_actions}


def _readme_commands() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^animerec ([a-z][a-z-]*)", section, flags=re.M))


def test_parser_has_every_installed_command():
    assert set(_commands(build_parser())) == EXPECTED


def test_every_command_has_a_description_and_a_help_line():
    parser = build_parser()
    assert parser.description
    helps = _command_help(parser)
    for name, sub in _commands(parser).items():
        assert sub.description and sub.description.strip(), f"animerec {name} has no description"
        assert helps[name] and helps[name].strip(), f"animerec {name} has no help line in `animerec --help`"


def test_every_option_and_argument_has_a_help_text():
    missing = []
    for name, sub in _commands(build_parser()).items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue  # -h itself; deliberately hidden internal options
            if not (action.help and action.help.strip()):
                missing.append(f"animerec {name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_readme_command_list_names_every_command():
    listed = _readme_commands()
    assert EXPECTED - listed == set(), f"missing from the README's ## Commands list: {EXPECTED - listed}"
    assert listed - EXPECTED == set(), f"the README lists unknown commands: {listed - EXPECTED}"


def test_ingest_help_prints_its_description_and_option_help():
    proc = subprocess.run(
        [sys.executable, "-m", "animerec_shared.cli", "ingest", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    usage, description = proc.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: animerec ingest")
    assert "Validates the Kaggle" in description and "raw/" in description
    ingest = _commands(build_parser())["ingest"]
    for option in ("--source", "--max-rows", "--json"):
        (action,) = [a for a in ingest._actions if option in a.option_strings]
        line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith(option))
        assert line.split()[-1] in action.help and action.help.split()[0] in line, line  # its help text follows


def test_a_command_registered_with_only_a_help_line_gets_it_as_description():
    parser = build_parser()
    (subs,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    extra = subs.add_parser("extra", help="do one extra thing")
    assert extra.description == "Do one extra thing."
    assert "Do one extra thing." in extra.format_help()
