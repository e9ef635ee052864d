"""requirements.lock records the tested dependency set with hashes, so an audit can run wherever one is reachable."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCAL = {"animerec-shared", "animerec-ranking"} | {f"animerec-{p.name}" for p in (REPO / "services").iterdir()}


def _locked() -> dict[str, tuple[str, list[str]]]:
    """Returns {name: (version, hashes)} of every pinned requirement of the lock."""
    text = (REPO / "requirements.lock").read_text()
    out = {}
    for block in re.split(r"\n(?=\S)", text):
        m = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\;]+)", block)
        if m:
            out[canonicalize_name(m.group(1))] = (m.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return out


def _declared() -> set[str]:
    """Returns the names of every third-party requirement of the pyprojects and requirements-dev.txt."""
    names: set[str] = set()
    for pyproject in [
        REPO / "shared/pyproject.toml",
        REPO / "shared/ranking/pyproject.toml",
        *sorted((REPO / "services").glob("*/pyproject.toml")),
    ]:
        for req in tomllib.loads(pyproject.read_text())["project"]["dependencies"]:
            names.add(canonicalize_name(Requirement(req).name))
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonicalize_name(Requirement(line).name))
    return names - LOCAL


def test_every_declared_dependency_is_pinned_with_hashes_in_the_lock():
    locked = _locked()
    missing = sorted(_declared() - set(locked))
    assert not missing, f"requirements.lock lacks {missing}: run `make lock`"
    unhashed = sorted(n for n, (_, hashes) in locked.items() if not hashes)
    assert not unhashed, f"pinned without hashes: {unhashed}"


def test_the_lock_lists_the_local_packages_as_editable_sources():
    text = (REPO / "requirements.lock").read_text()
    for path in ("./shared", "./shared/ranking", *(f"./services/{p.name}" for p in (REPO / "services").iterdir())):
        assert re.search(rf"^-e {re.escape(path)}$", text, re.M), path
