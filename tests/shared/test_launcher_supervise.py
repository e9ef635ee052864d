"""Issue #16 item 8: `make run` restarts a crashed service instead of stopping the whole stack.

A small supervisor process runs what scripts/run_stack.py runs once the stack is up (its signal
handling, ``run_stack.supervise`` over a :class:`Launcher`, ``run_stack.stop_services`` at the
end) with one real service, the recommender: SIGKILL of the service is logged and it answers
/healthz again within seconds; SIGTERM/SIGINT to the supervisor stops the service too; a service
that keeps crashing makes the supervisor give up, say so and exit 1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from animerec_shared.launcher import GaveUp, Launcher, RestartPolicy, free_port, port_open, wait_for
from animerec_shared.settings import REPO_ROOT

DRIVER = """
import json, signal, sys
sys.path.insert(0, {scripts!r})
import run_stack
from animerec_shared.launcher import Launcher, RestartPolicy

def on_term(*_):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, signal.default_int_handler)
launcher = None
code = 0
try:
    launcher = Launcher({{"recommender": {port}}}, logs={logs!r}, own_session=True)
    proc = launcher.start("recommender")
    run_stack.say(f"started recommender (pid {{proc.pid}})")
    code = run_stack.supervise(launcher, RestartPolicy(**json.loads(sys.argv[1])))
except KeyboardInterrupt:
    code = 0
finally:
    if launcher is not None:
        run_stack.stop_services(launcher)
        run_stack.say("stopped")
sys.exit(code)
"""


class Supervisor:
    def __init__(self, tmp_path: Path, policy: dict):
        self.port = free_port()
        self.log = tmp_path / "supervisor.log"
        script = tmp_path / "driver.py"
        script.write_text(
            DRIVER.format(scripts=str(REPO_ROOT / "scripts"), port=self.port, logs=str(tmp_path / "logs"))
        )
        env = {**os.environ, "STORAGE_URL": (tmp_path / "storage").as_uri(), "OPENBLAS_NUM_THREADS": "1"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(script), json.dumps(policy)], stdout=out, stderr=subprocess.STDOUT, env=env
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"(?:started|restarted) recommender \(pid (\d+)\)", self.text())]

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 30) -> None:
        try:
            wait_for(self.healthy, timeout, "recommender /healthz")
        except TimeoutError:
            raise AssertionError(self.text() + "".join(p.read_text() for p in self.log.parent.glob("logs/*"))) from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie not yet reaped by its (exited) parent counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1].startswith("Z")


@pytest.fixture
def supervisor(tmp_path, request):
    sup = Supervisor(tmp_path, getattr(request, "param", {}))
    yield sup
    sup.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_sigkilled_service_is_restarted_and_stopping_the_supervisor_stops_it(supervisor, stop_signal):
    supervisor.wait_healthy()
    first = supervisor.pids()[0]
    os.kill(first, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: len(supervisor.pids()) == 2, 15, "a restart")
    supervisor.wait_healthy(timeout=20)
    assert time.monotonic() - killed_at < 20
    text = supervisor.text()
    assert "[run] recommender exited with code -9; restarting in 1 s" in text, text
    assert supervisor.proc.poll() is None, text  # the supervisor kept running

    second = supervisor.pids()[1]
    assert second != first
    supervisor.proc.send_signal(stop_signal)
    assert supervisor.proc.wait(timeout=20) == 0, supervisor.text()
    assert "[run] stopped" in supervisor.text()
    wait_for(lambda: _gone(second), 5, "the service stopped with the supervisor")
    assert not port_open(supervisor.port)


@pytest.mark.parametrize("supervisor", [{"initial": 0.2, "max_crashes": 1, "window": 120}], indirect=True)
def test_a_service_that_keeps_crashing_makes_the_supervisor_give_up(supervisor):
    supervisor.wait_healthy()
    os.kill(supervisor.pids()[0], signal.SIGKILL)
    wait_for(lambda: len(supervisor.pids()) == 2, 15, "a restart")
    supervisor.wait_healthy()
    os.kill(supervisor.pids()[1], signal.SIGKILL)
    assert supervisor.proc.wait(timeout=20) == 1, supervisor.text()
    text = supervisor.text()
    assert "recommender exited with code -9: 2 crashes within 120 s; giving up on it; stopping the stack" in text
    assert "restarting in 0.2 s" in text
    assert len(supervisor.pids()) == 2
    assert not port_open(supervisor.port)


def test_backoff_doubles_up_to_the_maximum_and_forgets_old_crashes():
    policy = RestartPolicy(initial=1, maximum=30, max_crashes=10, window=300)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]

    class Dead:
        pid = 1

        def poll(self) -> int:
            return -9

    launcher = Launcher({"recommender": 1})
    said: list[str] = []
    starts: list[str] = []
    launcher.start = lambda name, wait_free=0: (starts.append(name), Dead())[1]  # type: ignore[method-assign]
    launcher.procs["recommender"] = Dead()  # type: ignore[assignment]
    launcher.supervise_once(policy, said.append, now=0)
    launcher.supervise_once(policy, said.append, now=0.5)  # still waiting
    assert starts == [] and said == ["recommender exited with code -9; restarting in 1 s"]
    launcher.supervise_once(policy, said.append, now=1)
    assert starts == ["recommender"]
    launcher.supervise_once(policy, said.append, now=1.1)
    assert said[-1] == "recommender exited with code -9; restarting in 2 s"
    launcher.supervise_once(policy, said.append, now=3.1)
    launcher.supervise_once(policy, said.append, now=1000)  # the earlier crashes left the window
    assert said[-1] == "recommender exited with code -9; restarting in 1 s"
    tight = RestartPolicy(initial=1, max_crashes=1, window=300)
    launcher.supervise_once(tight, said.append, now=1001)
    with pytest.raises(GaveUp, match="2 crashes within 300 s"):
        launcher.supervise_once(tight, said.append, now=1002)
