"""Fixtures of the deployment tests: charts rendered by the real Helm engine (helm-python-sdk)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import CHARTS, SERVICES, deep_merge, load_yaml, manifests


@pytest.fixture(scope="session")
def helm():
    """Returns the helm_python module (Helm's Go library through ctypes)."""
    return pytest.importorskip("helm_python")


@pytest.fixture(scope="session")
def chart_dirs(helm, tmp_path_factory) -> dict[str, Path]:
    """Returns a copy of charts/ per service with the library chart vendored by `helm dependency build`.

    The copy keeps the working tree clean (no charts/<svc>/charts/*.tgz written by tests).
    """
    root = tmp_path_factory.mktemp("charts")
    shutil.copytree(CHARTS, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.tgz"))
    dirs = {}
    for svc in SERVICES:
        helm.dependency_build(root / svc)
        dirs[svc] = root / svc
    return dirs


@pytest.fixture(scope="session")
def render(helm, chart_dirs):
    """Returns render(svc, variant="default", overrides=None) -> list of objects, cached per variant."""
    cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
    charts = {svc: helm.Chart.load(path) for svc, path in chart_dirs.items()}

    def _render(
        svc: str, variant: str = "default", overrides: dict[str, Any] | None = None, release: str | None = None
    ) -> list[dict[str, Any]]:
        key = (svc, variant)
        if overrides is None and release is None and key in cache:
            return cache[key]
        values: dict[str, Any] = {}
        if variant == "production":
            values = load_yaml(chart_dirs[svc] / "values-production.yaml")
        if overrides:
            values = deep_merge(values, overrides)
        objs = manifests(charts[svc].render(values or None, name=release or svc, namespace="animerec"))
        if overrides is None and release is None:
            cache[key] = objs
        return objs

    yield _render
    for chart in charts.values():
        chart.close()
