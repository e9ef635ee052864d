"""An older commit of this repository checked out beside it, and the PYTHONPATH that runs that commit's code.

The venv's own installs of shared/ and the services are editable (they import from this working
tree); a PYTHONPATH whose folders are another checkout's package folders comes first on sys.path,
so a child process started with :func:`code_env` imports that checkout's packages instead.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def worktree(rev: str, parent: Path | None = None) -> Iterator[Path]:
    """Yields a detached `git worktree` of rev (removed again afterwards) in parent or a temporary folder."""
    with contextlib.ExitStack() as stack:
        where = Path(parent) if parent is not None else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        path = where / f"worktree-{rev}"
        added = subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(path), rev],
            capture_output=True,
            text=True,
        )
        if added.returncode != 0:
            raise RuntimeError(f"git worktree add {rev} failed: {added.stderr.strip()}")
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], check=False, capture_output=True
            )


def package_dirs(checkout: Path) -> list[Path]:
    """Returns the import roots of a checkout: shared/, its sub-packages and every service with a pyproject.toml."""
    return [
        checkout / "shared",
        *sorted(p.parent for p in checkout.glob("shared/*/pyproject.toml")),
        *sorted(p.parent for p in checkout.glob("services/*/pyproject.toml")),
    ]


def code_env(checkout: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """Returns env (default os.environ) with PYTHONPATH set so that a child imports checkout's packages first."""
    out = dict(os.environ if env is None else env)
    out["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in package_dirs(checkout)), str(checkout)])
    return out
