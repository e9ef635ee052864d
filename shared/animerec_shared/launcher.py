"""The one launcher of the repository: the service list, free ports, the five services as uvicorn processes.

Used by ``scripts/run_stack.py`` (``make run``), ``animerec serve``, ``benchmarks/stack.py`` (load
benchmarks, fuzzing, the reliability tests) and every test that starts a server or needs a port.

- :data:`SERVICES`: the five services in start order (upstreams first, the gateway last), the keys
  of :data:`animerec_shared.settings.SERVICE_PORTS`.
- :func:`free_port`, :func:`port_open`, :func:`wait_port`, :func:`wait_for`: loopback helpers.
- :class:`Launcher`: each service as its own ``uvicorn --factory`` subprocess on its port (the app
  comes from the ``animerec.services`` entry point), readiness through ``/readyz``, stop / SIGKILL /
  restart of one service, and stop of all of them, the gateway first; :meth:`Launcher.supervise`
  restarts a crashed service with backoff (:class:`RestartPolicy`) until told to stop, and raises
  :class:`GaveUp` when one crashes too often.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .settings import REPO_ROOT, SERVICE_PORTS, SERVICE_TOKEN_CHECKERS, SERVICE_TOKEN_HOLDERS, upstream_url_env

SERVICES: tuple[str, ...] = tuple(SERVICE_PORTS)
LOOPBACK = "127.0.0.1"
HTTP_PROTOCOL = "animerec_shared.http_protocol:HttpToolsProtocol"
T = TypeVar("T")


def free_port(host: str = LOOPBACK) -> int:
    """Returns a TCP port that is free on host (loopback by default) right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _connect_host(host: str) -> str:
    return LOOPBACK if host in ("0.0.0.0", "") else host


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    """Returns True when something accepts TCP connections on host:port (0.0.0.0 means loopback)."""
    with socket.socket() as s:
        s.settimeout(timeout)
        return s.connect_ex((_connect_host(host), port)) == 0


def wait_for(check: Callable[[], T | None], timeout: float, what: str, step: float = 0.1) -> T:
    """Returns the first truthy value of check() within timeout seconds; raises TimeoutError naming what."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not true after {timeout:.0f}s")
        time.sleep(step)


def wait_port(port: int, timeout: float = 20.0, host: str = LOOPBACK) -> None:
    """Returns once something listens on host:port; raises TimeoutError after timeout seconds."""
    wait_for(lambda: port_open(port, host), timeout, f"a listener on {host}:{port}")


def installed_services() -> dict[str, str]:
    """Returns {service name: "module:create_app"} for every installed service (entry points animerec.services)."""
    return {ep.name: ep.value for ep in entry_points(group="animerec.services")}


def uvicorn_command(app: str, port: int, host: str = LOOPBACK, extra: Iterable[str] = ()) -> list[str]:
    """Returns the argv that serves the app factory "module:create_app" with uvicorn on host:port."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        host,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        # The client address is the peer's: uvicorn would otherwise take it from X-Forwarded-For of a
        # loopback peer (its default --forwarded-allow-ips), bypassing the gateway's per-IP rate limit;
        # GATEWAY_TRUST_FORWARDED_FOR is the one switch for that header.
        "--no-proxy-headers",
        # httptools with a cap on the request head (uvicorn's httptools has none): 431 over 64 KiB.
        "--http",
        HTTP_PROTOCOL,
        *extra,
    ]


