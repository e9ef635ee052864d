"""Helpers of the ingestion tests: small Kaggle-shaped files and storage snapshots."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

ANIME_HEADER = (
    "MAL_ID,Name,Score,Genres,English name,Japanese name,Type,Episodes,Aired,Premiered,Rating,Members,Popularity"
)
ANIMELIST_HEADER = "user_id,anime_id,rating,watching_status,watched_episodes"


def write_anime(folder: Path, n: int = 30, synopsis: bool = True) -> list[int]:
    """Writes a small anime.csv (Genres spelling, some Unknown values) and its synopsis file."""
    ids = list(range(1, n + 1))
    lines = [ANIME_HEADER]
    for i in ids:
        english = "Unknown" if i % 3 == 0 else f"English {i}"
        score = "Unknown" if i % 7 == 0 else f"{5 + (i % 40) / 10:.2f}"
        lines.append(
            f'{i},Name {i},{score},"Action, Comedy",{english},日本 {i},TV,{12 if i % 5 else "Unknown"},'
            f'"Apr {i % 28 + 1}, {1990 + i} to Jun 1, {1991 + i}",Spring {1990 + i},'
            f"PG-13 - Teens 13 or older,{1000 * i},{i}"
        )
    (folder / "anime.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if synopsis:
        syn = ["MAL_ID,Name,Score,Genders,sypnopsis"]
        syn += [f'{i},Name {i},7.0,"Action, Comedy","Story of {i}, with a comma."' for i in ids if i % 4]
        (folder / "anime_with_synopsis.csv").write_text("\r\n".join(syn) + "\r\n", encoding="utf-8")
    return ids


def animelist_rows(users: int = 20, per_user: int = 60, n_anime: int = 30, seed: int = 0) -> np.ndarray:
    """Returns int rows (user, anime, rating, status, episodes), unique (user, anime), ~1/4 zeros."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        anime = rng.choice(np.arange(1, n_anime + 1), size=min(per_user, n_anime), replace=False)
        rating = rng.integers(0, 11, size=anime.size)
        rating[rng.random(anime.size) < 0.25] = 0
        for a, r in zip(anime, rating, strict=True):
            rows.append((u * 10 + 3, int(a), int(r), 2, 5))
    return np.array(rows, dtype=np.int64)


def write_animelist(
    folder: Path, rows: np.ndarray, name: str = "animelist.csv", header: str = ANIMELIST_HEADER, newline: str = "\n"
) -> Path:
    """Writes rows as a ratings CSV and returns its path."""
    width = len(header.split(","))
    body = newline.join(",".join(str(v) for v in row[:width]) for row in rows)
    path = folder / name
    path.write_text(header + newline + body + newline, encoding="utf-8")
    return path


def storage_snapshot(storage) -> dict[str, str]:
    """Returns {object name: content hash} of everything in a storage (both backends)."""
    root = getattr(storage, "root", None)
    if root is not None:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*"))
            if p.is_file()
        }
    blobs = storage.client.list_blobs(storage.bucket, prefix=storage.prefix)
    return {b.name: b.md5_hash for b in blobs}


def wait_job(client: TestClient, url: str, timeout: float = 60) -> dict:
    """Returns a job's body once it succeeded or failed (AssertionError after timeout seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body["state"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{url} did not finish: {body}")
