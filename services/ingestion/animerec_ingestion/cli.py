"""``animerec ingest`` and ``animerec process`` (and ``sample-data`` when its module is installed)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from animerec_shared.cli import print_summary, progress
from animerec_shared.storage import open_storage

from .config import Settings


def _ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest_dataset

    settings = Settings()
    storage = open_storage(settings.storage_url)
    max_rows = args.max_rows or settings.max_rows
    manifest = ingest_dataset(storage, Path(args.source), max_rows, progress=progress)
    if args.json:
        print_summary(manifest)
    else:
        print(
            f"raw dataset {manifest['id']}: {manifest['rows_kept']:,} ratings kept of {manifest['rows_read']:,} "
            f"read from {manifest['ratings_source']}{' (capped)' if manifest['capped'] else ''} "
            f"in {manifest['duration_s']} s; stored at {storage.url}/raw/{manifest['id']}"
        )
    return 0


def _process(args: argparse.Namespace) -> int:
    from .processing import process_dataset

    settings = Settings()
    storage = open_storage(settings.storage_url)
    manifest: dict[str, Any] = process_dataset(
        storage,
        args.raw_dataset,
        args.min_ratings or settings.min_user_ratings,
        settings.process_seed if args.seed is None else args.seed,
        progress=progress,
    )
    if args.json:
        print_summary(manifest)
    else:
        m = manifest
        print(
            f"processed dataset {m['id']} from raw {m['raw_dataset']}:\n"
            f"  source rows {m['source_rows']:,}; unscored dropped {m['unscored_dropped']:,}; "
            f"duplicates dropped {m['duplicates_dropped']:,}\n"
            f"  users {m['users']:,} (>= {m['min_user_ratings']} ratings); anime {m['anime']:,}; "
            f"ratings {m['ratings']:,} = train {m['train_ratings']:,} + val {m['val_ratings']:,} "
            f"+ test {m['test_ratings']:,}\n  seed {m['seed']}; {m['duration_s']} s"
        )
    return 0


def register(subparsers: Any) -> None:
    """Adds ``ingest``, ``process`` and, when available, ``sample-data`` to the animerec CLI."""
    ingest = subparsers.add_parser(
        "ingest",
        help="validate Kaggle files in a folder and publish them to raw/",
        description="Validates the Kaggle MAL 2020 files in a folder (errors name file, line and column), "
        "streams the ratings in bounded memory up to INGESTION_MAX_ROWS and publishes them atomically, with a "
        "sha256 manifest, as raw/<id> in STORAGE_URL; raw/CURRENT then names it. With --json a failure ends "
        'with {"error": {"code", "message", "details"}} on stdout and exit code 1.',
    )
    ingest.add_argument(
        "--source",
        required=True,
        help="folder with anime.csv, anime_with_synopsis.csv and animelist.csv or rating_complete.csv",
    )
    ingest.add_argument("--max-rows", type=int, default=None, help="ratings rows kept at most (INGESTION_MAX_ROWS)")
    ingest.add_argument("--json", action="store_true", help="print the raw manifest as a last JSON line")
    ingest.set_defaults(func=_ingest)

    process = subparsers.add_parser(
        "process",
        help="turn the current raw dataset into processed/ artifacts",
        description="Turns a raw dataset into processed/<id>: drops unscored ratings and duplicates, keeps users "
        "with enough ratings, scales ratings, encodes ids and splits each user's ratings into train, val and "
        'test (seeded); Parquet files and a manifest. With --json a failure ends with {"error": ...} on stdout.',
    )
    process.add_argument(
        "--min-ratings",
        type=int,
        default=None,
        help="keep users with at least N ratings (INGESTION_MIN_USER_RATINGS, default 400)",
    )
    process.add_argument("--seed", type=int, default=None, help="split seed (INGESTION_PROCESS_SEED, default 42)")
    process.add_argument("--raw-dataset", default=None, help="raw dataset id (default raw/CURRENT)")
    process.add_argument("--json", action="store_true", help="print the processed manifest as a last JSON line")
    process.set_defaults(func=_process)

    try:
        from .sample_data import add_sample_data_command
    except ImportError:  # the sample-data module is optional
        return
    add_sample_data_command(subparsers)
