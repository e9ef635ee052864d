"""checkov on every chart (default and production values) and on the Dockerfile: no failed check.

checkov lives in its own venv (.venv/checkov, made by `make install`: it pins many packages). Its helm
framework needs a helm binary, so the charts are rendered here by the real Helm engine (the `render`
fixture) and the rendered YAML is scanned with the kubernetes framework. What the charts do not fix is
skipped in the chart itself (``checkov.io/skip<N>`` annotations, ``# checkov:skip=`` in the Dockerfile),
each with its reason, so checkov's JSON has no failed check.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import REPO, SERVICES, VARIANTS

CHECKOV = REPO / ".venv" / "checkov" / "bin" / "checkov"
TIMEOUT_S = 600


def checkov(*args: str) -> list[dict[str, Any]]:
    """Runs checkov offline (--skip-download) and returns its JSON reports (one per framework)."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make install` (it makes the checkov venv)")
    proc = subprocess.run(
        [str(CHECKOV), *args, "--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=REPO,
    )
    # Not --quiet: that drops the skipped checks from the JSON, and their reasons are checked.
    # rc 1 = failed checks; anything else but 0 is checkov itself failing. It may log a traceback
    # on stderr when it cannot reach its platform: harmless with --skip-download.
    assert proc.returncode in (0, 1), f"checkov rc {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    out = json.loads(proc.stdout)
    reports = out if isinstance(out, list) else [out]
    unparsed = [e for r in reports for e in r.get("results", {}).get("parsing_errors", [])]
    assert not unparsed, f"checkov could not parse: {unparsed}"
    return reports


def failures(reports: list[dict[str, Any]]) -> list[str]:
    """Returns 'CHECK resource (file): name' per failed check of checkov's JSON reports."""
    found = []
    for report in reports:
        for check in report.get("results", {}).get("failed_checks", []):
            found.append(f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}")
    return found


def unexplained(reports: list[dict[str, Any]]) -> list[str]:
    """Returns 'CHECK resource' per skipped check that gives no reason."""
    return [
        f"{check['check_id']} {check['resource']}"
        for report in reports
        for check in report.get("results", {}).get("skipped_checks", [])
        if not (check.get("check_result", {}).get("suppress_comment") or "").strip()
        or check.get("check_result", {}).get("suppress_comment") == "No comment provided"
    ]


def passed(reports: list[dict[str, Any]]) -> int:
    """Returns how many checks passed."""
    return sum(report.get("summary", {}).get("passed", 0) for report in reports)


def test_charts_pass_checkov(render, tmp_path: Path) -> None:
    """Every chart, rendered with default and production values, passes checkov's kubernetes checks."""
    for svc in SERVICES:
        for variant in VARIANTS:
            objs = render(svc, variant)
            (tmp_path / f"{svc}-{variant}.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
    # The distributed-training Job is off in both value sets: scanned too.
    objs = render("training", "production", overrides={"distributedTraining": {"enabled": True}})
    (tmp_path / "training-distributed.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
    reports = checkov("-d", str(tmp_path), "--framework", "kubernetes")
    failed = failures(reports)
    assert passed(reports) > 0, "checkov ran no check on the rendered charts"
    assert not failed, f"{len(failed)} failed checkov checks:\n" + "\n".join(failed)
    assert not unexplained(reports), f"skips without a reason: {unexplained(reports)}"


def test_dockerfile_passes_checkov() -> None:
    """The Dockerfile passes checkov's dockerfile checks."""
    reports = checkov("-f", "Dockerfile", "--framework", "dockerfile")
    failed = failures(reports)
    assert passed(reports) > 0, "checkov ran no check on the Dockerfile"
    assert not failed, f"{len(failed)} failed checkov checks:\n" + "\n".join(failed)
    assert not unexplained(reports), f"skips without a reason: {unexplained(reports)}"
