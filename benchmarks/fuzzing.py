"""Runs schemathesis against one live service's OpenAPI and sorts what it found.

Used by ``scripts/fuzz.py`` (long runs) and ``tests/reliability/test_fuzz_openapi.py`` (bounded).
Failures are sorted into server errors (any 5xx: never acceptable) and conformance failures (an
undocumented status code, a body that breaks the documented schema, a wrong content type or
headers, invalid input accepted with a 2xx).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
# Invalid input answered 2xx. Off by default: pydantic's lax mode accepts `false` for an int and `0` for
# a bool, and schemathesis reports each as a failure (``scripts/fuzz.py --strict-input`` turns it on).
STRICT_INPUT_CHECK = "negative_data_rejection"
SERVER_ERROR_CODES = {"ST101", "ST102"}  # server error, cannot reach / broken connection


@dataclass
class FuzzResult:
    """What one schemathesis run over one service found."""

    service: str
    cases: int = 0
    operations: int = 0
    seconds: float = 0.0
    exit_code: int = 0
    failures: list[dict] = field(default_factory=list)  # {"code", "title", "count", "operations"}
    errors: list[str] = field(default_factory=list)  # runner errors (schema unreachable, crashes)
    output: str = ""

    @property
    def server_errors(self) -> list[dict]:
        """Returns the failures that are 5xx answers or dropped connections."""
        return [f for f in self.failures if f["code"] in SERVER_ERROR_CODES or "server error" in f["title"].lower()]

    @property
    def conformance(self) -> list[dict]:
        """Returns every other failure (status code, schema, content type, headers, invalid data accepted)."""
        return [f for f in self.failures if f not in self.server_errors]

    def details(self, chars: int = 6000) -> str:
        """Returns the failures and the end of schemathesis' own report (curl lines to reproduce)."""
        lines = [f"{f['code']} {f['title']} x{f['count']}: {', '.join(f['operations'])}" for f in self.failures]
        return "\n".join(lines + self.errors) + "\n--- schemathesis output (end)\n" + self.output[-chars:]

    def line(self) -> str:
        """Returns a one-line summary."""
        return (
            f"{self.service:<12} {self.operations:>3} operations {self.cases:>6} cases {self.seconds:>6.1f}s  "
            f"5xx/dropped: {sum(f['count'] for f in self.server_errors)}  "
            f"conformance: {sum(f['count'] for f in self.conformance)}"
        )


def schemathesis_bin() -> str:
    """Returns the schemathesis CLI of this interpreter's environment."""
    local = Path(sys.executable).with_name("schemathesis")
    return str(local) if local.exists() else (shutil.which("schemathesis") or "schemathesis")


def run_schemathesis(
    service: str,
    base_url: str,
    report_dir: Path,
    *,
    max_examples: int = 10,
    seed: int = 1,
    max_time: float | None = None,
    phases: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 600,
    extra: list[str] | None = None,
    checks: tuple[str, ...] = CHECKS,
) -> FuzzResult:
    """Returns the FuzzResult of `schemathesis run` against base_url/openapi.json."""
    report_dir = Path(report_dir).resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_dir / f"{service}.json"
    report.unlink(missing_ok=True)
    cmd = [
        schemathesis_bin(),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        ",".join(checks),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--no-shrink",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--suppress-health-check",
        "all",
        "--output-truncate",
        "true",
    ]
    if max_time:
        cmd += ["--max-time", str(int(max_time))]
    if phases:
        cmd += ["--phases", phases]
    for k, v in (headers or {}).items():
        cmd += ["--header", f"{k}: {v}"]
    cmd += extra or []
    start = time.monotonic()
    # cwd: schemathesis keeps its .hypothesis example database in the working directory
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, cwd=report_dir
    )
    result = FuzzResult(service, seconds=time.monotonic() - start, exit_code=proc.returncode, output=proc.stdout)
    (report_dir / f"{service}.txt").write_text(proc.stdout)
    if not report.exists():
        result.errors.append(f"schemathesis wrote no report (exit code {proc.returncode})")
        return result
    data = json.loads(report.read_text())
    result.cases = int(data.get("test_cases", {}).get("generated", 0))
    result.operations = int(data.get("operations", {}).get("tested", 0))
    result.failures = [
        {
            "code": f.get("code", "?"),
            "title": f.get("title", ""),
            "count": f.get("count", 1),
            "operations": f.get("operations", []),
        }
        for f in data.get("failures", [])
    ]
    result.errors = [json.dumps(e)[:500] for e in data.get("errors", [])]
    return result
