"""Benchmarks and reliability drills of the platform, run from the repository root as modules.

    .venv/bin/python -m benchmarks.run_all            # every bench_*.py in turn (`make bench`)
    .venv/bin/python -m benchmarks.bench_load         # through the gateway: old commit vs this tree (`make loadtest`)
    .venv/bin/python -m benchmarks.stack              # serve a stack on free ports until Ctrl-C

The stack helpers (``benchmarks.stack``), the load tools' drivers (``benchmarks.load``) and the fault
drills (``benchmarks.faults``) are also used by ``scripts/fuzz.py`` and ``tests/reliability``.
"""
