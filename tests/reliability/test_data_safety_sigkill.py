"""SIGKILL of the real ingestion, processing and training CLIs at several points never shows half-written data.

Each run writes into the storage the live stack serves. After every kill: every directory of raw/,
processed/ and models/ is complete (marker present, every contract file readable), the CURRENT
pointers have not moved, and the gateway keeps answering with the promoted model version. Finally
a clean ingest + process run succeeds despite the leftovers of the killed ones.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from animerec_ranking.model_versions import load_model_dir
from animerec_shared.storage import MARKER, open_storage
from benchmarks import stack as st

PROCESSED_FILES = (
    "ratings_train.parquet",
    "ratings_val.parquet",
    "ratings_test.parquet",
    "users.parquet",
    "rated_anime.parquet",
    "anime.parquet",
    "manifest.json",
)


def check_storage(root: Path, currents: dict[str, str | None]) -> list[str]:
    """Returns what is wrong in a file storage: half-written visible dirs, broken files, moved pointers."""
    storage = open_storage(root.as_uri())
    problems = []
    for area in ("raw", "processed", "models"):
        folder = root / area
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            if entry.name.startswith(".") or entry.name == "CURRENT":
                continue
            if not (entry / MARKER).exists():
                problems.append(f"{area}/{entry.name} is visible without {MARKER}")
                continue
            try:
                if area == "processed":
                    missing = [f for f in PROCESSED_FILES if not (entry / f).exists()]
                    assert not missing, f"missing {missing}"
                    for f in PROCESSED_FILES[:-1]:
                        pd.read_parquet(entry / f)
                elif area == "models":
                    load_model_dir(entry, entry.name)
                else:
                    assert (entry / "manifest.json").exists(), "no manifest.json"
            except Exception as exc:
                problems.append(f"{area}/{entry.name} is published but broken: {exc}")
        if storage.get_current(area) != currents[area]:
            problems.append(f"{area}/CURRENT moved: {currents[area]} -> {storage.get_current(area)}")
        elif currents[area] and not storage.is_published(f"{area}/{currents[area]}"):
            problems.append(f"{area}/CURRENT points at an unpublished {currents[area]}")
    return problems


def staging_dirs(root: Path) -> set[str]:
    """Returns the names of the publish() staging folders under root/.staging."""
    staging = root / ".staging"
    return {d.name for d in staging.iterdir() if d.is_dir()} if staging.is_dir() else set()


def staging_started(root: Path, before: set[str]) -> bool:
    """Returns True once a new publish() staging folder (not in before) has a file in it."""
    return any(
        any((root / ".staging" / d).iterdir()) for d in staging_dirs(root) - before if (root / ".staging" / d).is_dir()
    )


def run_and_kill(env: dict[str, str], argv: list[str], root: Path, after: float | str, limit: float = 120) -> str:
    """Starts `animerec <argv>`, SIGKILLs it `after` seconds in (or when "staging" has files); returns what happened."""
    before = staging_dirs(root)  # leftovers of earlier killed runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "animerec_shared.cli", *argv],
        env=env,
        cwd=st.REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    start = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - start < limit:
            if after == "staging" and staging_started(root, before):
                break
            if isinstance(after, (int, float)) and time.monotonic() - start >= after:
                break
            time.sleep(0.02)
        if proc.poll() is not None:
            return f"finished by itself after {time.monotonic() - start:.1f}s (code {proc.returncode})"
        proc.send_signal(signal.SIGKILL)
        return f"killed after {time.monotonic() - start:.1f}s"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def assert_still_served(stack: st.Stack, world: st.World) -> None:
    with httpx.Client(base_url=stack.url("gateway"), timeout=30) as c:
        r = c.get(f"/api/v1/users/{world.user_ids[1]}/recommendations", params={"n": 5})
        assert r.status_code == 200 and r.json()["model_version"] == world.model_version, r.text
        r = c.get(f"/api/v1/anime/{world.anime_ids[2]}/similar", params={"n": 5})
        assert r.status_code == 200 and r.json()["items"], r.text


@pytest.fixture(scope="module")
def currents(stack, world):
    storage = open_storage(world.storage_url)
    return {a: storage.get_current(a) for a in ("raw", "processed", "models")}


@pytest.mark.parametrize("after", [0.5, 1.5, 3.0, "staging"])
@pytest.mark.parametrize("command", ["ingest", "process"])
def test_sigkill_of_ingestion_leaves_nothing_half_written(stack, world, currents, command, after):
    root = world.root / "storage"
    argv = ["ingest", "--source", str(world.sample_dir)] if command == "ingest" else ["process", "--min-ratings", "50"]
    what = run_and_kill(stack.env, argv, root, after)
    print(f"{command} {after}: {what}")
    storage = open_storage(world.storage_url)
    if what.startswith("finished"):  # faster than the kill point: its complete dataset is current now
        currents.update({a: storage.get_current(a) for a in currents})
    else:
        # A kill that lands after the commit point (directory renamed, pointer replaced) leaves the
        # new dataset current: allowed only when what CURRENT names is a published, complete folder
        # (check_storage below verifies every visible folder is complete).
        for area in currents:
            now = storage.get_current(area)
            if now != currents[area] and now is not None and storage.is_published(f"{area}/{now}"):
                currents[area] = now
    problems = check_storage(root, currents)
    assert problems == [], problems
    assert_still_served(stack, world)


@pytest.mark.parametrize("after", [2.0, 8.0, 20.0])
def test_sigkill_of_training_leaves_nothing_half_written(stack, world, currents, after):
    root = world.root / "storage"
    env = {**stack.env, "TRAINING_THREADS": "1"}
    # long enough that every kill lands before promotion (the early-stopped fit takes seconds here)
    what = run_and_kill(
        env,
        ["train", "--model", "two_tower", "--epochs", "30", "--param", "final_epochs=30", "--promote", "always"],
        root,
        after,
    )
    print(f"train {after}: {what}")
    assert what.startswith("killed"), what
    assert check_storage(root, currents) == []
    assert_still_served(stack, world)


def test_clean_run_after_kills_publishes_complete_data(stack, world, currents):
    root = world.root / "storage"
    raw = st.animerec(stack.env, "ingest", "--source", str(world.sample_dir))
    processed = st.animerec(stack.env, "process", "--min-ratings", "50")
    moved = {**currents, "raw": raw["id"], "processed": processed["id"]}
    assert check_storage(root, moved) == []
    assert_still_served(stack, world)
