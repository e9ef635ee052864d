"""Helpers of the deployment tests (a uniquely named module: conftest.py names collide)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from animerec_shared.launcher import free_port as free_port  # for the deploy tests
from animerec_shared.settings import SERVICE_PORTS

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO / "charts"
SERVICES = SERVICE_PORTS  # {service: default port}
VARIANTS = ("default", "production")
SECRET_ENV = {"GATEWAY_ADMIN_TOKEN", "SERVICE_TOKEN", "COMET_API_KEY", "OPENAI_API_KEY"}


def load_yaml(path: Path) -> Any:
    """Returns the parsed YAML document of a file."""
    return yaml.safe_load(path.read_text())


def manifests(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Returns every Kubernetes object of a render (empty documents dropped)."""
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def of_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Returns the objects of one kind."""
    return [o for o in objs if o["kind"] == kind]


def one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Returns the only object of a kind, failing when there are none or several."""
    found = of_kind(objs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Returns base updated recursively with extra (what `-f a.yaml -f b.yaml` does)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_dockerfile(text: str) -> list[list[tuple[str, str]]]:
    """Returns the stages of a Dockerfile, each a list of (INSTRUCTION, arguments), continuations joined.

    Global ARGs (before the first FROM, only usable in FROM lines) are left out: see dockerfile_global_args.
    """
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # comments may sit between continued lines too
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "dangling line continuation"
    stages: list[list[tuple[str, str]]] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stages.append([])
        if not stages and keyword == "ARG":
            continue
        assert stages, f"instruction before FROM: {line}"
        stages[-1].append((keyword, args.strip()))
    return stages


def dockerfile_global_args(text: str) -> dict[str, str]:
    """Returns {name: default} of the ARGs declared before a Dockerfile's first FROM."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.upper().startswith("FROM "):
            break
        if line.upper().startswith("ARG "):
            name, _, default = line[4:].strip().partition("=")
            out[name] = default.strip('"')
    return out