def _say(msg: str) -> None:
    print(f"[launcher] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RestartPolicy:
    """When :meth:`Launcher.supervise` restarts a service that exited: ``initial`` s after its first
    crash, twice as long after each further one (at most ``maximum`` s); it gives up on the service
    (and the stack) at crash number ``max_crashes + 1`` within ``window`` seconds.
    """

    initial: float = 1.0
    maximum: float = 30.0
    max_crashes: int = 5
    window: float = 300.0

    def delay(self, crashes: int) -> float:
        """Returns the seconds to wait before restarting after the crashes-th crash within the window."""
        return float(min(self.initial * 2 ** max(crashes - 1, 0), self.maximum))


class GaveUp(RuntimeError):
    """A supervised service crashed more than the policy allows within its window."""

    def __init__(self, name: str, code: int | None, crashes: int, window: float):
        super().__init__(f"{name} exited with code {code}: {crashes} crashes within {window:g} s; giving up on it")
        self.name, self.code, self.crashes = name, code, crashes


class Launcher:
    """Services as uvicorn subprocesses, one port each; ``stop()`` (or leaving ``with``) ends them all.

    ports: {service: port} (default: a free loopback port for every service); env: the services'
    environment (default: this process'), to which the launcher adds the upstream URLs of the services
    it starts (``GATEWAY_<SERVICE>_URL``, ``EXPLAINER_RECOMMENDER_URL``: callers find them on these
    ports whatever the environment said); logs: a folder for one ``<service>.log`` each (default:
    the services write to this process' stdout/stderr); own_session: start each service in its own
    session so that a Ctrl-C in the terminal reaches only the caller, which then stops them in order.
    """

    def __init__(
        self,
        ports: Mapping[str, int] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        host: str = LOOPBACK,
        logs: Path | None = None,
        cwd: Path = REPO_ROOT,
        uvicorn_args: Mapping[str, list[str]] | None = None,
        own_session: bool = False,
        apps: Mapping[str, str] | None = None,
        metrics_ports: Mapping[str, int] | None = None,
    ):
        self.ports = dict(ports) if ports is not None else {s: free_port() for s in SERVICES}
        self.uvicorn_args = dict(uvicorn_args or {})
        # One metrics server per process: uvicorn's --workers N would start N of them on one port, so a
        # service run with workers has none (production scales with replicas, one worker each).
        self.metrics_ports = {
            s: (metrics_ports or {}).get(s) or free_port()
            for s in self.ports
            if "--workers" not in self.uvicorn_args.get(s, [])
        }
        self.host = host
        self.env = {**(os.environ if env is None else env), **upstream_url_env({s: self.url(s) for s in self.ports})}
        # The gateway started with services that check the SERVICE_TOKEN: one random token for this run
        # unless the environment has one (a service started alone keeps its routes open, with a warning).
        if (
            not self.env.get("SERVICE_TOKEN")
            and "gateway" in self.ports
            and set(self.ports) & set(SERVICE_TOKEN_CHECKERS)
        ):
            self.env["SERVICE_TOKEN"] = secrets.token_urlsafe(32)
        self.logs = Path(logs) if logs is not None else None
        if self.logs is not None:
            self.logs.mkdir(parents=True, exist_ok=True)
        self.cwd = cwd
        self.own_session = own_session
        self.apps = {**installed_services(), **(apps or {})}
        self.procs: dict[str, subprocess.Popen] = {}
        self._crashes: dict[str, list[float]] = {}  # monotonic times of each service's recent crashes
        self._restart_at: dict[str, float] = {}  # services waiting out their backoff

    def url(self, name: str) -> str:
        """Returns the base URL of a service (loopback when it listens on 0.0.0.0)."""
        return f"http://{_connect_host(self.host)}:{self.ports[name]}"

    def metrics_url(self, name: str) -> str | None:
        """Returns the URL of a service's Prometheus metrics (its own port, not the API's; None: run with workers)."""
        port = self.metrics_ports.get(name)
        return None if port is None else f"http://{_connect_host(self.host)}:{port}/metrics"

    def app(self, name: str) -> str:
        """Returns the "module:create_app" of a service (entry point, else animerec_<name>.app)."""
        return self.apps.get(name) or f"animerec_{name}.app:create_app"

    def env_of(self, name: str) -> dict[str, str]:
        """Returns the environment a service starts with: the launcher's with its <SERVICE>_METRICS_PORT, without
        SERVICE_TOKEN for a service that neither checks nor sends it (the explainer)."""
        key = f"{name.upper()}_METRICS_PORT"
        env = {k: v for k, v in self.env.items() if k != key}
        if name in self.metrics_ports:
            env[key] = str(self.metrics_ports[name])
        if name in SERVICE_TOKEN_HOLDERS:
            return env
        return {k: v for k, v in env.items() if k != "SERVICE_TOKEN"}

    def start(self, name: str, wait_free: float = 15.0) -> subprocess.Popen:
        """Starts one service once its port is free (waits up to wait_free seconds) and returns its process."""
        port = self.ports[name]
        if wait_free > 0:
            wait_for(lambda: not port_open(port, self.host), wait_free, f"port {port} of {name} free")
        cmd = uvicorn_command(self.app(name), port, self.host, self.uvicorn_args.get(name, []))
        env = self.env_of(name)
        if self.logs is None:
            proc = subprocess.Popen(cmd, env=env, cwd=self.cwd, start_new_session=self.own_session)
        else:
            with open(self.logs / f"{name}.log", "ab") as out:  # the child keeps its own descriptor
                proc = subprocess.Popen(
                    cmd,
                    env=env,
                    cwd=self.cwd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=self.own_session,
                )
        self.procs[name] = proc
        return proc

    def start_all(self, names: Iterable[str] = SERVICES) -> None:
        """Starts the named services (default all five) in the order given."""
        for name in names:
            self.start(name)

    def dead(self) -> dict[str, int]:
        """Returns {service: exit code} of the started services that have exited."""
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def ready(self, name: str = "gateway", path: str = "/readyz") -> dict | None:
        """Returns the JSON body of a service's readiness route when it answers 200, else None."""
        try:
            r = httpx.get(f"{self.url(name)}{path}", timeout=3)
            return (r.json() or {"status": "ok"}) if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    def wait_ready(self, timeout: float = 180, name: str = "gateway", path: str = "/readyz", step: float = 0.3) -> dict:
        """Returns the readiness body of a service once it is 200 (the gateway's says every upstream is).

        Raises RuntimeError when a started service has exited, TimeoutError (with the last body and
        the logs' tails) when it is not ready in time.
        """
        last: list[Any] = [None]

        def check() -> dict | None:
            dead = self.dead()
            if dead:
                raise RuntimeError(", ".join(f"{n} exited with code {c}" for n, c in dead.items()) + self.tail())
            try:
                r = httpx.get(f"{self.url(name)}{path}", timeout=3)
                last[0] = r.text[:500]
                return (r.json() or {"status": "ok"}) if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                return None

        try:
            return wait_for(check, timeout, f"{name} ready", step=step)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc} (last answer: {last[0]}){self.tail()}") from None

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
        """Sends sig to one service and waits until it is gone (SIGKILL after timeout seconds)."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def restart(self, name: str, sig: int = signal.SIGTERM) -> subprocess.Popen:
        """Stops one service with sig and starts it again (not waiting for readiness)."""
        self.kill(name, sig)
        return self.start(name)

    def supervise_once(
        self, policy: RestartPolicy | None = None, say: Callable[[str], None] = _say, now: float | None = None
    ) -> None:
        """Restarts the services that exited once their backoff has passed (one pass, not blocking long).

        Logs ``<name> exited with code <code>; restarting in <n> s`` through say; raises GaveUp when
        a service crashed more than policy.max_crashes times within policy.window seconds.
        """
        policy = policy or RestartPolicy()
        now = time.monotonic() if now is None else now
        for name, proc in list(self.procs.items()):
            due = self._restart_at.get(name)
            if due is not None:
                if now >= due:
                    del self._restart_at[name]
                    try:
                        new = self.start(name, wait_free=5.0)
                    except (OSError, TimeoutError) as exc:  # the old process stays dead: the next pass counts it
                        say(f"{name} did not start again: {exc}")
                    else:
                        say(f"restarted {name} (pid {new.pid})")
                continue
            code = proc.poll()
            if code is None:
                continue
            crashes = [t for t in self._crashes.get(name, []) if now - t < policy.window] + [now]
            self._crashes[name] = crashes
            if len(crashes) > policy.max_crashes:
                raise GaveUp(name, code, len(crashes), policy.window)
            delay = policy.delay(len(crashes))
            say(f"{name} exited with code {code}; restarting in {delay:g} s")
            self._restart_at[name] = now + delay

    def supervise(
        self,
        policy: RestartPolicy | None = None,
        say: Callable[[str], None] = _say,
        stop: threading.Event | None = None,
        step: float = 0.2,
    ) -> None:
        """Keeps the started services running (see supervise_once) until stop is set or KeyboardInterrupt.

        Raises GaveUp when a service crashes too often; the caller then stops the rest (``stop()``).
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            self.supervise_once(policy, say)
            stop.wait(step)

    def stop(self, timeout: float = 10) -> list[str]:
        """Stops every service, the gateway first (SIGTERM, SIGKILL after timeout s); returns those killed."""
        order = list(reversed(self.procs.items()))
        for _, proc in order:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        killed = []
        for name, proc in order:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed.append(name)
                proc.kill()
                proc.wait()
        self.procs.clear()
        self._restart_at.clear()
        return killed

    def tail(self, chars: int = 1500) -> str:
        """Returns the end of every service log ('' without a logs folder)."""
        if self.logs is None:
            return ""
        return "".join(
            f"\n--- {f.name}\n{f.read_text(errors='replace')[-chars:]}" for f in sorted(self.logs.glob("*.log"))
        )

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
