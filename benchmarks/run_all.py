"""Runs every benchmarks/bench_*.py in turn (`make bench`); each prints its own figures.

.venv/bin/python -m benchmarks.run_all [NAME ...]     # e.g. `load recommender` for bench_load, bench_recommender
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    only = sys.argv[1:]
    rc = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {script.name} ===", flush=True)
        rc |= subprocess.call([sys.executable, "-m", f"benchmarks.{script.stem}"], cwd=HERE.parent)
    return rc


if __name__ == "__main__":
    sys.exit(main())
