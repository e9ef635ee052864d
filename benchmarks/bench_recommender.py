"""Recommender benchmark: side by side with the seed's pandas helpers, HTTP throughput, RSS at full scale.

Run: .venv/bin/python -m benchmarks.bench_recommender [--quick]
Prints figures only (no assertions). Uses the real MAL sample in ../shared/data/mal2020, published
as a processed dataset with SVD embeddings by tests/recommender/recommender_fixtures.py (the same
files the real pipeline writes), so the seed helpers and the service run on the same model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "mal2020"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


# -- the seed's pandas helpers (docs: ../shared/docs/seed-functions.md), on the same embeddings ------
class SeedHelpers:
    def __init__(
        self,
        anime: pd.DataFrame,
        ratings: pd.DataFrame,
        ae: np.ndarray,
        ue: np.ndarray,
        anime_ids: np.ndarray,
        user_ids: np.ndarray,
    ):
        self.df = anime.rename(columns={"anime_id": "anime_id", "name": "Name", "english_name": "English name"})
        self.synopsis = anime[["anime_id", "synopsis"]]
        self.ratings, self.ae, self.ue = ratings, ae, ue
        self.anime2enc = {int(a): i for i, a in enumerate(anime_ids)}
        self.enc2anime = {i: int(a) for i, a in enumerate(anime_ids)}
        self.user2enc = {int(u): i for i, u in enumerate(user_ids)}
        self.enc2user = {i: int(u) for i, u in enumerate(user_ids)}

    def get_anime_frame(self, anime):
        if isinstance(anime, int):
            return self.df[self.df.anime_id == anime]
        return self.df[self.df["English name"] == anime]

    def find_similar_animes(self, name, n=10, neg=False):
        index = self.get_anime_frame(name).anime_id.values[0]
        encoded = self.anime2enc.get(int(index))
        dists = np.dot(self.ae, self.ae[encoded])
        sorted_dists = np.argsort(dists)
        n = n + 1
        closest = sorted_dists[:n] if neg else sorted_dists[-n:]
        rows = []
        for close in closest:
            decoded = self.enc2anime.get(int(close))
            frame = self.get_anime_frame(decoded)
            rows.append(
                {
                    "anime_id": decoded,
                    "name": frame["title"].values[0],
                    "similarity": dists[close],
                    "genre": frame["genres"].values[0],
                }
            )
        out = pd.DataFrame(rows).sort_values(by="similarity", ascending=False)
        return out[out.anime_id != index].drop(["anime_id"], axis=1)

    def find_similar_users(self, user_id, n=10):
        encoded = self.user2enc.get(int(user_id))
        dists = np.dot(self.ue, self.ue[encoded])
        closest = np.argsort(dists)[-(n + 1) :]
        rows = [{"similar_users": self.enc2user[int(c)], "similarity": dists[c]} for c in closest]
        out = pd.DataFrame(rows).sort_values(by="similarity", ascending=False)
        return out[out.similar_users != user_id]

    def get_user_preferences(self, user_id):
        watched = self.ratings[self.ratings.user_id == user_id]
        pct = np.percentile(watched.rating, 75)
        top = watched[watched.rating >= pct].sort_values(by="rating", ascending=False).anime_id.values
        return self.df[self.df["anime_id"].isin(top)][["title", "genres"]]

    def get_user_recommendations(self, similar_users, user_pref, n=10):
        recs = []
        anime_list = []
        for uid in similar_users.similar_users.values:
            pref = self.get_user_preferences(int(uid))
            pref = pref[~pref.title.isin(user_pref.title.values)]
            anime_list.append(pref.title.values)
        anime_list = pd.DataFrame(anime_list)
        sorted_list = pd.DataFrame(pd.Series(anime_list.values.ravel()).value_counts()).head(n)
        for title in sorted_list.index:
            if isinstance(title, str):
                frame = self.df[self.df.title == title]
                recs.append(
                    {"n": sorted_list.loc[title].values[0], "anime_name": title, "genres": frame.genres.values[0]}
                )
        return pd.DataFrame(recs)

    def hybrid_recommendation(self, user_id, user_weight=0.5, content_weight=0.5):
        similar = self.find_similar_users(user_id)
        pref = self.get_user_preferences(user_id)
        user_recs = self.get_user_recommendations(similar, pref)
        scores = {}
        for title in user_recs["anime_name"].tolist():
            scores[title] = scores.get(title, 0) + user_weight
        for title in user_recs["anime_name"].tolist():
            ids = self.df[self.df.title == title].anime_id.values
            if len(ids) and int(ids[0]) in self.anime2enc:
                for name in self.find_similar_animes(int(ids[0]))["name"].tolist():
                    scores[name] = scores.get(name, 0) + content_weight
        return sorted(scores, key=scores.get, reverse=True)[:10]


def timed(fn, calls: int) -> float:
    """Returns the mean milliseconds of fn() over calls."""
    start = time.perf_counter()
    for i in range(calls):
        fn(i)
    return (time.perf_counter() - start) * 1000 / calls


def wrk(url: str, lua: str, seconds: int, tmp: Path) -> dict:
    script = tmp / "paths.lua"
    script.write_text(lua)
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url], capture_output=True, text=True
    ).stdout
    rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    p99 = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("99%"))
    errors = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    return {"req_per_s": round(rps), "p99": p99, "errors": errors or "none"}


def lua_paths(paths: list[str]) -> str:
    body = ",".join(json.dumps(p) for p in paths)
    return (
        f"local paths = {{{body}}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
        f"  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n"
    )


def full_scale_rss() -> None:
    """Prints the RSS of the served arrays synthesised at full MAL scale (run in a fresh process)."""
    import psutil
    import scipy.sparse as sp

    proc = psutil.Process()
    base = proc.memory_info().rss
    rng = np.random.default_rng(0)
    n_users, n_items, dim, n_ratings, top_n = 325_772, 17_562, 128, 57_633_278, 2500
    parts = {}

    def mark(name: str) -> None:
        parts[name] = proc.memory_info().rss

    ue = rng.standard_normal((n_users, dim), dtype=np.float32)
    ae = rng.standard_normal((n_items, dim), dtype=np.float32)
    mark("embeddings")
    ease = rng.standard_normal((top_n, top_n), dtype=np.float32)
    mark("ease")
    indptr = np.linspace(0, n_ratings, n_users + 1).astype(np.int64)
    indices = rng.integers(0, n_items, n_ratings, dtype=np.int32)
    ratings = sp.csr_matrix((rng.integers(1, 11, n_ratings, dtype=np.int8), indices, indptr), shape=(n_users, n_items))
    mark("ratings csr")
    inputs = sp.csr_matrix((np.ones(n_ratings, np.float32), indices, indptr), shape=(n_users, n_items))
    content_inputs = sp.csr_matrix((np.ones(n_ratings, np.float32), indices, indptr), shape=(n_users, n_items))
    favourites = sp.csr_matrix(
        (
            np.ones(n_ratings // 3, np.float32),
            indices[: n_ratings // 3],
            np.linspace(0, n_ratings // 3, n_users + 1).astype(np.int64),
        ),
        shape=(n_users, n_items),
    )
    mark("model inputs")
    nnz = n_items * 120  # TF-IDF of genres + synopsis: ~120 terms an anime
    content = sp.csr_matrix(
        (np.ones(nnz, np.float32), rng.integers(0, 30_000, nnz).astype(np.int32), np.arange(0, nnz + 1, 120)),
        shape=(n_items, 30_000),
    )
    content_t, rated_t = content.T.tocsr(), content.T.tocsr()
    mark("content")
    k = 10  # title neighbours an anime
    franchise = sp.csr_matrix(
        (
            np.ones(n_items * k, np.float32),
            rng.integers(0, n_items, n_items * k).astype(np.int32),
            np.arange(0, n_items * k + 1, k),
        ),
        shape=(n_items, n_items),
    )
    mark("franchise")
    del ue, ae, ease, ratings, inputs, content_inputs, favourites, content, content_t, rated_t, franchise
    prev = base
    print(f"  baseline interpreter+libs: {base / 2**20:.0f} MiB")
    for k, v in parts.items():
        print(f"  + {k}: {(v - prev) / 2**20:.0f} MiB")
        prev = v
    print(
        f"  total served arrays at full scale ({n_users:,} users, {n_items:,} anime, {dim}-d float32, "
        f"{n_ratings:,} ratings, EASE top {top_n}): RSS {prev / 2**20:.0f} MiB"
    )


def main() -> None:
    warnings.simplefilter("ignore")  # the seed helpers' pandas idioms are deprecated
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer calls, shorter HTTP runs")
    ap.add_argument("--rss-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_only:
        full_scale_rss()
        return
    from threadpoolctl import threadpool_limits

    from animerec_ranking import RankingParams, cold_start_metrics, strategies_of
    from animerec_ranking.evaluation import evaluate_strategy
    from animerec_recommender.engine import recommend_for_user
    from animerec_recommender.similarity import similar_anime
    from animerec_recommender.state import build_state
    from animerec_shared.contracts.recommender import Filters
    from animerec_shared.storage import FileStorage
    from tests.recommender import recommender_fixtures as rf

    threadpool_limits(1, user_api="blas")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (timings scale with it)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-rec-"))
    try:
        storage = FileStorage(tmp / "storage")
        pid = rf.publish_real_sample(storage, REAL)
        version = f"v-bench-{os.getpid()}-{int(time.time())}"  # fresh cache keys: cold means cold
        rf.publish_svd_model(storage, pid, version)
        params = RankingParams(ease_top_n=2500)
        t = time.perf_counter()
        state = build_state(storage, version, params, {})
        print(f"== model load + tuning on val + fit (real sample, EASE top 2500): {time.perf_counter() - t:.1f}s")
        print(f"   tuned: lambda {state.ranking.params.ease_lambda}, weights {state.ranking.weights}")
        print(
            f"   val NDCG@{state.ranking.params.tune_k} per component: {state.ranking.report.get('val_ndcg')}, "
            f"hybrid {state.ranking.report.get('val_ndcg_hybrid')}"
        )

        from animerec_ranking.datasets import load_processed

        data = load_processed(storage.fetch_dir(f"processed/{pid}"))
        seen = data.matrix(data.train_part)
        print("\n== evaluation on the test holdout (real sample, min 50 ratings, relevant = rating >= 8)")
        print(f"   {'strategy':14s} {'NDCG@10':>8s} {'Recall@10':>10s} {'HR@10':>7s}")
        for name, fn in strategies_of(state.ranking).items():
            m = evaluate_strategy(fn, seen, data.test)
            print(f"   {name:14s} {m['ndcg@10']:8.4f} {m['recall@10']:10.4f} {m['hr@10']:7.4f}")
        print(
            f"   cold start (each test user known only by {state.ranking.params.cold_start_liked} liked anime; "
            f"cold-start blend {state.ranking.cold_start_weights}):"
        )
        for name, m in cold_start_metrics(state.ranking, data).items():
            print(f"   {name:14s} {m['ndcg@10']:8.4f} {m['recall@10']:10.4f} {m['hr@10']:7.4f}")

        ratings = (
            pd.concat([data.train, data.val, data.test])
            .merge(data.users, on="user_index")
            .merge(data.rated_anime[["anime_index", "anime_id"]], on="anime_index")[["user_id", "anime_id", "rating"]]
        )
        seed = SeedHelpers(
            state.meta,
            ratings,
            state.model.anime_embeddings,
            state.model.user_embeddings,
            state.model.anime_ids,
            state.model.user_ids,
        )
        rated_ids = [
            int(a)
            for a in data.anime_ids[
                np.argsort(-data.rated_anime.sort_values("anime_index")["n_ratings"].to_numpy())[:200]
            ]
        ]
        users = [int(u) for u in data.user_ids[:100]]
        calls = 20 if args.quick else 50
        f = Filters()
        print("\n== in-process latency, mean ms per call (same SVD embeddings; machine shared, timings noisy)")
        seed_sim = timed(lambda i: seed.find_similar_animes(rated_ids[i % 200]), calls)
        ours_sim = timed(lambda i: similar_anime(state, rated_ids[i % 200], "collaborative", 10, f), calls * 10)
        print(f"   similar anime      seed pandas {seed_sim:8.2f} ms   service {ours_sim:6.3f} ms")
        seed_hyb = timed(lambda i: seed.hybrid_recommendation(users[i % 100]), max(5, calls // 5))
        ours_hyb = timed(lambda i: recommend_for_user(state, users[i % 100], "hybrid", 10, f), calls * 4)
        print(f"   hybrid (10 items)  seed pandas {seed_hyb:8.2f} ms   service {ours_hyb:6.3f} ms")
        ours_cold = timed(
            lambda i: __import__("animerec_recommender.engine", fromlist=["x"]).recommend_cold_start(
                state, rated_ids[i % 50 : i % 50 + 5], [], "hybrid", 10, f
            ),
            calls * 2,
        )
        print(f"   cold start hybrid  (no seed equivalent)    service {ours_cold:6.3f} ms")

        if shutil.which("wrk") is None:
            print("\n== HTTP: wrk not installed (apt-get install wrk); skipped")
        else:
            http_bench(tmp, storage, state, rated_ids, users, args.quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n== RSS at full MAL scale (fresh process, synthesised arrays)")
    subprocess.run([sys.executable, "-m", "benchmarks.bench_recommender", "--rss-only"], cwd=REPO, check=False)


def http_bench(tmp: Path, storage, state, rated_ids: list[int], users: list[int], quick: bool) -> None:
    import httpx

    from animerec_shared.launcher import Launcher, free_port

    weights = ",".join(f"{k}={v}" for k, v in state.ranking.weights.items())
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "STORAGE_URL": storage.root.as_uri(),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "RECOMMENDER_HYBRID_WEIGHTS": weights,
        "RECOMMENDER_EASE_TOP_N": "2500",
        "RECOMMENDER_TUNE": "false",
        "RECOMMENDER_POLL_INTERVAL_SECONDS": "0",
        "LOG_LEVEL": "ERROR",
    }
    launcher = Launcher({"recommender": free_port()}, env=env, uvicorn_args={"recommender": ["--workers", "1"]})
    server = launcher.start("recommender")
    base = launcher.url("recommender")
    try:
        launcher.wait_ready(180, "recommender", step=0.5)
        secs = 3 if quick else 6
        print(
            f"\n== HTTP on loopback: uvicorn 1 worker, wrk 2 threads 32 connections, {secs}s each "
            f"(wrk shares the 2 cores)"
        )
        cold_paths = [f"/anime/{a}/similar?n={n}" for a in state.model.anime_ids[:3000] for n in (9, 11, 12)]
        np.random.default_rng(0).shuffle(cold_paths)
        print(f"   similar anime, cold cache (distinct keys): {wrk(base, lua_paths(cold_paths), secs, tmp)}")
        warm_paths = [f"/anime/{a}/similar?n=10" for a in rated_ids[:50]]
        for p in warm_paths:
            httpx.get(base + p)
        print(f"   similar anime, warm cache:                  {wrk(base, lua_paths(warm_paths), secs, tmp)}")
        rec_cold = [f"/users/{u}/recommendations?n={n}" for u in state.user_ids for n in (10, 11, 12, 13)]
        print(f"   hybrid recommendations, cold cache:         {wrk(base, lua_paths(rec_cold), secs, tmp)}")
        rec_warm = [f"/users/{u}/recommendations" for u in users[:50]]
        for p in rec_warm:
            httpx.get(base + p)
        print(f"   hybrid recommendations, warm cache:         {wrk(base, lua_paths(rec_warm), secs, tmp)}")
        rss = __import__("psutil").Process(server.pid).memory_info().rss
        print(f"   service RSS on the real sample: {rss / 2**20:.0f} MiB")
    finally:
        launcher.stop(timeout=20)


if __name__ == "__main__":
    main()
