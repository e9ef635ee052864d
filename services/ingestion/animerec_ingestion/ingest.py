"""Ingestion of a folder of Kaggle files into an immutable ``raw/<dataset_id>/`` directory.

Everything is validated while being written into a staging folder; only a fully valid dataset
is published (one atomic step) and then made current. A failure leaves ``raw/`` untouched.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from animerec_shared.errors import InvalidInputError
from animerec_shared.storage import Storage

from .metadata_checks import ANIME_REQUIRED, ANIME_VALUE_RULES, SYNOPSIS_REQUIRED, validate_metadata
from .ratings_stream import RATINGS_FILES, ingest_ratings

RAW_FORMAT = "animerec-raw/1"
ANIME_FILE = "anime.csv"
SYNOPSIS_FILE = "anime_with_synopsis.csv"
ACCEPTED_FILES = (ANIME_FILE, SYNOPSIS_FILE, *RATINGS_FILES)

Progress = Callable[[str], None]


def new_id(prefix: str) -> str:
    """Returns a sortable unique id such as ``ds-20261127T041500Z-3f9a1c``."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _outside_root(name: str) -> InvalidInputError:
    # Names the file only: neither the link's target nor anything read from it.
    return InvalidInputError(
        f"{name} resolves to a file outside the allowed root",
        code="source_outside_allowed_root",
        details={"file": name},
    )


def resolve_file(path: Path, allowed_root: Path | None = None) -> Path | None:
    """Returns the real path of a regular file (None when there is none at ``path``).

    Symlinks are followed (``Path.resolve(strict=True)``); with ``allowed_root`` the real path must
    lie under it, else InvalidInputError source_outside_allowed_root naming only the file.
    """
    root = Path(allowed_root).resolve() if allowed_root is not None else None
    try:
        if not path.is_symlink() and not path.exists():
            return None
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, a loop, a name too long: no file there
        try:
            target = path.resolve()
        except (OSError, RuntimeError):
            target = None
        if root is not None and (target is None or not target.is_relative_to(root)):
            raise _outside_root(path.name) from None
        return None
    if root is not None and not real.is_relative_to(root):
        raise _outside_root(path.name)
    return real if real.is_file() else None


def check_files_inside(source: Path, allowed_root: Path) -> None:
    """Raises source_outside_allowed_root when one of the accepted files of a folder resolves outside the root."""
    for name in ACCEPTED_FILES:
        resolve_file(source / name, allowed_root)


def find_sources(source: Path, allowed_root: Path | None = None) -> dict[str, Path]:
    """Returns {Kaggle file name: real path} of the anime, synopsis (when present) and ratings files of a folder.

    ``animelist.csv`` is preferred over ``rating_complete.csv`` when both exist (the seed's choice;
    the real Kaggle download holds both). With ``allowed_root`` every file must resolve (symlinks
    followed) to a path under it (InvalidInputError source_outside_allowed_root otherwise).
    """
    if not source.is_dir():
        raise InvalidInputError(f"source {str(source)!r} is not a folder", code="source_not_found")
    found = {name: resolve_file(source / name, allowed_root) for name in ACCEPTED_FILES}
    anime = found[ANIME_FILE]
    if anime is None:
        raise InvalidInputError(
            f"{ANIME_FILE} is missing from the source folder", code="missing_file", details={"file": ANIME_FILE}
        )
    ratings = next((found[n] for n in RATINGS_FILES if found[n] is not None), None)
    if ratings is None:
        raise InvalidInputError(
            f"a ratings file ({' or '.join(RATINGS_FILES)}) is missing from the source folder",
            code="missing_file",
            details={"file": " or ".join(RATINGS_FILES)},
        )
    ratings_name = next(n for n in RATINGS_FILES if found[n] is not None)
    synopsis = found[SYNOPSIS_FILE]
    return {ANIME_FILE: anime, ratings_name: ratings, **({SYNOPSIS_FILE: synopsis} if synopsis is not None else {})}


def _copy_hashed(src: Path, dest: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(8 << 20):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_dataset(
    storage: Storage,
    source: Path,
    max_rows: int,
    progress: Progress | None = None,
    make_current: bool = True,
    allowed_root: Path | None = None,
) -> dict[str, Any]:
    """Returns the manifest of the raw dataset published from the Kaggle files in ``source``.

    With ``allowed_root`` (the API's INGESTION_ALLOWED_ROOT) every file must resolve under it.

    Raises DataValidationError (naming file, line, column) or InvalidInputError; in that case
    nothing in storage changed.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    sources = find_sources(Path(source), allowed_root)
    anime_file, synopsis_file = sources[ANIME_FILE], sources.get(SYNOPSIS_FILE)
    ratings_name = next(n for n in RATINGS_FILES if n in sources)  # find_sources raised otherwise
    ratings_file = sources[ratings_name]
    say(f"validating {ANIME_FILE}")
    anime_rows = validate_metadata(anime_file, ANIME_REQUIRED, ANIME_VALUE_RULES, name=ANIME_FILE)
    synopsis_rows = None
    if synopsis_file is not None:
        say(f"validating {SYNOPSIS_FILE}")
        synopsis_rows = validate_metadata(synopsis_file, SYNOPSIS_REQUIRED, name=SYNOPSIS_FILE)
    dataset_id = new_id("ds")
    with storage.publish(f"raw/{dataset_id}", meta={"kind": "raw"}) as staging:
        say(f"validating {ratings_name} (cap {max_rows:,} rows)")
        ratings = ingest_ratings(ratings_file, staging / "ratings.parquet", max_rows, progress=say, name=ratings_name)
        files: dict[str, Any] = {
            ANIME_FILE: {"source": ANIME_FILE, "rows": anime_rows, **_copy_hashed(anime_file, staging / ANIME_FILE)}
        }
        if synopsis_file is not None:
            files[SYNOPSIS_FILE] = {
                "source": SYNOPSIS_FILE,
                "rows": synopsis_rows,
                **_copy_hashed(synopsis_file, staging / SYNOPSIS_FILE),
            }
        parquet = staging / "ratings.parquet"
        files["ratings.parquet"] = {
            "source": ratings.source,
            "source_sha256": ratings.sha256,
            "source_bytes": ratings.bytes,
            "rows": ratings.rows_kept,
            "columns": ratings.columns,
            "sha256": _hash_file(parquet),
            "bytes": parquet.stat().st_size,
        }
        elapsed = time.perf_counter() - started
        manifest = {
            "id": dataset_id,
            "format": RAW_FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "ratings_source": ratings.source,
            "ratings_kind": ratings.kind,
            "rows_read": ratings.rows_read,
            "rows_kept": ratings.rows_kept,
            "capped": ratings.capped,
            "max_rows": max_rows,
            "files": files,
            "duration_s": round(elapsed, 3),
            "rows_per_s": round(ratings.rows_kept / elapsed) if elapsed > 0 else None,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if make_current:
        storage.set_current("raw", dataset_id)
    say(
        f"published raw/{dataset_id}: {ratings.rows_kept:,} ratings kept of {ratings.rows_read:,} read"
        + (" (capped)" if ratings.capped else "")
    )
    return manifest


def copy_upload(fileobj: Any, dest: Path) -> int:
    """Returns the bytes copied from an uploaded file object into dest."""
    with open(dest, "wb") as out:
        shutil.copyfileobj(fileobj, out, 8 << 20)
    return dest.stat().st_size
