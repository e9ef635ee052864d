"""The seed's own workload, end to end: a 5,000,000-row animelist to a promoted, served version.

Generates the 5M-row animelist (`animerec sample-data --rows 5000000 --entries-per-user 335`,
seeded), runs `animerec pipeline --source DIR --min-ratings 50` into a fresh local store and
prints its wall time, peak RSS, the time of each phase (the profile in the README) and the test
figures; then the same for the reference recipe (a git worktree of ``--reference``: the 30-epoch
recipe before this change) unless ``--no-reference``. Goals: <= 10 minutes, <= 4 GB peak RSS,
hybrid NDCG@10 within 2% of the reference.

    .venv/bin/python -m benchmarks.bench_training_scale [--rows 5000000] [--reference d36c1e5] [--no-reference]

The reference takes about 45 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.worktree import code_env, worktree

REFERENCE = "d36c1e5"  # the last commit with the 30-epoch recipe (issue 14's figures)


def _pipeline(source: Path, store: Path, code: Path | None) -> dict:
    """Returns the pipeline's JSON summary with wall seconds and the peak RSS of the run."""
    env = {
        **os.environ,
        "STORAGE_URL": store.as_uri(),
        "INGESTION_ALLOWED_ROOT": str(source.parent),
        "LOG_JSON": "false",
        "OPENBLAS_NUM_THREADS": "1",
    }
    env.pop("COMET_API_KEY", None)
    if code is not None:  # the reference's packages come first on the path (this venv's installs are editable)
        env = code_env(code, env)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "animerec_shared.cli",
            "pipeline",
            "--source",
            str(source),
            "--min-ratings",
            "50",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:  # the largest RSS of any process of the run (ingest, process, the pipeline)
        with contextlib.suppress(psutil.Error):
            peak = max(
                [peak, watched.memory_info().rss, *(c.memory_info().rss for c in watched.children(recursive=True))]
            )
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"pipeline failed ({proc.returncode})")
    summary = json.loads(out.strip().splitlines()[-1])
    return {**summary, "wall_s": seconds, "peak_gb": peak / 1e9}


def _report(label: str, s: dict) -> None:
    m = s["metrics"]
    print(
        f"{label}: {s['wall_s'] / 60:.1f} min wall to a promoted version (promoted: {s['promoted']}), "
        f"peak RSS {s['peak_gb']:.2f} GB; {s.get('users')} users, {s.get('ratings'):,} ratings",
        flush=True,
    )
    if s.get("phase_seconds"):
        print("  phases (s): " + ", ".join(f"{k} {v:.0f}" for k, v in s["phase_seconds"].items()))
    if s.get("blind_copy"):
        blind = s["blind_copy"]
        print(
            f"  val-blind copy: {blind['blind_epochs']} epochs (best {blind['blind_best_epoch']}),"
            f" final fit {s['epochs_run']} epochs, {s['samples_per_s']:,} samples/s"
        )
    print(
        "  "
        + ", ".join(
            f"{n} {m[n]['ndcg@10']:.4f}"
            for n in ("hybrid", "collaborative", "item_item", "popularity", "cold_start")
            if n in m
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--reference", default=REFERENCE, help="git revision of the reference recipe")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference run (45 minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="animerec-bench-scale-") as tmp:
        root = Path(tmp)
        source = root / "data"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "animerec_shared.cli",
                "sample-data",
                "--out",
                str(source),
                "--rows",
                str(args.rows),
                "--entries-per-user",
                "335",
                "--json",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"data: {args.rows:,}-row generated animelist (seeded) in {source}; {os.cpu_count()} CPUs", flush=True)
        new = _pipeline(source, root / "store-new", None)
        _report("this recipe", new)
        if args.no_reference:
            return 0
        with worktree(args.reference, root) as checkout:
            ref = _pipeline(source, root / "store-reference", checkout)
        _report(f"reference ({args.reference}, 30-epoch recipe)", ref)
        h_new, h_ref = new["metrics"]["hybrid"]["ndcg@10"], ref["metrics"]["hybrid"]["ndcg@10"]
        print(
            f"side by side: {new['wall_s'] / 60:.1f} vs {ref['wall_s'] / 60:.1f} min, peak RSS "
            f"{new['peak_gb']:.2f} vs {ref['peak_gb']:.2f} GB, hybrid NDCG@10 {h_new:.4f} vs {h_ref:.4f} "
            f"({100 * (h_new - h_ref) / h_ref:+.1f}%)"
        )
        print(
            f"goals: <= 10 min {'met' if new['wall_s'] <= 600 else 'NOT met'}; <= 4 GB "
            f"{'met' if new['peak_gb'] <= 4 else 'NOT met'}; within 2% of the reference "
            f"{'met' if h_new >= 0.98 * h_ref else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
