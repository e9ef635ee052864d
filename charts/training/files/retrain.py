"""Scheduled retraining: starts a run through the gateway's admin API and waits for its end.

Exit status 0 only when the run succeeded, so the Job (and its alerts) tell the truth.
The admin token is read from the environment and never printed.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

TERMINAL = {"succeeded", "failed", "cancelled", "canceled"}


def log(event: str, **fields: object) -> None:
    """Prints one JSON log line."""
    print(json.dumps({"event": event, **fields}), flush=True)


def call(method: str, url: str, token: str, body: object | None = None, timeout: float = 30.0) -> dict:
    """Returns the decoded JSON answer of one admin API call."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")


def main() -> int:
    """Returns the process exit status: 0 when the triggered run succeeded."""
    base = os.environ["GATEWAY_URL"].rstrip("/")
    path = "/" + os.environ.get("RETRAIN_PATH", "/api/v1/admin/training-runs").strip("/")
    token = os.environ.get("GATEWAY_ADMIN_TOKEN", "")
    if not token:
        log("error", message="GATEWAY_ADMIN_TOKEN is empty")
        return 2
    body = json.loads(os.environ.get("RETRAIN_BODY") or "{}")
    poll = float(os.environ.get("RETRAIN_POLL_SECONDS", "30"))
    deadline = time.monotonic() + float(os.environ.get("RETRAIN_TIMEOUT_SECONDS", "21600"))
    try:
        run = call("POST", base + path, token, body)
    except urllib.error.HTTPError as exc:
        log("error", message="could not start the run", status=exc.code, body=exc.read(2000).decode(errors="replace"))
        return 1
    except (urllib.error.URLError, TimeoutError) as exc:
        log("error", message=f"gateway unreachable: {exc}")
        return 1
    run_id = run.get("id")
    if not run_id:
        log("error", message="the gateway answered without a run id", answer=run)
        return 1
    log("started", id=run_id, state=run.get("state"))
    # Runs live in the gateway pod that started them; the Service's ClientIP affinity keeps this
    # client there, so a few 404s (a pod replaced mid-run) are tolerated, not forever.
    not_found_left = int(os.environ.get("RETRAIN_NOT_FOUND_RETRIES", "5"))
    while time.monotonic() < deadline:
        time.sleep(poll)
        try:
            run = call("GET", f"{base}{path}/{run_id}", token)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and not_found_left > 0:
                not_found_left -= 1
                log("retry", id=run_id, status=404)
                continue
            if exc.code < 500:  # 401/403, or the run is gone: retrying will not help
                log("error", message="run status refused", id=run_id, status=exc.code)
                return 1
            log("retry", id=run_id, status=exc.code)
            continue
        except (urllib.error.URLError, TimeoutError) as exc:  # the gateway may be rolling out
            log("retry", id=run_id, message=str(exc))
            continue
        state = run.get("state")
        if state in TERMINAL:
            log(
                "finished",
                id=run_id,
                state=state,
                version=run.get("version"),
                promoted=run.get("promoted"),
                error=run.get("error"),
            )
            return 0 if state == "succeeded" else 1
        log("waiting", id=run_id, state=state, progress=run.get("progress"))
    log("error", message="timed out waiting for the run", id=run_id)
    return 1


if __name__ == "__main__":
    sys.exit(main())
