"""What each service image installs: the dependency closure of its pyproject, walked like pip resolves it.

The roots are the repository's own pyproject.toml files (the service's, then animerec-shared's and
animerec-ranking's wherever a local package is required: the Dockerfile installs those from their
folders); every other distribution is walked through its installed metadata (importlib.metadata),
following only the extras a requirement asks for and the markers that hold on this interpreter (the
images run the same Python minor version on Linux). The ranking core's numeric stack (scipy,
scikit-learn, pandas) belongs to training and the recommender only.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from deploy_helpers import REPO, SERVICES
from packaging.requirements import Requirement

NUMERIC = {"scipy", "scikit-learn", "pandas"}
RANKING = "animerec-ranking"


def canonical(name: str) -> str:
    """Returns the PEP 503 normalised name of a distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def local_projects(repo: Path = REPO) -> dict[str, Path]:
    """Returns {distribution name: pyproject.toml} of the packages built from this repository."""
    found = {}
    for path in [
        *repo.glob("shared/pyproject.toml"),
        *repo.glob("shared/*/pyproject.toml"),
        *repo.glob("services/*/pyproject.toml"),
    ]:
        found[canonical(tomllib.loads(path.read_text())["project"]["name"])] = path
    return found


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": e}) for e in extras | {""})


def requirements_of(name: str, local: dict[str, Path]) -> list[str]:
    """Returns the requirement strings of a distribution: its pyproject's when local, else its metadata's."""
    if name in local:
        return tomllib.loads(local[name].read_text())["project"].get("dependencies", [])
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []


def closure(root: str, repo: Path = REPO) -> set[str]:
    """Returns the names of every distribution `pip install <root's folder>` puts in an image."""
    local = local_projects(repo)
    seen: dict[str, set[str]] = {}  # name -> extras already expanded
    todo: list[tuple[str, set[str]]] = [(canonical(root), set())]
    while todo:
        name, extras = todo.pop()
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        for text in requirements_of(name, local):
            req = Requirement(text)
            if _applies(req, seen[name]):
                todo.append((canonical(req.name), set(req.extras)))
    return set(seen)


def missing_metadata(names: set[str], repo: Path = REPO) -> list[str]:
    """Returns the names of a closure that are neither local nor installed here (their requirements unknown)."""
    local = local_projects(repo)
    out = []
    for name in sorted(names - set(local)):
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            out.append(name)
    return out


@pytest.fixture(scope="module")
def closures() -> dict[str, set[str]]:
    return {svc: closure(f"animerec-{svc}") for svc in SERVICES}


def test_every_service_and_shared_package_is_a_local_project():
    local = local_projects()
    assert {f"animerec-{svc}" for svc in SERVICES} | {"animerec-shared", RANKING} <= set(local), sorted(local)
    assert local[RANKING] == REPO / "shared" / "ranking" / "pyproject.toml"


@pytest.mark.parametrize("svc", ["gateway", "explainer"])
def test_gateway_and_explainer_images_carry_no_numeric_stack(svc, closures):
    got = closures[svc]
    assert "animerec-shared" in got
    assert not got & (NUMERIC | {RANKING}), sorted(got & (NUMERIC | {RANKING}))
    # The walk saw every distribution's requirements (a missing one could hide scipy behind it).
    assert missing_metadata(got) == [], "install the dev venv (`make install`) to walk these"


@pytest.mark.parametrize("svc", ["training", "recommender"])
def test_training_and_recommender_images_carry_the_ranking_core(svc, closures):
    got = closures[svc]
    assert {RANKING, "animerec-shared", "scipy", "scikit-learn", "pandas", "numpy"} <= got, sorted(got)


def test_only_training_and_the_recommender_require_the_ranking_package():
    local = local_projects()
    direct = {
        name for name in local if RANKING in {canonical(Requirement(r).name) for r in requirements_of(name, local)}
    }
    assert direct == {"animerec-training", "animerec-recommender"}, sorted(direct)
    shared = {canonical(Requirement(r).name) for r in requirements_of("animerec-shared", local)}
    assert not shared & (NUMERIC | {"numpy", "pyarrow", RANKING}), sorted(shared)


@pytest.mark.parametrize("svc", [s for s in SERVICES if s != "training"])
def test_tensorflow_is_only_in_the_training_image(svc, closures):
    got = closures[svc]
    assert not [n for n in got if n.startswith("tensorflow") or n in ("keras", "tf-keras")], sorted(got)
    assert any(n.startswith("tensorflow") for n in closures["training"])


def test_the_walk_finds_scipy_behind_scikit_learn_and_follows_only_requested_extras(tmp_path):
    """The check can fail: a shared package requiring scikit-learn (as before the split) brings scipy in."""
    for folder, name, deps in [
        ("shared", "animerec-shared", ["scikit-learn>=1.3", "uvicorn"]),
        ("services/gateway", "animerec-gateway", ["animerec-shared"]),
        ("services/explainer", "animerec-explainer", ["uvicorn[standard]"]),
    ]:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\ndependencies = {deps!r}\n'.replace("'", '"')
        )
    gateway = closure("animerec-gateway", repo=tmp_path)
    assert {"animerec-shared", "scikit-learn", "scipy", "numpy", "uvicorn"} <= gateway
    standard = {
        canonical(Requirement(r).name)
        for r in metadata.requires("uvicorn") or []
        if 'extra == "standard"' in r.replace("'", '"')
    }
    extra_only = standard - closure("uvicorn", repo=tmp_path)
    assert extra_only, "uvicorn[standard] adds nothing any more: pick another example"
    assert not extra_only & gateway  # plain uvicorn: its extras are not followed
    explainer = closure("animerec-explainer", repo=tmp_path)
    assert extra_only <= explainer and "scipy" not in explainer, sorted(explainer)
