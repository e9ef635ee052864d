"""Processing (the seed's DataProcessor, done right): raw dataset -> ``processed/<id>/``.

Steps, all vectorised: drop unscored rows (rating 0 in animelist), drop duplicate
(user, anime) pairs keeping the last row of the file, keep users with >= ``min_ratings``
ratings, encode ids densely (sorted ids), normalise ratings to (r-1)/9, split each user's
ratings into a seeded 20% test holdout and a seeded 10% validation slice of the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from animerec_shared.errors import InvalidInputError, NotFoundError
from animerec_shared.storage import Storage

from .anime_metadata import clean_anime
from .ingest import SYNOPSIS_FILE, new_id
from .split import TEST_FRACTION, VAL_FRACTION, dense_codes, per_user_split, sort_by_pairs_keep_last

PARQUET_OPTS = {"compression": "lz4", "use_dictionary": False, "write_statistics": False}
Progress = Callable[[str], None]


def resolve_raw(storage: Storage, raw_id: str | None) -> tuple[str, Path]:
    """Returns (raw dataset id, local folder) of the named raw dataset or of raw/CURRENT."""
    raw_id = raw_id or storage.get_current("raw")
    if raw_id is None:
        raise NotFoundError("no raw dataset has been ingested yet (run ingest first)", code="raw_dataset_not_found")
    try:
        return raw_id, storage.fetch_dir(f"raw/{raw_id}")
    except NotFoundError:
        raise NotFoundError(f"raw dataset {raw_id!r} does not exist", code="raw_dataset_not_found") from None


def _ratings_table(user: np.ndarray, anime: np.ndarray, rating: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "user_index": pa.array(user, pa.int32()),
            "anime_index": pa.array(anime, pa.int32()),
            "rating": pa.array(rating, pa.int8()),
            "rating_norm": pa.array((rating.astype(np.float32) - 1.0) / 9.0, pa.float32()),
        }
    )


def process_dataset(
    storage: Storage,
    raw_id: str | None = None,
    min_ratings: int = 400,
    seed: int = 42,
    progress: Progress | None = None,
    make_current: bool = True,
) -> dict[str, Any]:
    """Returns the manifest of the processed dataset published from a raw dataset.

    Raises NotFoundError when there is no raw dataset, InvalidInputError when no user has
    ``min_ratings`` ratings; nothing is published then.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    raw_id, raw_dir = resolve_raw(storage, raw_id)
    say(f"processing raw/{raw_id} (min {min_ratings} ratings per user, seed {seed})")
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="processing") as pool:
        # metadata cleaning (pyarrow, mostly outside the GIL) overlaps the numpy work on the ratings
        anime_future = pool.submit(clean_anime, raw_dir / "anime.csv", raw_dir / SYNOPSIS_FILE)
        return _process(storage, raw_id, raw_dir, min_ratings, seed, say, started, anime_future, pool, make_current)


