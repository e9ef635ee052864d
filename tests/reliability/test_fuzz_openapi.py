"""Schemathesis against every service's OpenAPI, live on loopback: no 5xx, answers as documented.

A bounded run (a few examples per operation, a fixed seed); `make fuzz` (scripts/fuzz.py) runs the
long one. The gateway is fuzzed without the admin token (its admin routes must answer 401), the
services behind it directly. Reports land in the test's tmp folder; a failure message carries the
curl lines schemathesis prints to reproduce each case.
"""

from __future__ import annotations

import os

import psutil
import pytest

from benchmarks import stack as st
from benchmarks.fuzzing import run_schemathesis

MAX_EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "5"))
ORDER = ["recommender", "explainer", "ingestion", "gateway", "training"]


def _stop_training_children(stack: st.Stack) -> None:
    """Kills the training runs the fuzzer may have started (children of our training service only)."""
    proc = stack.procs.get("training")
    if proc is None or proc.poll() is not None:
        return
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.mark.parametrize("service", ORDER)
def test_fuzz_openapi_no_server_error_and_conformant_answers(service, stack, tmp_path):
    stack.wait_ready(60)
    try:
        result = run_schemathesis(service, stack.url(service), tmp_path, max_examples=MAX_EXAMPLES, seed=1, timeout=240)
    finally:
        if service == "training":
            _stop_training_children(stack)
    print(result.line())
    assert not result.errors, result.details()
    assert result.cases > 0 and result.operations > 0, result.details()
    assert result.server_errors == [], "5xx or dropped connections:\n" + result.details()
    assert result.conformance == [], "answers outside the documented API:\n" + result.details()
    # every service is still up after the fuzzing
    assert stack.procs[service].poll() is None, stack.tail()