def _process(
    storage: Storage,
    raw_id: str,
    raw_dir: Path,
    min_ratings: int,
    seed: int,
    say: Progress,
    started: float,
    anime_future: Future,
    pool: ThreadPoolExecutor,
    make_current: bool,
) -> dict[str, Any]:
    """Returns the processed manifest (the body of process_dataset, with its helper threads)."""
    # one contiguous array per column: ChunkedArray.to_numpy() is slow across many chunks
    table = pq.read_table(raw_dir / "ratings.parquet", columns=["user_id", "anime_id", "rating"]).combine_chunks()
    user_id = table.column("user_id").to_numpy()
    anime_id = table.column("anime_id").to_numpy()
    rating = table.column("rating").to_numpy()
    del table
    source_rows = int(user_id.size)

    scored = rating > 0
    unscored = source_rows - int(np.count_nonzero(scored))
    if unscored:
        user_id, anime_id, rating = user_id[scored], anime_id[scored], rating[scored]
    del scored

    ucode, uids = dense_codes(user_id)
    acode, aids = dense_codes(anime_id)
    del user_id, anime_id
    rows = sort_by_pairs_keep_last(ucode, acode, uids.size, aids.size)
    duplicates = int(rating.size - rows.size)
    ucode, acode, rating = ucode[rows], acode[rows], rating[rows]
    del rows

    counts = np.bincount(ucode, minlength=uids.size)
    keep_user = counts >= min_ratings
    if not keep_user.any():
        most = int(counts.max(initial=0))
        raise InvalidInputError(
            f"no user has at least {min_ratings} scored ratings (most: {most})",
            code="no_users_left",
            details={"min_ratings": min_ratings},
        )
    keep_row = keep_user[ucode]
    ucode, acode, rating = ucode[keep_row], acode[keep_row], rating[keep_row]
    user_ids = uids[keep_user]
    ucode = (np.cumsum(keep_user, dtype=np.int32) - 1)[ucode]
    present = np.zeros(aids.size, dtype=bool)
    present[acode] = True
    acode = (np.cumsum(present, dtype=np.int32) - 1)[acode]
    anime_ids = aids[present]
    n_users, n_anime = int(user_ids.size), int(anime_ids.size)
    say(f"{rating.size:,} ratings of {n_users:,} users on {n_anime:,} anime; splitting")

    train, val, test = per_user_split(ucode, n_users, seed)
    processed_id = new_id("pr")
    anime = anime_future.result()
    meta_ids = anime.column("anime_id").to_numpy()
    pos = np.clip(np.searchsorted(anime_ids, meta_ids), 0, n_anime - 1)
    rated = anime_ids[pos] == meta_ids
    anime = anime.set_column(
        anime.schema.get_field_index("anime_index"), "anime_index", pa.array(np.where(rated, pos, -1).astype(np.int32))
    )

    with storage.publish(f"processed/{processed_id}", meta={"kind": "processed", "raw_dataset": raw_id}) as out:
        writes = [
            pool.submit(
                pq.write_table,
                _ratings_table(ucode[idx], acode[idx], rating[idx]),
                out / f"ratings_{name}.parquet",
                **PARQUET_OPTS,
            )
            for name, idx in (("train", train), ("val", val), ("test", test))
        ]
        pq.write_table(
            pa.table(
                {
                    "user_index": pa.array(np.arange(n_users, dtype=np.int32)),
                    "user_id": pa.array(user_ids.astype(np.int64)),
                    "n_ratings": pa.array(np.bincount(ucode, minlength=n_users).astype(np.int32)),
                }
            ),
            out / "users.parquet",
            **PARQUET_OPTS,
        )
        pq.write_table(
            pa.table(
                {
                    "anime_index": pa.array(np.arange(n_anime, dtype=np.int32)),
                    "anime_id": pa.array(anime_ids.astype(np.int32)),
                    "n_ratings": pa.array(np.bincount(acode, minlength=n_anime).astype(np.int32)),
                }
            ),
            out / "rated_anime.parquet",
            **PARQUET_OPTS,
        )
        pq.write_table(anime, out / "anime.parquet", compression="zstd")
        for write in writes:
            write.result()
        elapsed = time.perf_counter() - started
        manifest = {
            "id": processed_id,
            "raw_dataset": raw_id,
            "created_at": datetime.now(UTC).isoformat(),
            "source_rows": source_rows,
            "unscored_dropped": unscored,
            "duplicates_dropped": duplicates,
            "users_dropped": int(uids.size - n_users),
            "ratings_dropped_min_user": int(keep_row.size - rating.size),
            "users": n_users,
            "anime": n_anime,
            "anime_metadata": anime.num_rows,
            "rated_anime_without_metadata": int(n_anime - np.count_nonzero(rated)),
            "ratings": int(rating.size),
            "train_ratings": int(train.size),
            "val_ratings": int(val.size),
            "test_ratings": int(test.size),
            "min_user_ratings": min_ratings,
            "seed": seed,
            "test_fraction": TEST_FRACTION,
            "val_fraction": VAL_FRACTION,
            "duplicates_policy": "keep_last",
            "duration_s": round(elapsed, 3),
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if make_current:
        storage.set_current("processed", processed_id)
    say(
        f"published processed/{processed_id}: {n_users:,} users, {rating.size:,} ratings "
        f"(train {train.size:,}, val {val.size:,}, test {test.size:,})"
    )
    return manifest
